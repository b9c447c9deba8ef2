import PKNumerics

/// Extremes and threshold crossings of a smooth function on an interval, from the solver's
/// continuous extension (no extra right-hand-side evaluations).
enum PeakSearch {
  /// Maximum of `f` on `[a, b]`: the best of 9 equally spaced samples, refined by golden-section
  /// search around it (to 1e-10 of the interval in t; the value error is then ~1e-20 relative for
  /// a smooth peak).
  static func maximum(on a: Double, _ b: Double, _ f: (Double) -> Double) -> (t: Double, value: Double) {
    let samples = 8
    var bestT = a, bestV = f(a)
    for i in 1...samples {
      let t = i == samples ? b : a + (b - a) * Double(i) / Double(samples)
      let v = f(t)
      if v > bestV { bestV = v; bestT = t }
    }
    let width = (b - a) / Double(samples)
    var lo = Swift.max(a, bestT - width), hi = Swift.min(b, bestT + width)
    let ratio = (5.0.squareRoot() - 1) / 2
    var x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo)
    var f1 = f(x1), f2 = f(x2)
    var iterations = 0
    while hi - lo > 1e-10 * Swift.max(b - a, 1e-300) && iterations < 80 {
      iterations += 1
      if f1 < f2 { lo = x1; x1 = x2; f1 = f2; x2 = lo + ratio * (hi - lo); f2 = f(x2) }
      else { hi = x2; x2 = x1; f2 = f1; x1 = hi - ratio * (hi - lo); f1 = f(x1) }
    }
    let t = (lo + hi) / 2
    let v = f(t)
    return v > bestV ? (t, v) : (bestT, bestV)
  }

  /// Time within `[a, b]` where `f` spends above `level`, locating crossings by bisection between
  /// 9 samples (a curve that crosses twice between two samples is rare at solver step sizes).
  static func timeAbove(_ level: Double, on a: Double, _ b: Double, _ f: (Double) -> Double) -> Double {
    let samples = 8
    var total = 0.0
    var t0 = a, v0 = f(a)
    for i in 1...samples {
      let t1 = i == samples ? b : a + (b - a) * Double(i) / Double(samples)
      let v1 = f(t1)
      let above0 = v0 > level, above1 = v1 > level
      if above0 && above1 { total += t1 - t0 }
      else if above0 != above1 {
        var lo = t0, hi = t1
        for _ in 0..<60 {
          let mid = (lo + hi) / 2
          if (f(mid) > level) == above0 { lo = mid } else { hi = mid }
        }
        total += above0 ? lo - t0 : t1 - hi
      }
      t0 = t1; v0 = v1
    }
    return total
  }
}
