/// Proportional–integral ("Lund-stabilised") step-size control, as in Hairer's DOPRI5.
///
/// After a step with scaled error `err` (accept when `err ≤ 1`), the next step is
/// `h · clamp(safety · err^(−α) · errPrev^(β), minFactor, maxFactor)` with `α = 1/(q+1) − 0.75 β`
/// where `q` is the order of the error estimate. After a rejection the step may not grow.
/// Source: Hairer, Nørsett & Wanner, *Solving ODEs I* (1993), §II.4, eq. (4.13) and code DOPRI5
/// (`beta = 0.04`, `fac1 = 0.2`, `fac2 = 10`, `safe = 0.9`).
public struct StepSizeController: Sendable {
  public var safety = 0.9
  public var minFactor = 0.2
  public var maxFactor = 10.0
  public var beta = 0.04
  public let alpha: Double
  /// `1/(q+1)`, the exponent of the plain (integral) controller used after a rejection.
  public let errorExponent: Double
  private var previousError = 1e-4
  private var lastWasRejected = false

  public init(errorOrder: Int) {
    errorExponent = 1.0 / Double(errorOrder + 1)
    alpha = errorExponent - 0.75 * beta
  }

  /// Forgets the error history: call after a discontinuity (a dose).
  public mutating func reset() {
    previousError = 1e-4
    lastWasRejected = false
  }

  /// The step to try after an accepted step of size `h` with scaled error `error ≤ 1`.
  public mutating func accepted(stepSize h: Double, error: Double) -> Double {
    let err = Swift.max(error, 1e-10)
    var factor = safety * pow(err, -alpha) * pow(previousError, beta)
    factor = Swift.min(maxFactor, Swift.max(minFactor, factor))
    if lastWasRejected { factor = Swift.min(factor, 1) }
    previousError = Swift.max(error, 1e-4)
    lastWasRejected = false
    return h * factor
  }

  /// The step to retry after a rejected step of size `h` with scaled error `error > 1` (or NaN).
  public mutating func rejected(stepSize h: Double, error: Double) -> Double {
    lastWasRejected = true
    guard error.isFinite else { return h * minFactor }
    let factor = Swift.max(minFactor, safety * pow(error, -errorExponent))
    return h * Swift.min(factor, 0.9)
  }
}
