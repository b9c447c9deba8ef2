import Foundation
import PKCore
import Testing

@testable import PKReport

@Suite("Terminal charts")
struct ChartTerminalTests {
  /// The visible text: ANSI colour sequences removed.
  static func visible(_ s: String) -> String {
    var out = ""
    var inEscape = false
    for c in s {
      if inEscape { if c == "m" { inEscape = false }; continue }
      if c == "\u{1B}" { inEscape = true; continue }
      out.append(c)
    }
    return out
  }

  @Test(arguments: [40, 80, 132])
  func widthIsRespected(width: Int) {
    let series = [
      fixtureSeries(label: "600mg then 300mg q2w with a rather long label that must be cut", horizon: 364),
      fixtureSeries(label: "300mg q4w", loading: nil, interval: 28, horizon: 364),
    ]
    for color in [false, true] {
      let text = TerminalChart(series: series, options: ChartOptions(title: "A title " + String(repeating: "x", count: 200), lloq: 1, threshold: 20), width: width, useColor: color).render()
      let lines = Self.visible(text).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
      #expect(!lines.isEmpty)
      for line in lines { #expect(line.count <= width, "\(line.count) > \(width): \(line)") }
      #expect(text.contains(TerminalChart.loadingMark))
      #expect(text.contains(TerminalChart.doseMark))
      #expect(color == text.contains("\u{1B}["))
    }
  }

  @Test func dosesAreMarkedWhereTheyFall() {
    let s = fixtureSeries(label: "q4w", loading: nil, interval: 28, horizon: 364)
    let text = TerminalChart(series: [s], options: ChartOptions(title: "q4w"), width: 80).render()
    let doseLine = text.split(separator: "\n").first { $0.hasPrefix("doses") }
    #expect(doseLine?.filter { $0 == TerminalChart.doseMark }.count == s.doses.count)
    #expect(text.contains("doses: 300 mg ×13"))
    #expect(text.contains("weeks"))
  }

  @Test func logScaleAndZerosDoNotBreakIt() {
    let s = ChartSeries(label: "zeros", doses: [Dose(time: 0, amount: 100)], times: [0, 1, 2, 3], center: [0, .nan, 5, -1])
    let text = TerminalChart(series: [s], options: ChartOptions(title: "z", logScale: true), width: 60).render()
    #expect(text.contains("log scale"))
    #expect(text.contains(TerminalChart.doseMark) || text.contains(TerminalChart.loadingMark))
  }

  @Test func doseRuns() {
    #expect(TerminalChart.runs(DoseGroup.groups(fixtureDoses(horizon: 70))) == "600 mg (loading), 300 mg ×4")
    #expect(TerminalChart.runs([]) == "none")
  }
}
