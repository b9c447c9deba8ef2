import Foundation
import PKCore
import PKReport
import Testing

/// `actual` within `max(abs, rel·max(|actual|, |expected|))` of `expected`; NaN never passes.
func expectClose(
  _ actual: Double, _ expected: Double, rel: Double = 0, abs absTol: Double = 0, _ what: @autoclosure () -> String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let scale = max(Swift.abs(actual), Swift.abs(expected))
  let ok = actual == expected || Swift.abs(actual - expected) <= max(absTol, rel * scale)
  if !ok {
    Issue.record("\(what()) \(actual) is not within rel \(rel) / abs \(absTol) of \(expected)", sourceLocation: sourceLocation)
  }
}

enum Fixtures {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// A reference curve: (time, concentration) rows.
  static func curve(_ name: String) throws -> [(Double, Double)] {
    let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    return text.split(separator: "\n").dropFirst().map { line in
      let f = line.split(separator: ",")
      return (Double(f[0])!, Double(f[1])!)
    }
  }

  static let library: ProfileLibrary = {
    try! ProfileLibrary.load(directory: packageRoot.appendingPathComponent("Profiles").path)
  }()

  static func model(_ name: String) -> PopulationModel { try! library.model(named: name) }
}

/// 600 mg at day 0, then 300 mg every 14 days before `horizon`.
func labelDoses(loading: Double = 600, maintenance: Double = 300, interval: Double = 14, horizon: Double = 364) -> [Dose] {
  try! Regimen.flags(loading: loading, dose: maintenance, interval: interval, doses: nil).doses(horizon: horizon)
}
