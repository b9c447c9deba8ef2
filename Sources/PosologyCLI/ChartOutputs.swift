import Foundation
import PKCore
import PKReport

/// `--plot FILE.svg`, `--report FILE.html`, `--chart`, `--log`, `--title` for simulate, compare
/// and plot (issue 5). `--lloq` and `--threshold`, when a command declares them, become
/// reference lines.
enum ChartOutputs {
  static let options: [OptionSpec] = [
    OptionSpec("--plot", value: "file.svg", "Draw the chart as SVG: concentration against weeks, every dose marked."),
    OptionSpec("--report", value: "file.html", "Write a self-contained HTML report: the chart, the metrics, the inputs and the command line."),
    OptionSpec("--chart", "Draw a quick chart on stderr, as wide as the terminal (COLUMNS, default 80)."),
    OptionSpec("--log", "Use a log concentration axis in charts (zero and tiny values leave through its bottom edge)."),
    OptionSpec("--title", value: "text", "Chart and report title. (default: from the regimens)"),
  ]

  /// Writes every chart output the options ask for. `series` holds one entry per regimen.
  static func write(_ o: ParsedOptions, console: Console, series: [ChartSeries], metricsCSV: String?, commandLine: [String]) throws {
    guard o.has("--plot") || o.has("--report") || o.has("--chart") else { return }
    let chartOptions = try options(o, series: series)
    if let path = o.value("--plot") {
      try TextFile.writeAtomically(SVGChart(series: series, options: chartOptions).render(), to: path)
    }
    if let path = o.value("--report") {
      let report = HTMLReport(
        series: series, options: chartOptions, metricsCSV: metricsCSV, commandLine: commandLine,
        inputs: inputs(o), generator: "posology \(Posology.version)")
      try TextFile.writeAtomically(report.render(), to: path)
    }
    if o.has("--chart") {
      let environment = ProcessInfo.processInfo.environment
      let color = console.stderrIsTerminal && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
      let chart = TerminalChart(series: series, options: chartOptions, width: terminalWidth(environment), useColor: color)
      console.err(chart.render())
    }
  }

  /// Checks, before any simulation, that every chart output path can be created.
  static func checkOutputs(_ o: ParsedOptions) throws {
    let paths = [("--plot", o.value("--plot")), ("--report", o.value("--report")), ("--output", o.value("--output"))]
      .compactMap { name, path in path.map { (name, $0) } }
    for (name, path) in paths where name != "--output" {
      guard !path.trimmingCharacters().isEmpty else {
        throw UserError("'\(name)' needs a file name", fix: "give e.g. \(name) \(name == "--plot" ? "chart.svg" : "report.html")", kind: .usage, suggestsHelp: true)
      }
      try TextFile.checkWritable(path)
    }
    for (i, a) in paths.enumerated() {
      for b in paths[(i + 1)...] where URL(fileURLWithPath: a.1).standardizedFileURL == URL(fileURLWithPath: b.1).standardizedFileURL {
        throw UserError("\(a.0) and \(b.0) both write '\(a.1)'", fix: "give them different files", kind: .usage)
      }
    }
  }

  /// The chart options from the command line: title, log axis, LLOQ and threshold lines.
  static func options(_ o: ParsedOptions, series: [ChartSeries]) throws(UserError) -> ChartOptions {
    let lloq = try o.number("--lloq", "a concentration in mg/L", exclusiveLower: 0)
    let threshold = try o.number("--threshold", "a concentration in mg/L", exclusiveLower: 0)
    return ChartOptions(title: o.value("--title") ?? defaultTitle(series), logScale: o.has("--log"), lloq: lloq, threshold: threshold)
  }

  static func defaultTitle(_ series: [ChartSeries]) -> String {
    switch series.count {
    case 0: return "Concentration over time"
    case 1: return "Concentration over time: \(series[0].label)"
    default: return "Concentration over time: \(series.count) regimens compared"
    }
  }

  /// The terminal width from `COLUMNS` (40 to 400), else 80.
  static func terminalWidth(_ environment: [String: String]) -> Int {
    guard let text = environment["COLUMNS"], let columns = Int(text.trimmingCharacters()), columns > 0 else { return 80 }
    return Swift.min(Swift.max(columns, 40), 400)
  }

  /// The options as given, one (name, value) pair each, for the report's inputs table.
  static func inputs(_ o: ParsedOptions) -> [(name: String, value: String)] {
    var out: [(name: String, value: String)] = []
    var i = 0
    let given = o.given
    while i < given.count {
      let token = given[i]
      i += 1
      if let eq = token.firstIndex(of: "="), token.hasPrefix("--") {
        out.append((String(token[..<eq]), String(token[token.index(after: eq)...])))
      } else if o.flags.contains(token) {
        out.append((token, "(set)"))
      } else if i < given.count {
        out.append((token, given[i]))
        i += 1
      } else {
        out.append((token, ""))
      }
    }
    return out
  }
}
