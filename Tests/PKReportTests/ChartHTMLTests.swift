import Foundation
import PKCore
import Testing

@testable import PKReport

@Suite("HTML chart reports")
struct ChartHTMLTests {
  static let metrics = "regimen,cmin_ss_mg_L,auc_0_28_mg_d_L\n\"600mg then 300mg q2w\",73.4,2480.5\n300mg q4w,16.1,1200\n"

  func report() -> String {
    let series = [fixtureSeries(label: "600mg then 300mg q2w", horizon: 364, bands: true), fixtureSeries(label: "300mg q4w", loading: nil, interval: 28, horizon: 364)]
    return HTMLReport(
      series: series, options: ChartOptions(title: "Report <test>", threshold: 20), metricsCSV: Self.metrics,
      commandLine: ["posology", "compare", "--regimen", "600mg then 300mg q2w", "--regimen", "300mg q4w", "--report", "r.html", "--title", "it's"],
      inputs: [("--regimen", "600mg then 300mg q2w"), ("--regimen", "300mg q4w")], generator: "posology test"
    ).render()
  }

  @Test func selfContainedAndWellFormed() {
    let html = report()
    let doc = ParsedSVG(html)
    #expect(doc.error == nil, "\(String(describing: doc.error))")
    #expect(doc.root?.name == "html")
    #expect(!html.contains("http://") && !html.contains("https://"))
    for attribute in ["src", "href", "xlink:href"] {
      #expect(doc.elements.allSatisfy { $0.attributes[attribute] == nil }, "\(attribute) found")
    }
    #expect(doc.all("script").isEmpty && doc.all("link").isEmpty)
    #expect(doc.all("meta").contains { $0.attributes["charset"]?.lowercased() == "utf-8" })
  }

  @Test func holdsTheChartTheMetricsAndTheCommandLine() {
    let html = report()
    let doc = ParsedSVG(html)
    #expect(doc.all("svg").count == 1)
    #expect(doc.all("path", class: "series").count == 2)
    #expect(doc.all("path", class: "dose").count == 26 + 13)
    let metricsCells = doc.elements.filter { $0.name == "td" && $0.inherited.contains("metrics") }.map(\.text)
    #expect(metricsCells.contains("73.4") && metricsCells.contains("600mg then 300mg q2w"))
    #expect(doc.elements.filter { $0.name == "th" && $0.inherited.contains("metrics") }.map(\.text) == ["regimen", "cmin_ss_mg_L", "auc_0_28_mg_d_L"])
    #expect(html.contains("posology compare --regimen &#39;600mg then 300mg q2w&#39; --regimen &#39;300mg q4w&#39; --report r.html --title &#39;it&#39;\\&#39;&#39;s&#39;"))
    #expect(html.contains("regimen,cmin_ss_mg_L"))
    #expect(doc.all("title").first?.text == "Report <test>")
  }

  @Test func withoutMetrics() {
    let html = HTMLReport(series: [], options: ChartOptions(title: ""), metricsCSV: nil, commandLine: ["posology", "plot", "a.csv"]).render()
    #expect(ParsedSVG(html).error == nil)
    #expect(html.contains("No metrics"))
  }

  @Test func shellQuoting() {
    #expect(HTMLReport.shellQuoted(["posology", "simulate", "--regimen", "600mg then 300mg q2w", "--title", "it's", ""]) == "posology simulate --regimen '600mg then 300mg q2w' --title 'it'\\''s' ''")
  }
}
