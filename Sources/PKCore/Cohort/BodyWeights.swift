import PKNumerics

/// How a cohort's body weights are drawn (DESIGN §6 "Cohorts").
public enum BodyWeights: Sendable, Equatable {
  /// Everyone weighs the same (`--weight`, the default).
  case fixed(Double)
  /// Normal(mean, sd) truncated to [min, max] by rejection (`--weight-dist normal:MEAN,SD[,MIN,MAX]`).
  case truncatedNormal(mean: Double, sd: Double, min: Double, max: Double)
  /// One weight per patient, from `--covariates FILE`.
  case perPatient([Double])

  /// Parses `normal:MEAN,SD[,MIN,MAX]`. Defaults: MIN = max(mean − 4 sd, 1 kg), MAX = mean + 4 sd.
  public static func parse(_ text: String) throws(RegimenError) -> BodyWeights {
    let fix = "write it like normal:75,15 or normal:75,15,40,150 (kg)"
    let lower = text.lowercased()
    guard lower.hasPrefix("normal:") else { throw RegimenError("the weight distribution '\(text)' is unknown", fix: fix) }
    let numbers = lower.dropFirst(7).split(separator: ",", omittingEmptySubsequences: false).map { Double(String($0).filter { !$0.isWhitespace }) }
    guard numbers.count == 2 || numbers.count == 4, numbers.allSatisfy({ $0 != nil && $0!.isFinite }) else {
      throw RegimenError("the weight distribution '\(text)' is not normal:MEAN,SD[,MIN,MAX]", fix: fix)
    }
    let mean = numbers[0]!, sd = numbers[1]!
    let lo = numbers.count == 4 ? numbers[2]! : Swift.max(mean - 4 * sd, 1)
    let hi = numbers.count == 4 ? numbers[3]! : mean + 4 * sd
    guard mean > 0, mean <= 700, sd >= 0, sd <= 500 else { throw RegimenError("normal:\(mean),\(sd) is not a plausible body weight distribution", fix: "give a mean in (0, 700] kg and an SD in [0, 500] kg") }
    guard lo > 0, hi <= 700, lo <= hi else { throw RegimenError("the weight bounds [\(lo), \(hi)] kg are not possible", fix: "give 0 < MIN ≤ MAX ≤ 700 kg") }
    if sd == 0 {
      guard mean >= lo && mean <= hi else { throw RegimenError("the weight \(mean) kg lies outside [\(lo), \(hi)]", fix: "widen the bounds") }
    } else {
      // Rejection sampling must be able to succeed: require P(MIN ≤ X ≤ MAX) ≥ 1e-4.
      let mass = 0.5 * (erfc(-(hi - mean) / (sd * 2.0.squareRoot())) - erfc(-(lo - mean) / (sd * 2.0.squareRoot())))
      guard mass >= 1e-4 else {
        throw RegimenError("almost no weight drawn from normal:\(mean),\(sd) lies within [\(lo), \(hi)] kg", fix: "move the bounds towards the mean")
      }
    }
    return .truncatedNormal(mean: mean, sd: sd, min: lo, max: hi)
  }

  /// The weight of `patient` (0-based), from its own weight stream.
  public func weight(patient: Int, streams: PatientStreams) -> Double {
    switch self {
    case .fixed(let w): return w
    case .perPatient(let list): return list[patient]
    case .truncatedNormal(let mean, let sd, let lo, let hi):
      if sd == 0 { return mean }
      var normals = streams.normals(.weight)
      for _ in 0..<1_000_000 {
        let w = mean + sd * normals.next()
        if w >= lo && w <= hi { return w }
      }
      return Swift.min(Swift.max(mean, lo), hi)  // unreachable with mass ≥ 1e-4
    }
  }
}
