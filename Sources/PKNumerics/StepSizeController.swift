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
  public let beta: Double
  public let alpha: Double
  /// `1/(q+1)`, the exponent of the plain (integral) controller used after a rejection.
  public let errorExponent: Double
  /// `ln errPrev` (kept as a logarithm: one `log` and one `exp` per step instead of two `pow`s).
  private var previousLogError = Self.logErrorFloor
  private var lastWasRejected = false
  private static let logErrorFloor = log(1e-4)

  /// `beta` 0 gives the plain (integral) controller.
  public init(errorOrder: Int, beta: Double = 0.04) {
    self.beta = beta
    errorExponent = 1.0 / Double(errorOrder + 1)
    alpha = errorExponent - 0.75 * beta
  }

  /// Forgets the error history: call after a discontinuity (a dose).
  public mutating func reset() {
    previousLogError = Self.logErrorFloor
    lastWasRejected = false
  }

  /// The step to try after an accepted step of size `h` with scaled error `error ≤ 1`.
  public mutating func accepted(stepSize h: Double, error: Double) -> Double {
    let logError = log(Swift.max(error, 1e-10))
    // safety · err^(−α) · errPrev^β
    var factor = safety * exp(-alpha * logError + beta * previousLogError)
    factor = Swift.min(maxFactor, Swift.max(minFactor, factor))
    if lastWasRejected { factor = Swift.min(factor, 1) }
    previousLogError = Swift.max(logError, Self.logErrorFloor)
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
