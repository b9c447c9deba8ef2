/// The output times `t_k = k·step`, k = 0 … ⌊horizon/step + 1e-9⌋ (DESIGN §6 "Output grid"):
/// computed as `k·step`, never accumulated.
public struct OutputGrid: Sendable, Equatable {
  public let step: Double
  public let horizon: Double
  public let count: Int

  /// Most rows a grid may have.
  public static let maximumRows = 100_000_000

  public init(step: Double, horizon: Double) throws(RegimenError) {
    guard step.isFinite, step > 0 else {
      throw RegimenError("an output step of \(step) days is not possible", fix: "give --step a number greater than 0, e.g. 1")
    }
    guard horizon.isFinite, horizon > 0 else {
      throw RegimenError("a horizon of \(horizon) days is not possible", fix: "give --days or --weeks a number greater than 0")
    }
    let rows = (horizon / step + 1e-9).rounded(.down) + 1
    guard rows <= Double(Self.maximumRows) else {
      throw RegimenError(
        "the grid would have \(rows < 1e18 ? String(Int(rows)) : "over 10^18") rows, more than \(Self.maximumRows)",
        fix: "use a larger --step or a shorter horizon")
    }
    self.step = step
    self.horizon = horizon
    self.count = Int(rows)
  }

  @inlinable public func time(_ k: Int) -> Double { Double(k) * step }
  public var times: [Double] { (0..<count).map(time) }
  public var lastTime: Double { time(count - 1) }
}

/// Number formatting for CSV output (DESIGN §6 "CSV").
public enum NumberFormat {
  /// A time rounded to 9 decimals with trailing zeros (and a trailing point) dropped:
  /// 0.3 → "0.3", 14 → "14", 1/3 → "0.333333333".
  public static func time(_ t: Double) -> String {
    guard t.isFinite, Swift.abs(t) < 9e9 else { return "\(t)" }
    let scaled = Int64((Swift.abs(t) * 1e9).rounded())
    let whole = scaled / 1_000_000_000
    var fraction = String(scaled % 1_000_000_000)
    fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
    while fraction.last == "0" { fraction.removeLast() }
    let sign = t < 0 && scaled != 0 ? "-" : ""
    return fraction.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
  }

  /// A value as the shortest decimal that round-trips (Swift's `description`), "-0.0" folded to "0.0".
  @inlinable public static func value(_ v: Double) -> String { v == 0 ? "0.0" : v.description }
}
