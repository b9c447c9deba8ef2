// Results: records and checks, rendered as console tables, CSV or JSON.
import Foundation

/// One measured figure of one scenario.
struct Record {
  var group: String
  var scenario: String
  var metric: String
  var unit: String
  var stats: Stats
  /// The scenario's settings (model, subjects, threads, method, tolerances, …), in order.
  var parameters: [(String, String)]
}

/// A pass/fail check (accuracy, determinism, process exit status); any failure fails the run.
struct Check {
  var name: String
  var passed: Bool
  var detail: String
}

final class Report {
  let machine: Machine
  let settings: [(String, String)]
  private(set) var records: [Record] = []
  private(set) var checks: [Check] = []
  private(set) var notes: [String] = []

  init(machine: Machine, settings: [(String, String)]) {
    self.machine = machine
    self.settings = settings
  }

  func add(_ group: String, _ scenario: String, _ metric: String, _ unit: String, _ stats: Stats, _ parameters: [(String, String)] = []) {
    records.append(Record(group: group, scenario: scenario, metric: metric, unit: unit, stats: stats, parameters: parameters))
  }

  func check(_ name: String, _ passed: Bool, _ detail: String) {
    checks.append(Check(name: name, passed: passed, detail: detail))
    if !passed { log("CHECK FAILED: \(name): \(detail)") }
  }

  func note(_ text: String) {
    notes.append(text)
    log("note: \(text)")
  }

  var failed: Bool { checks.contains { !$0.passed } }

  // MARK: - Console

  /// One table per group: a row per scenario, a column per metric; timings read
  /// "median (min–max)" when repeated.
  func table() -> String {
    var text = "posology-bench — \(machine.line)\n"
    text += settings.map { "\($0.0)=\($0.1)" }.joined(separator: " ") + "\n"
    var groups: [String] = []
    for r in records where !groups.contains(r.group) { groups.append(r.group) }
    groups = groups.filter { $0 != "environment" } + groups.filter { $0 == "environment" }
    for group in groups {
      let rows = records.filter { $0.group == group }
      var scenarios: [String] = [], metrics: [String] = []
      for r in rows {
        if !scenarios.contains(r.scenario) { scenarios.append(r.scenario) }
        let m = Self.heading(r)
        if !metrics.contains(m) { metrics.append(m) }
      }
      var grid = [["scenario"] + metrics]
      for s in scenarios {
        grid.append([s] + metrics.map { m in rows.first { $0.scenario == s && Self.heading($0) == m }.map(Self.cell) ?? "" })
      }
      text += "\n## \(group)\n" + Self.align(grid)
    }
    if !checks.isEmpty {
      let failed = checks.filter { !$0.passed }
      text += "\n## checks: \(checks.count - failed.count)/\(checks.count) passed\n"
      for c in failed { text += "FAILED \(c.name): \(c.detail)\n" }
    }
    for n in notes { text += "note: \(n)\n" }
    return text
  }

  static func heading(_ r: Record) -> String { r.unit.isEmpty ? r.metric : "\(r.metric) [\(r.unit)]" }

  static func cell(_ r: Record) -> String {
    let s = r.stats
    if s.runs <= 1 || s.min == s.max { return number(s.median) }
    return "\(number(s.median)) (\(number(s.min))–\(number(s.max)))"
  }

  /// Four significant digits, scientific notation outside [1e-3, 1e6).
  static func number(_ x: Double) -> String {
    if x.isNaN { return "–" }
    if x == 0 { return "0" }
    if x == x.rounded() && abs(x) < 1e9 { return String(Int(x)) }
    let a = abs(x)
    if a < 1e-3 || a >= 1e6 { return String(format: "%.2e", x) }
    let decimals = max(0, 3 - Int(log10(a).rounded(.down)))
    return String(format: "%.\(decimals)f", x)
  }

  static func align(_ rows: [[String]]) -> String {
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.enumerated().map { i, row in
      let line = row.enumerated().map { c, cell in
        c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - cell.count) + cell
      }.joined(separator: "  ")
      return i == 0 ? line + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") : line
    }.joined(separator: "\n") + "\n"
  }

  // MARK: - Files

  /// Tidy CSV: one row per record; the scenario's settings as one `k=v;k=v` field.
  func csv() -> String {
    var lines = ["group,scenario,metric,unit,median,min,max,runs,parameters"]
    for r in records {
      let fields = [r.group, r.scenario, r.metric, r.unit, Self.exact(r.stats.median), Self.exact(r.stats.min), Self.exact(r.stats.max), String(r.stats.runs),
                    r.parameters.map { "\($0.0)=\($0.1)" }.joined(separator: ";")]
      lines.append(fields.map(Self.csvField).joined(separator: ","))
    }
    for c in checks { lines.append(["check", c.name, "passed", "", c.passed ? "1" : "0", "", "", "1", c.detail].map(Self.csvField).joined(separator: ",")) }
    lines.append(["machine", machine.line, "", "", "", "", "", "", settings.map { "\($0.0)=\($0.1)" }.joined(separator: ";")].map(Self.csvField).joined(separator: ","))
    return lines.joined(separator: "\n") + "\n"
  }

  static func exact(_ x: Double) -> String { x.isNaN ? "" : x.description }

  static func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }

  func json() -> String {
    func object(_ pairs: [(String, String)]) -> [String: Any] { Dictionary(pairs, uniquingKeysWith: { $1 }) }
    func value(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
    let root: [String: Any] = [
      "machine": ["cpu": machine.cpu, "cores": machine.cores, "swift": machine.swift, "kernel": machine.kernel, "date": machine.date, "build": machine.build],
      "settings": object(settings),
      "results": records.map { r -> [String: Any] in
        ["group": r.group, "scenario": r.scenario, "metric": r.metric, "unit": r.unit, "median": value(r.stats.median),
         "min": value(r.stats.min), "max": value(r.stats.max), "runs": r.stats.runs, "parameters": object(r.parameters)]
      },
      "checks": checks.map { ["name": $0.name, "passed": $0.passed, "detail": $0.detail] as [String: Any] },
      "notes": notes,
    ]
    let data = (try? JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}

/// Progress and notes go to stderr so stdout holds only the results.
func log(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}
