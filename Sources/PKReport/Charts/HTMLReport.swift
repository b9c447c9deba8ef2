import PKCore

/// A self-contained HTML report: the chart as inline SVG, the metrics table (given as CSV text)
/// shown as a table and as the CSV itself, the exact inputs (options, doses) and the command line
/// that produced it. No scripts, fonts, images or style sheets from elsewhere: it opens offline.
/// The markup is also well-formed XML (XHTML-style empty elements), so XML tools can read it.
public struct HTMLReport: Sendable {
  public var series: [ChartSeries]
  public var options: ChartOptions
  public var metricsCSV: String?
  public var commandLine: [String]
  /// The options as given, in order.
  public var inputs: [(name: String, value: String)]
  /// "posology 0.1.0".
  public var generator: String

  public init(series: [ChartSeries], options: ChartOptions, metricsCSV: String?, commandLine: [String], inputs: [(name: String, value: String)] = [], generator: String = "posology") {
    self.series = series
    self.options = options
    self.metricsCSV = metricsCSV
    self.commandLine = commandLine
    self.inputs = inputs
    self.generator = generator
  }

  public func render() -> String {
    let e = SVGWriter.escape
    var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
    h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
    h += "<meta name=\"generator\" content=\"\(e(generator))\"/>\n"
    h += "<title>\(e(options.title.isEmpty ? "Posology report" : options.title))</title>\n"
    h += "<style>\n\(Self.style)</style>\n</head>\n<body>\n<main>\n"
    h += "<h1>\(e(options.title.isEmpty ? "Posology report" : options.title))</h1>\n"
    h += "<p class=\"note\">Model-based simulation for teaching and exploration, not dosing advice. Written by \(e(generator)).</p>\n"

    h += "<figure class=\"chart\">\n" + SVGChart(series: series, options: options).render(standalone: false)
    h += "<figcaption>Concentration (mg/L) against time (weeks); the triangles under the time axis mark the doses.</figcaption>\n</figure>\n"

    h += "<section id=\"metrics\">\n<h2>Metrics</h2>\n"
    if let csv = metricsCSV, !csv.isEmpty {
      h += Self.table(csv: csv)
      h += "<details><summary>The same table as CSV</summary>\n<pre class=\"csv\">\(e(csv))</pre>\n</details>\n"
    } else {
      h += "<p>No metrics were computed for this run.</p>\n"
    }
    h += "</section>\n"

    h += "<section id=\"inputs\">\n<h2>Inputs</h2>\n<h3>Command line</h3>\n"
    h += "<pre class=\"command-line\"><code>\(e(Self.shellQuoted(commandLine)))</code></pre>\n"
    if !inputs.isEmpty {
      h += "<h3>Options</h3>\n<table class=\"inputs\">\n<thead><tr><th>Option</th><th>Value</th></tr></thead>\n<tbody>\n"
      for (name, value) in inputs { h += "<tr><td><code>\(e(name))</code></td><td>\(e(value))</td></tr>\n" }
      h += "</tbody>\n</table>\n"
    }
    for s in series {
      h += "<h3>Doses: \(e(s.label))</h3>\n"
      let table = Self.doseTable(s.doses)
      h += s.doses.count > 12 ? "<details><summary>\(s.doses.count) doses</summary>\n\(table)</details>\n" : table
    }
    h += "</section>\n</main>\n</body>\n</html>\n"
    return h
  }

  static let style = """
    body { font-family: "DejaVu Sans", Verdana, Helvetica, Arial, sans-serif; color: #222; background: #fff; margin: 0; }
    main { max-width: 1000px; margin: 0 auto; padding: 1.2em; }
    h1 { font-size: 1.45em; margin: 0.3em 0; }
    h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
    h3 { font-size: 1em; margin-top: 1.2em; }
    .note { color: #555; font-size: 0.9em; }
    figure.chart { margin: 1em 0; }
    figure.chart svg { max-width: 100%; height: auto; }
    figcaption { color: #555; font-size: 0.85em; }
    table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
    th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
    td.number { text-align: right; font-variant-numeric: tabular-nums; }
    thead th { background: #f2f2f2; }
    .table-wrap { overflow-x: auto; }
    pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }

    """

  /// CSV text as an HTML table: the first line is the header; numbers are right-aligned.
  static func table(csv: String) -> String {
    let lines = TextFile.lines(csv).filter { !$0.allSatisfy(\.isWhitespace) }
    guard let header = lines.first else { return "" }
    let e = SVGWriter.escape
    var h = "<div class=\"table-wrap\">\n<table class=\"metrics\">\n<thead><tr>"
    for f in csvFields(header) { h += "<th>\(e(f))</th>" }
    h += "</tr></thead>\n<tbody>\n"
    for line in lines.dropFirst() {
      h += "<tr>"
      for f in csvFields(line) {
        h += Double(f) != nil ? "<td class=\"number\">\(e(f))</td>" : "<td>\(e(f))</td>"
      }
      h += "</tr>\n"
    }
    return h + "</tbody>\n</table>\n</div>\n"
  }

  static func doseTable(_ doses: [Dose]) -> String {
    var h = "<table class=\"doses\">\n<thead><tr><th>#</th><th>Day</th><th>Week</th><th>Amount (mg)</th><th>Route</th></tr></thead>\n<tbody>\n"
    for (i, d) in doses.enumerated() {
      h += "<tr><td class=\"number\">\(i + 1)</td><td class=\"number\">\(NumberFormat.time(d.time))</td><td class=\"number\">\(AxisTicks.readable(d.time / 7))</td>"
      h += "<td class=\"number\">\(DoseGroup.amountText(d.amount))</td><td>\(d.route.rawValue.uppercased())</td></tr>\n"
    }
    return h + "</tbody>\n</table>\n"
  }

  /// Arguments joined as a POSIX shell would need them: plain words as they are, anything else
  /// in single quotes.
  public static func shellQuoted(_ arguments: [String]) -> String {
    arguments.map { arg in
      let plain = !arg.isEmpty && arg.unicodeScalars.allSatisfy { s in
        (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || "@%+=:,./_-".unicodeScalars.contains(s)
      }
      return plain ? arg : "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }.joined(separator: " ")
  }
}
