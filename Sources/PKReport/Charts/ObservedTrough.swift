import PKCore

/// The steady-state trough read off a curve, for charts drawn from a CSV (where no metrics are at
/// hand): the pre-dose concentration at the last dose, when the last three doses are equal and
/// equally spaced, dosing goes on to the end of the curve, and the troughs before those doses
/// agree within 2 %. Otherwise `nil` (no steady state in view).
public enum ObservedTrough {
  public static func estimate(doses: [Dose], times: [Double], values: [Double]) -> Double? {
    let n = Swift.min(times.count, values.count)
    let groups = DoseGroup.groups(doses)
    guard groups.count >= 4, n >= 2, let lastTime = groups.last?.time, lastTime <= times[n - 1] else { return nil }
    let tail = groups.suffix(4)
    let amounts = tail.map { $0.doses.reduce(0) { $0 + $1.amount } }
    guard Set(amounts).count == 1 else { return nil }
    let gaps = zip(tail.dropFirst(), tail).map { $0.time - $1.time }
    guard let gap = gaps.first, gap > 0, gaps.allSatisfy({ Swift.abs($0 - gap) <= 1e-6 * gap }) else { return nil }
    // Dosing must go on to the end of the curve (no washout after the last dose).
    guard times[n - 1] - lastTime <= 1.5 * gap else { return nil }
    let troughs = tail.dropFirst().map { value(at: $0.time, times: times.prefix(n), values: values.prefix(n)) }
    guard let last = troughs.last, let low = troughs.compactMap({ $0 }).min(), let high = troughs.compactMap({ $0 }).max(),
      troughs.allSatisfy({ $0 != nil }), let lastValue = last, low > 0, high / low - 1 <= 0.02
    else { return nil }
    return lastValue
  }

  /// The value at time `t`: the row at `t` (which holds the value just before a dose there),
  /// else interpolated linearly between the rows around it.
  static func value(at t: Double, times: ArraySlice<Double>, values: ArraySlice<Double>) -> Double? {
    guard let first = times.first, let last = times.last, t >= first, t <= last else { return nil }
    var lo = times.startIndex, hi = times.endIndex - 1
    while hi - lo > 1 {
      let mid = (lo + hi) / 2
      if times[mid] <= t { lo = mid } else { hi = mid }
    }
    if times[lo] == t { return values[lo].isFinite ? values[lo] : nil }
    if times[hi] == t { return values[hi].isFinite ? values[hi] : nil }
    let span = times[hi] - times[lo]
    guard span > 0 else { return nil }
    let v = values[lo] + (values[hi] - values[lo]) * (t - times[lo]) / span
    return v.isFinite ? v : nil
  }
}
