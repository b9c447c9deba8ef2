import Foundation
import PKCore
import Testing

@testable import PKReport

@Suite("SVG charts")
struct ChartSVGTests {
  @Test func oneWeekHorizonWithOneDose() {
    let s = fixtureSeries(label: "600mg then 300mg q2w", horizon: 7, step: 0.1)
    #expect(s.doses.count == 1)
    let svg = SVGChart(series: [s], options: ChartOptions(title: "One week")).render()
    let doc = checkStructure(svg, series: [s])
    let xLabels = doc.texts(inside: "x")
    #expect(xLabels.contains("3d"))
    #expect(xLabels.contains("1w"))
    #expect(doc.all("text", class: "dose-label").map(\.text) == ["600 mg"])
  }

  @Test func twoYearsOfWeeklyDosesStayReadable() {
    let s = fixtureSeries(label: "600mg then 300mg qw", interval: 7, horizon: 728)
    #expect(s.doses.count == 104)
    let svg = SVGChart(series: [s], options: ChartOptions(title: "Two years, weekly")).render()
    let doc = checkStructure(svg, series: [s])
    // One marker per dose, but only a couple of labels: the loading dose and the run of 300 mg.
    let labels = doc.all("text", class: "dose-label").map(\.text)
    #expect(labels == ["600 mg", "300 mg ×103"])
    // Markers are thinned, not overlapping: each narrower than the gap between doses.
    let markers = doc.all("path", class: "dose").filter { !$0.classes.contains("loading") }
    let xs = markers.map { ParsedSVG.pathPoints($0.attributes["d"] ?? "").map(\.0) }
    let gap = (xs[1].min() ?? 0) - (xs[0].min() ?? 0)
    let width = (xs[0].max() ?? 0) - (xs[0].min() ?? 0)
    #expect(width > 0 && width < gap)
    // Week ticks line up with quarters or 8-week steps, and end at 104.
    let ticks = doc.texts(inside: "x").compactMap(Double.init)
    #expect(ticks.last == 104)
    #expect(ticks.count >= 5 && ticks.count <= 15)
  }

  @Test func oneRegimen() {
    let s = fixtureSeries(label: "300mg q4w", loading: nil, interval: 28, horizon: 364)
    let svg = SVGChart(series: [s], options: ChartOptions(title: "q4w")).render()
    let doc = checkStructure(svg, series: [s])
    #expect(doc.all(class: "loading").isEmpty)
    #expect(doc.all("path", class: "series").first?.attributes["stroke"] == ChartPalette.style(0).color)
  }

  @Test func eightRegimensGetEightStylesAndRows() {
    let series: [ChartSeries] = (0..<8).map { (i: Int) -> ChartSeries in
      let loading: Double? = i % 2 == 0 ? 600 : nil
      let dose = Double(100 + 50 * i)
      let interval = Double(7 * (1 + i % 4))
      return fixtureSeries(label: "regimen \(i + 1)", loading: loading, dose: dose, interval: interval, horizon: 364)
    }
    let svg = SVGChart(series: series, options: ChartOptions(title: "Eight", lloq: 0.078, threshold: 20)).render()
    let doc = checkStructure(svg, series: series)
    let paths = doc.all("path", class: "series")
    let looks = Set(paths.map { "\($0.attributes["stroke"] ?? "") \($0.attributes["stroke-dasharray"] ?? "")" })
    #expect(looks.count == 8)
    #expect(doc.all("line", class: "dose-row-key").count == 8)
    #expect(doc.all("line", class: "lloq").count == 1)
    #expect(doc.all("line", class: "threshold").count == 1)
  }

  @Test func logAxisClipsZerosNegativesAndGaps() {
    var s = fixtureSeries(label: "with zeros", horizon: 84)
    s.center[5] = 0
    s.center[6] = -1e-12
    s.center[7] = .nan
    s.center[8] = .infinity
    s.steadyStateTrough = 0
    let svg = SVGChart(series: [s], options: ChartOptions(title: "Log", logScale: true, lloq: 1e-3)).render()
    let doc = checkStructure(svg, series: [s])
    let labels = doc.texts(inside: "y")
    #expect(labels.contains("0.001"))
    #expect(labels.contains("100"))
    // The NaN leaves a gap: the path starts anew.
    let d = doc.all("path", class: "series").first?.attributes["d"] ?? ""
    #expect(d.filter { $0 == "M" }.count == 2)
  }

  @Test func logAxisWithOnlyZeros() {
    let s = ChartSeries(label: "nothing", doses: [Dose(time: 0, amount: 1)], times: [0, 1, 2], center: [0, 0, 0])
    let svg = SVGChart(series: [s], options: ChartOptions(title: "Zeros", logScale: true)).render()
    _ = checkStructure(svg, series: [s])
    let linear = SVGChart(series: [s], options: ChartOptions(title: "Zeros")).render()
    _ = checkStructure(linear, series: [s])
  }

  @Test func cohortBandsAndTrough() {
    var a = fixtureSeries(label: "q2w cohort", horizon: 364, bands: true)
    a.steadyStateTrough = 50
    var b = fixtureSeries(label: "q4w cohort", interval: 28, horizon: 364, bands: true)
    b.steadyStateTrough = 20
    let svg = SVGChart(series: [a, b], options: ChartOptions(title: "Cohorts")).render()
    let doc = checkStructure(svg, series: [a, b])
    #expect(doc.all("path", class: "outer").count == 2)
    #expect(doc.all("path", class: "inner").count == 2)
    #expect(doc.all("line", class: "trough").count == 2)
    #expect(doc.texts(inside: "reference-labels").contains("trough 50"))
    #expect(doc.texts(inside: "legend").contains { $0.contains("25–75 %") })
  }

