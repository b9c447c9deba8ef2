/// A Rosenbrock (linearly implicit) method with embedded error estimate and dense output, as data.
///
/// In Hairer & Wanner's transformed form (*Solving ODEs II*, 2nd ed. 1996, §IV.7, eq. 7.25), with
/// `W = I/(γh) − J` and `J = ∂f/∂y` at the step's start, stage `i` solves
/// `W k_i = f(y0 + Σ_{j<i} a_ij k_j) + Σ_{j<i} (c_ij / h) k_j`
/// (autonomous systems: the `∂f/∂t` term is absent). Then `y1 = y0 + Σ m_i k_i`, the local error
/// estimate is `Σ e_i k_i`, and the dense output is
/// `y(t0 + θh) = (1−θ) y0 + θ (y1 + (1−θ)(Σ d1_i k_i + θ Σ d2_i k_i))`.
public struct RosenbrockTableau: Sendable {
  public let name: String
  public let stages: Int
  public let order: Int
  public let errorOrder: Int
  public let gamma: Double
  /// Lower-triangular, row-major, `stages × stages`.
  public let a: [Double]
  /// Lower-triangular, row-major, `stages × stages` (the `c_ij` of the transformed form).
  public let c: [Double]
  public let m: [Double]
  public let e: [Double]
  public let dense1: [Double]
  public let dense2: [Double]
}

extension RosenbrockTableau {
  /// RODAS4: 6 stages, order 4 with an order-3 embedded estimate, L-stable and stiffly accurate,
  /// with a 3rd-order continuous extension.
  ///
  /// Source: E. Hairer, G. Wanner, *Solving Ordinary Differential Equations II* (2nd ed., Springer
  /// 1996), §IV.7, Table 7.3 (method RODAS), coefficients as in Hairer's Fortran code `rodas.f`
  /// (subroutine ROCOE, METH = 1), including its dense-output coefficients `d21…d35`.
  /// Stages 5 and 6 are evaluated at `y0 + Σ m_i k_i` minus the last terms, so the last stage's
  /// increment is the error estimate.
  public static let rodas4: RosenbrockTableau = {
    let s = 6
    var a = [Double](repeating: 0, count: s * s)
    var c = [Double](repeating: 0, count: s * s)
    let a5: [Double] = [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950]
    let aRows: [[Double]] = [
      [], [1.544], [0.9466785280815826, 0.2557011698983284],
      [3.314825187068521, 2.896124015972201, 0.9986419139977817], a5, a5 + [1],
    ]
    let cRows: [[Double]] = [
      [], [-5.6688], [-2.430093356833875, -0.2063599157091915],
      [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
      [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160],
      [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
       -6.058818238834054],
    ]
    for i in 0..<s {
      for (j, v) in aRows[i].enumerated() { a[i * s + j] = v }
      for (j, v) in cRows[i].enumerated() { c[i * s + j] = v }
    }
    return RosenbrockTableau(
      name: "RODAS4", stages: s, order: 4, errorOrder: 3, gamma: 0.25, a: a, c: c,
      m: a5 + [1, 1], e: [0, 0, 0, 0, 0, 1],
      dense1: [10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823,
               1.025137723295662, 0],
      dense2: [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386,
               -6.594389125716872, 0])
  }()
}
