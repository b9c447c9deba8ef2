/// A system of ordinary differential equations `y' = f(y)` of fixed dimension.
///
/// Systems are autonomous *within an integration segment*: anything that changes with time
/// (a dose, an infusion switching on or off) is a discontinuity the driver stops at, after which
/// the caller may change the system and continue. That is how dosing works in PK, and it lets the
/// Rosenbrock method drop the `∂f/∂t` term.
///
/// The pointers passed in are valid for the call only and hold `dimension` elements.
public protocol ODESystem {
  /// Number of state variables.
  var dimension: Int { get }

  /// Writes `f(y)` to `dydt`.
  func derivatives(_ y: UnsafePointer<Double>, into dydt: UnsafeMutablePointer<Double>)

  /// Writes the Jacobian `∂f_i/∂y_j` to `jacobian[i * dimension + j]` (row-major).
  ///
  /// Needed by the implicit (Rosenbrock) methods only. The default implementation uses forward
  /// differences; models should supply the analytic Jacobian.
  func jacobian(_ y: UnsafePointer<Double>, into jacobian: UnsafeMutablePointer<Double>)
}

extension ODESystem {
  /// Forward-difference Jacobian, column by column: `J[:, j] ≈ (f(y + δ e_j) − f(y)) / δ` with
  /// `δ = √ε · max(|y_j|, 1e-5)`. About half the digits of the analytic one; a fallback only.
  public func jacobian(_ y: UnsafePointer<Double>, into jacobian: UnsafeMutablePointer<Double>) {
    let n = dimension
    let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 3 * n)
    defer { scratch.deallocate() }
    let f0 = scratch, f1 = scratch + n, yp = scratch + 2 * n
    yp.update(from: y, count: n)
    derivatives(y, into: f0)
    for j in 0..<n {
      let delta = Double.ulpOfOne.squareRoot() * Swift.max(Swift.abs(y[j]), 1e-5)
      yp[j] = y[j] + delta
      derivatives(yp, into: f1)
      yp[j] = y[j]
      for i in 0..<n { jacobian[i * n + j] = (f1[i] - f0[i]) / delta }
    }
  }
}
