import Foundation
import PKReport
import Testing

@testable import PosologyCLI

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `posology plot` and the chart options (`--plot`, `--report`, `--chart`).
@Suite("ChartPlotCommand")
struct ChartPlotCommandTests {
  /// A fresh temporary folder for one test.
  final class Folder {
    let path: String
    init() {
      path = NSTemporaryDirectory() + "posology-plot-" + UUID().uuidString
      try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String, _ contents: String? = nil) -> String {
      let p = path + "/" + name
      if let contents { _ = FileManager.default.createFile(atPath: p, contents: Data(contents.utf8)) }
      return p
    }
    func read(_ name: String) -> String { (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)) ?? "" }
  }

  static func posology(_ arguments: [String]) -> (code: Int32, stdout: String, stderr: String) {
    let console = CapturingConsole()
    let code = Posology.run(arguments, console: console)
    return (code, console.stdout, console.stderr)
  }

  /// Counts the elements whose class list holds `name`.
  final class ClassCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var ok = false
    init(_ text: String) {
      super.init()
      let p = XMLParser(data: Data(text.utf8))
      p.delegate = self
      ok = p.parse()
    }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
      for c in (attributes["class"] ?? "").split(separator: " ") { counts[String(c), default: 0] += 1 }
    }
  }

  /// A typical-patient CSV for "600mg then 300mg q2w" over `days` (a smooth stand-in curve).
  static func typicalCSV(days: Int = 84, regimen: String? = nil) -> String {
    var s = (regimen == nil ? "" : "regimen,") + "time_day,conc_mg_L\n"
    for d in 0...days { s += (regimen.map { "\"\($0)\"," } ?? "") + "\(d),\(d == 0 ? 0.0 : 50 + 10 * sin(Double(d)))\n" }
    return s
  }

  static func summaryCSV(days: Int = 56) -> String {
    var s = "time_day,mean,sd,p05,p25,p50,p75,p95\n"
    for d in 0...days {
      let c = d == 0 ? 0.0 : 50 + 10 * sin(Double(d))
      s += "\(d),\(c),\(c / 5),\(c * 0.5),\(c * 0.8),\(c),\(c * 1.2),\(c * 1.6)\n"
    }
    return s
  }

  @Test func typicalCurveWithRegimen() {
    let f = Folder()
    let csv = f.file("a.csv", Self.typicalCSV())
    let r = Self.posology(["plot", csv, "--regimen", "600mg then 300mg q2w", "--plot", f.file("a.svg"), "--threshold", "20", "--lloq", "0.078", "--log"])
    #expect(r.code == 0, "\(r.stderr)")
    #expect(r.stderr.isEmpty && r.stdout.isEmpty)
    let c = ClassCounter(f.read("a.svg"))
    #expect(c.ok)
    #expect(c.counts["dose"] == 6)  // days 0, 14, 28, 42, 56, 70 (before day 84)
    #expect(c.counts["loading"] == 1)
    #expect(c.counts["series"] == 1)
    #expect(c.counts["threshold"] == 1 && c.counts["lloq"] == 1)
    #expect(f.read("a.svg").contains("log scale"))
  }

  @Test func missedDosesAndLabels() {
    let f = Folder()
    let csv = f.file("a.csv", Self.typicalCSV())
    let r = Self.posology(["plot", csv, "--regimen", "600mg then 300mg q2w", "--miss", "3", "--label", "dose 3 missed", "--plot", f.file("a.svg"), "--title", "Missed"])
    #expect(r.code == 0, "\(r.stderr)")
    let svg = f.read("a.svg")
    #expect(ClassCounter(svg).counts["dose"] == 5)
    #expect(svg.contains(">dose 3 missed<") && svg.contains(">Missed<"))
  }

  @Test func eventsFile() {
    let f = Folder()
    let csv = f.file("a.csv", Self.typicalCSV())
    let events = f.file("e.csv", "time_day,amount_mg,route\n0,600,sc\n10,300,iv\n40,300,sc\n")
    let r = Self.posology(["plot", csv, "--events", events, "--plot", f.file("a.svg")])
    #expect(r.code == 0, "\(r.stderr)")
    #expect(ClassCounter(f.read("a.svg")).counts["dose"] == 3)
    #expect(f.read("a.svg").contains("300 mg IV"))
  }

  @Test func comparisonReadsItsRegimenColumn() {
    let f = Folder()
    let csv = f.file("c.csv", Self.typicalCSV(regimen: "600mg then 300mg q2w") + Self.typicalCSV(regimen: "300mg q4w").split(separator: "\n").dropFirst().joined(separator: "\n") + "\n")
    let all = Self.posology(["plot", csv, "--plot", f.file("all.svg")])
    #expect(all.code == 0, "\(all.stderr)")
    let counts = ClassCounter(f.read("all.svg")).counts
    #expect(counts["series"] == 2)
    #expect(counts["dose"] == 6 + 3)
    let one = Self.posology(["plot", csv, "--regimen", "300MG Q4W", "--plot", f.file("one.svg")])
    #expect(one.code == 0, "\(one.stderr)")
    #expect(ClassCounter(f.read("one.svg")).counts["series"] == 1)
  }

  @Test func cohortSummaryBandsReportAndTerminalChart() {
    let f = Folder()
    let csv = f.file("s.csv", Self.summaryCSV())
    let r = Self.posology(["plot", csv, "--regimen", "ad-adult", "--plot", f.file("s.svg"), "--report", f.file("s.html"), "--chart"])
    #expect(r.code == 0, "\(r.stderr)")
    let counts = ClassCounter(f.read("s.svg")).counts
    #expect(counts["band"] == 2 && counts["series"] == 1 && counts["dose"] == 4)
    let html = f.read("s.html")
    #expect(ClassCounter(html).ok)
    #expect(html.contains("<svg") && !html.contains("http://") && !html.contains("https://"))
    #expect(html.contains("posology plot"))
    // CapturingConsole is not a terminal: no colours; the chart is on stderr.
    #expect(r.stderr.contains("doses") && r.stderr.contains("▲") && !r.stderr.contains("\u{1B}["))
    #expect(r.stderr.split(separator: "\n").allSatisfy { $0.count <= 80 })
  }

  @Test(arguments: [
    (["plot"], Int32(64), "needs the CSV file"),
    (["plot", "NOFILE.csv"], 64, "needs --plot"),
    (["plot", "NOFILE.csv", "--plot", "x.svg", "--regimen", "300mg q2w"], 66, "no such file"),
    (["plot", "a.csv", "b.csv", "--plot", "x.svg"], 64, "one CSV file"),
    (["plot", "@typical", "--plot", "x.svg"], 64, "needs the regimen"),
    (["plot", "@typical", "--plot", "x.svg", "--regimen", "300mg q2w", "--regimen", "300mg q4w"], 64, "one curve"),
    (["plot", "@typical", "--plot", "x.svg", "--regimen", "300 q2w"], 64, "regimen"),
    (["plot", "@typical", "--plot", "x.svg", "--regimen", "300mg q2w", "--events", "e.csv"], 64, "both give the doses"),
    (["plot", "@typical", "--plot", "x.svg", "--regimen", "300mg q2w", "--miss", "99"], 64, "no dose 99"),
    (["plot", "@typical", "--plot", "x.svg", "--regimen", "300mg q2w", "--label", "a", "--label", "b"], 64, "--label"),
    (["plot", "@typical", "--plot", "x.svg", "--regimen", "300mg q2w", "--lloq", "-1"], 64, "--lloq"),
    (["plot", "@typical", "--plot", "x.svg", "--regimen", "300mg q2w", "--threshold", "abc"], 64, "--threshold"),
    (["plot", "@typical", "--plot", "NODIR/x.svg", "--regimen", "300mg q2w"], 73, "does not exist"),
    (["plot", "@typical", "--plot", "x.svg", "--report", "x.svg", "--regimen", "300mg q2w"], 64, "both write"),
    (["plot", "@bad", "--plot", "x.svg", "--regimen", "300mg q2w"], 65, "not a number"),
    (["plot", "@header", "--plot", "x.svg", "--regimen", "300mg q2w"], 65, "does not know"),
    (["plot", "@compare", "--plot", "x.svg", "--regimen", "300mg qw"], 64, "no regimen '300mg qw'"),
    (["plot", "@compare", "--plot", "x.svg", "--events", "e.csv"], 64, "compares 2 regimens"),
    (["plot", "@nonsense", "--plot", "x.svg"], 65, "neither regimen text nor a label preset"),
    (["plot", "@typical", "--plot", "x.svg", "--regimen", "300mg q2w", "--colour"], 64, "unknown option"),
  ] as [([String], Int32, String)])
  func badInputIsOneErrorLine(arguments: [String], code: Int32, message: String) {
    let f = Folder()
    let files: [String: String] = [
      "@typical": Self.typicalCSV(),
      "@bad": "time_day,conc_mg_L\n0,zero\n",
      "@header": "t,c\n0,1\n",
      "@compare": Self.typicalCSV(regimen: "600mg then 300mg q2w") + Self.typicalCSV(regimen: "300mg q4w").split(separator: "\n").dropFirst().joined(separator: "\n") + "\n",
      "@nonsense": Self.typicalCSV(regimen: "my favourite"),
    ]
    _ = f.file("e.csv", "time_day,amount_mg\n0,300\n")
    let args = arguments.map { a -> String in
      if let contents = files[a] { return f.file(String(a.dropFirst()) + ".csv", contents) }
      if a.hasSuffix(".svg") || a.hasSuffix(".csv") && a != "NOFILE.csv" { return f.path + "/" + a }
      return a
    }
    let r = Self.posology(args)
    #expect(r.code == code, "\(r.stderr)")
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.first?.hasPrefix("Error: ") == true)
    #expect(lines.count == 1 || (lines.count == 2 && lines[1].hasPrefix("See 'posology plot --help'")), "\(r.stderr)")
    #expect(r.stderr.contains(message), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: f.path + "/x.svg"))
  }

  @Test func helpListsTheCommand() {
    #expect(Self.posology(["--help"]).stdout.contains("plot"))
    let help = Self.posology(["plot", "--help"])
    #expect(help.code == 0 && help.stdout.contains("--plot <file.svg>") && help.stdout.contains("--lloq"))
  }

  @Test func terminalWidthFromColumns() {
    #expect(ChartOutputs.terminalWidth([:]) == 80)
    #expect(ChartOutputs.terminalWidth(["COLUMNS": "120"]) == 120)
    #expect(ChartOutputs.terminalWidth(["COLUMNS": "12"]) == 40)
    #expect(ChartOutputs.terminalWidth(["COLUMNS": "wide"]) == 80)
  }

  @Test func reportInputsPairOptionsWithValues() throws {
    let specs = ChartOutputs.options + [OptionSpec("--weight", value: "kg", "w")]
    let o = try ParsedOptions(["--weight=70", "--log", "--title", "T", "--plot", "a.svg"], specs: specs, command: "simulate")
    let pairs = ChartOutputs.inputs(o).map { "\($0.name)=\($0.value)" }
    #expect(pairs == ["--weight=70", "--log=(set)", "--title=T", "--plot=a.svg"])
  }
}