  @Test func textIsEscaped() {
    let s = fixtureSeries(label: "A<B & \"C\" 'D'", horizon: 28)
    let svg = SVGChart(series: [s], options: ChartOptions(title: "<script>&")).render()
    let doc = checkStructure(svg, series: [s])
    #expect(doc.all("title").first?.text == "<script>&")
    #expect(!svg.contains("<script>"))
  }

  @Test func longCurvesAreThinnedPerPixel() {
    let s = fixtureSeries(label: "fine grid", horizon: 728, step: 0.01)
    #expect(s.times.count > 70_000)
    let svg = SVGChart(series: [s], options: ChartOptions(title: "Fine")).render()
    let doc = checkStructure(svg, series: [s])
    let points = ParsedSVG.pathPoints(doc.all("path", class: "series").first?.attributes["d"] ?? "")
    #expect(points.count < 4 * 960)
    #expect(svg.utf8.count < 200_000)
    // The thinning keeps the highest peak.
    let top = points.map(\.1).min() ?? 0
    let area = doc.plotArea
    let peak = s.center.max() ?? 0
    let axis = ValueAxis.fit([s], options: ChartOptions(title: ""), tickCount: 6)
    if let area { #expect(abs(top - (area.y + area.height - peak / axis.upper * area.height)) < 0.6) }
  }

  @Test func sameTimeDosesAreSeparateMarkers() {
    let doses = [Dose(time: 0, amount: 300), Dose(time: 0, amount: 300), Dose(time: 14, amount: 300), Dose(time: 28, amount: 300, route: .iv)]
    let times = Array(stride(from: 0.0, through: 42, by: 1))
    let s = ChartSeries(label: "split loading", doses: doses, times: times, center: fixtureCurve(doses: doses, times: times))
    let svg = SVGChart(series: [s], options: ChartOptions(title: "Split")).render()
    let doc = checkStructure(svg, series: [s])
    let labels = doc.all("text", class: "dose-label").map(\.text)
    #expect(labels.contains("300+300 mg"))
    #expect(labels.contains("300 mg IV"))
  }

  @Test func emptyAndDegenerateInputs() {
    let empty = SVGChart(series: [], options: ChartOptions(title: "")).render()
    _ = checkStructure(empty, series: [])
    let single = ChartSeries(label: "one point", doses: [], times: [0], center: [5])
    _ = checkStructure(SVGChart(series: [single], options: ChartOptions(title: "x")).render(), series: [single])
  }
}

@Suite("Chart axes")
struct ChartAxisTests {
  @Test func niceSteps() {
    #expect(AxisTicks.niceStep(0.13) == 0.2)
    #expect(AxisTicks.niceStep(23) == 25)
    #expect(AxisTicks.niceStep(70) == 100)
    #expect(AxisTicks.linear(upTo: 97, count: 5) == [0, 20, 40, 60, 80, 100])
    #expect(AxisTicks.linear(upTo: 0).last == 1)
  }

  @Test func weekTicks() {
    #expect(AxisTicks.weeks(from: 0, to: 52, count: 14).step == 4)
    #expect(AxisTicks.weeks(from: 0, to: 104, count: 14).step == 8)
    #expect(AxisTicks.weeks(from: 0, to: 104, count: 6).step == 26)
    let week = AxisTicks.weeks(from: 0, to: 1, count: 14)
    #expect(week.style == .weeksAndDays && week.ticks.count == 8)
    #expect(AxisTicks.timeLabel(10.0 / 7, step: 1.0 / 7, style: .weeksAndDays) == "1w 3d")
    #expect(AxisTicks.weeks(from: 0, to: 0.5 / 7, count: 5).style == .days)
  }

  @Test func labels() {
    #expect(AxisTicks.label(2.5, step: 2.5) == "2.5")
    #expect(AxisTicks.label(40, step: 20) == "40")
    #expect(AxisTicks.label(0.05, step: 0.05) == "0.05")
    #expect(AxisTicks.logLabel(0.001) == "0.001")
    #expect(AxisTicks.logLabel(1000) == "1000")
    #expect(AxisTicks.logLabel(1e-6) == "1e-6")
    #expect(AxisTicks.readable(73.4123) == "73.4")
    #expect(AxisTicks.readable(0.078) == "0.078")
  }

  @Test func logAxisLimitsItsDecades() {
    let s = ChartSeries(label: "washout", doses: [], times: [0, 1, 2, 3], center: [100, 1, 1e-9, 0])
    let axis = ValueAxis.fit([s], options: ChartOptions(title: "", logScale: true))
    #expect(axis.upper == 100)
    #expect(axis.lower == 1e-3)
    #expect(axis.fraction(0) == 0)
    #expect(axis.fraction(1e-9) == 0)
    #expect(axis.fraction(.nan) == nil)
    let withLLOQ = ValueAxis.fit([s], options: ChartOptions(title: "", logScale: true, lloq: 1e-5))
    #expect(withLLOQ.lower == 1e-5)
  }
}
