import PKNumerics

/// The four functions the closed-form one-compartment solutions are made of, evaluated without
/// cancellation for every rate constant ≥ 0, including equal rates (ka = k) and zero rates.
/// `t ≥ 0` is an elapsed time, `a`, `b` are first-order rate constants (per time unit).
///
/// ```
/// decay(λ, t)                = e^{−λt}
/// accumulation(λ, t)         = ∫₀ᵗ e^{−λs} ds                = (1 − e^{−λt})/λ            (t when λ = 0)
/// transfer(a, b, t)          = ∫₀ᵗ e^{−a(t−s)} e^{−bs} ds    = (e^{−at} − e^{−bt})/(b − a)   (t·e^{−at} when a = b)
/// transferAccumulation(a, b, t) = ∫₀ᵗ transfer(a, b, s) ds = (accumulation(a, t) − accumulation(b, t))/(b − a)
/// ```
/// `transfer` is the divided difference of e^{−λt}; written as `t·e^{−mt}·sinh(x)/x`, with
/// `m = (a + b)/2` and `x = (b − a)t/2`, it is exact-to-rounding for close rates.
/// `transferAccumulation` is the second divided difference of e^{−λt} at 0, a, b; for close rates
/// it is the series `t²·[J₁(mt) + (δt)²/24·J₃(mt) + (δt)⁴/1920·J₅(mt)]` with `δ = b − a` and
/// `Jₙ(x) = ∫₀¹ uⁿ e^{−xu} du` (from sinh(y)/y = 1 + y²/6 + y⁴/120 + …, truncation < 4e−12 relative
/// for |δt| ≤ 0.1).
enum ExponentialIntegrals {
  @inline(__always) static func decay(_ lambda: Double, _ t: Double) -> Double { exp(-lambda * t) }

  static func accumulation(_ lambda: Double, _ t: Double) -> Double {
    let x = lambda * t
    return x == 0 ? t : -expm1(-x) / lambda
  }

  static func transfer(_ a: Double, _ b: Double, _ t: Double) -> Double {
    let half = (b - a) * t / 2
    if Swift.abs(half) > 0.5 {
      return (exp(-a * t) - exp(-b * t)) / (b - a)
    }
    let m = (a + b) / 2
    return t * exp(-m * t) * sinhc(half)
  }

  static func transferAccumulation(_ a: Double, _ b: Double, _ t: Double) -> Double {
    let delta = b - a
    let dt = delta * t
    if Swift.abs(dt) > 0.1 {
      return (accumulation(a, t) - accumulation(b, t)) / delta
    }
    let x = (a + b) / 2 * t
    let d2 = dt * dt
    return t * t * (momentIntegral(1, x) + d2 / 24 * momentIntegral(3, x) + d2 * d2 / 1920 * momentIntegral(5, x))
  }

  /// sinh(y)/y.
  static func sinhc(_ y: Double) -> Double {
    Swift.abs(y) < 1e-8 ? 1 : sinh(y) / y
  }

  /// `Jₙ(x) = ∫₀¹ uⁿ e^{−xu} du` for x ≥ 0: the alternating series Σ (−x)ʲ/(j!(n+j+1)) below
  /// x = 2, else the upward recurrence `J₀ = (1 − e^{−x})/x`, `Jₙ = (n·Jₙ₋₁ − e^{−x})/x` (which
  /// amplifies rounding by at most n!/xⁿ ≤ 3.75 for n ≤ 5, x ≥ 2).
  static func momentIntegral(_ n: Int, _ x: Double) -> Double {
    if x < 2 {
      var sum = 0.0
      var power = 1.0  // (−x)ʲ/j!
      for j in 0..<80 {
        let term = power / Double(n + j + 1)
        sum += term
        if Swift.abs(term) <= 1e-17 * Swift.abs(sum) { break }
        power *= -x / Double(j + 1)
      }
      return sum
    }
    let e = exp(-x)
    var j = -expm1(-x) / x
    if n == 0 { return j }
    for k in 1...n { j = (Double(k) * j - e) / x }
    return j
  }
}
