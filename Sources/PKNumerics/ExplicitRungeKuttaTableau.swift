/// An embedded explicit Runge–Kutta pair with a continuous extension, as data.
///
/// Stage `i` evaluates `k_i = f(y0 + h Σ_{j<i} a[i][j] k_j)`; the step's result is
/// `y1 = y0 + h Σ b_i k_i` and its local error estimate `h Σ e_i k_i` (`e = b − b̂`). The dense
/// output is `y(t0 + θh) = y0 + h Σ_i k_i Σ_{p=1…degree} dense[i][p−1] θ^p`.
public struct ExplicitRungeKuttaTableau: Sendable {
  public let name: String
  public let stages: Int
  /// Order of the propagated solution.
  public let order: Int
  /// Order of the embedded solution used for the error estimate.
  public let errorOrder: Int
  public let c: [Double]
  /// Lower-triangular, row-major, `stages × stages`.
  public let a: [Double]
  public let b: [Double]
  /// Error weights `b − b̂`.
  public let e: [Double]
  /// Polynomial degree of the continuous extension.
  public let denseDegree: Int
  /// `stages × denseDegree`, row-major: coefficient of `θ^(p+1)` for stage `i` at `[i*degree + p]`.
  public let dense: [Double]
  /// First Same As Last: the last stage is `f(y1)`, reused as the next step's first stage.
  public let isFSAL: Bool

  public func a(_ i: Int, _ j: Int) -> Double { a[i * stages + j] }
}

extension ExplicitRungeKuttaTableau {
  /// Dormand & Prince's 5(4) pair (RK5(4)7M) with Shampine's 4th-order continuous extension.
  ///
  /// Sources: J. R. Dormand, P. J. Prince, "A family of embedded Runge–Kutta formulae",
  /// J. Comput. Appl. Math. 6 (1980) 19–26; dense output from L. F. Shampine, "Some practical
  /// Runge–Kutta formulas", Math. Comp. 46 (1986) 135–150, in the form of Hairer, Nørsett & Wanner,
  /// *Solving ODEs I* (2nd ed., 1993), §II.6 (code DOPRI5, coefficients `d1…d7`):
  /// `y(θ) = y0 + θ(Δ + (1−θ)(h k1 − Δ + θ(2Δ − h k1 − h k7 + (1−θ) h Σ d_i k_i)))`, `Δ = y1 − y0`,
  /// expanded here into per-stage polynomials.
  public static let dormandPrince54: ExplicitRungeKuttaTableau = {
    let s = 7
    let c: [Double] = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1]
    var a = [Double](repeating: 0, count: s * s)
    let rows: [[Double]] = [
      [],
      [1.0 / 5],
      [3.0 / 40, 9.0 / 40],
      [44.0 / 45, -56.0 / 15, 32.0 / 9],
      [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
      [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
      [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ]
    for (i, row) in rows.enumerated() { for (j, v) in row.enumerated() { a[i * s + j] = v } }
    let b: [Double] = [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0]
    let bHat: [Double] = [
      5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40,
    ]
    let d: [Double] = [
      -12715105075.0 / 11282082432, 0, 87487479700.0 / 32700410799,
      -10690763975.0 / 1880347072, 701980252875.0 / 199316789632,
      -1453857185.0 / 822651844, 69997945.0 / 29380423,
    ]
    // Expand θΔ + θ(1−θ)(h k1 − Δ) + θ²(1−θ)(2Δ − h k1 − h k7) + θ²(1−θ)² h Σ d k into powers of θ.
    var dense = [Double](repeating: 0, count: s * 4)
    for i in 0..<s {
      let first: Double = i == 0 ? 1 : 0
      let last: Double = i == s - 1 ? 1 : 0
      let g = 2 * b[i] - first - last
      dense[i * 4 + 0] = first
      dense[i * 4 + 1] = -(first - b[i]) + g + d[i]
      dense[i * 4 + 2] = -g - 2 * d[i]
      dense[i * 4 + 3] = d[i]
    }
    return ExplicitRungeKuttaTableau(
      name: "Dormand–Prince 5(4)", stages: s, order: 5, errorOrder: 4, c: c, a: a, b: b,
      e: zip(b, bHat).map { $0 - $1 }, denseDegree: 4, dense: dense, isFSAL: true)
  }()
}
