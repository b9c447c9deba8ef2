import PKNumerics

/// How late a patient takes each dose, in a cohort with `--delay-dist` (days, ≥ 0).
public enum DelayDistribution: Sendable, Equatable {
  /// Uniform on [a, b].
  case uniform(Double, Double)
  /// Exponential with the given mean (most doses a little late, a few very late).
  case exponential(mean: Double)

  /// Parses `uniform:A,B` or `exponential:MEAN` (days).
  public static func parse(_ text: String) throws(RegimenError) -> DelayDistribution {
    let fix = "write it like uniform:0,3 or exponential:1.5 (days)"
    let lower = text.lowercased().filter { !$0.isWhitespace }
    let parts = lower.split(separator: ":", maxSplits: 1)
    guard parts.count == 2 else { throw RegimenError("the delay distribution '\(text)' is unknown", fix: fix) }
    let numbers = parts[1].split(separator: ",", omittingEmptySubsequences: false).map { Double(String($0)) }
    guard numbers.allSatisfy({ $0 != nil && $0!.isFinite }) else {
      throw RegimenError("the delay distribution '\(text)' has a value that is not a number", fix: fix)
    }
    switch (parts[0], numbers.count) {
    case ("uniform", 2):
      let a = numbers[0]!, b = numbers[1]!
      guard a >= 0, b >= a, b <= 365 else { throw RegimenError("uniform:\(a),\(b) is not a delay range", fix: "give 0 ≤ A ≤ B ≤ 365 days") }
      return .uniform(a, b)
    case ("exponential", 1):
      let m = numbers[0]!
      guard m > 0, m <= 365 else { throw RegimenError("an exponential delay with mean \(m) days is not possible", fix: "give a mean in (0, 365] days") }
      return .exponential(mean: m)
    default:
      throw RegimenError("the delay distribution '\(text)' is unknown", fix: fix)
    }
  }

  /// The delay at cumulative probability `u` ∈ (0, 1] (inverse CDF).
  public func quantile(_ u: Double) -> Double {
    switch self {
    case .uniform(let a, let b): return a + (b - a) * u
    case .exponential(let mean): return -mean * log(Swift.max(1 - u, 1e-300))  // u = 1 gives the 1e-300 tail, finite
    }
  }
}
