/// Dense matrix functions for small matrices (n ≲ 16), row-major.
public enum MatrixFunctions {
  /// `exp(A)` by scaling and squaring with the [13/13] Padé approximant.
  ///
  /// Source: N. J. Higham, "The scaling and squaring method for the matrix exponential revisited",
  /// SIAM J. Matrix Anal. Appl. 26 (2005) 1179–1193, Algorithm 2.3 with m = 13 (θ₁₃ = 5.37…):
  /// `A ← A/2^s` with `‖A/2^s‖₁ ≤ θ₁₃`, `r₁₃(A) = (V − U)⁻¹(V + U)`, then s squarings.
  public static func exponential(_ a: [Double], n: Int) -> [Double] {
    let theta13 = 5.371920351148152
    let b: [Double] = [
      64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000,
      10559470521600, 670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1,
    ]
    var norm = 0.0
    for j in 0..<n {
      var column = 0.0
      for i in 0..<n { column += Swift.abs(a[i * n + j]) }
      norm = Swift.max(norm, column)
    }
    guard norm.isFinite else { return [Double](repeating: .nan, count: n * n) }
    let s = norm > theta13 ? Int((log2(norm / theta13)).rounded(.up)) : 0
    let scale = pow(2.0, Double(-s))
    let A = a.map { $0 * scale }
    let identity = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 }
    let A2 = multiply(A, A, n), A4 = multiply(A2, A2, n), A6 = multiply(A4, A2, n)
    // U = A[A6(b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I]
    // V = A6(b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I
    var inner = [Double](repeating: 0, count: n * n)
    var vInner = [Double](repeating: 0, count: n * n)
    var uOuter = [Double](repeating: 0, count: n * n)
    var vOuter = [Double](repeating: 0, count: n * n)
    for i in 0..<(n * n) {
      inner[i] = b[13] * A6[i] + b[11] * A4[i] + b[9] * A2[i]
      vInner[i] = b[12] * A6[i] + b[10] * A4[i] + b[8] * A2[i]
      uOuter[i] = b[7] * A6[i] + b[5] * A4[i] + b[3] * A2[i] + b[1] * identity[i]
      vOuter[i] = b[6] * A6[i] + b[4] * A4[i] + b[2] * A2[i] + b[0] * identity[i]
    }
    var u = multiply(A6, inner, n)
    for i in 0..<(n * n) { u[i] += uOuter[i] }
    u = multiply(A, u, n)
    var v = multiply(A6, vInner, n)
    for i in 0..<(n * n) { v[i] += vOuter[i] }
    // Solve (V − U) X = (V + U).
    var lhs = (0..<(n * n)).map { v[$0] - u[$0] }
    var rhs = (0..<(n * n)).map { v[$0] + u[$0] }
    var result = solve(&lhs, &rhs, n)
    for _ in 0..<s { result = multiply(result, result, n) }
    return result
  }

  /// `e^{hA}` and the columns `h^k φ_k(hA) b` for k = 1…p, from one exponential of the augmented
  /// matrix `W = [[A, b, 0…], [0, J]]` (J the p×p shift): `exp(hW)` holds `e^{hA}` in its top-left
  /// block and `h^k φ_k(hA) b` in its top-right columns.
  /// Source: R. B. Sidje, "Expokit", ACM TOMS 24 (1998) 130–156, Theorem 1; φ_k(z) = Σ_j z^j/(j+k)!.
  public static func phiColumns(_ a: [Double], n: Int, b: [Double], h: Double, order p: Int) -> (exponential: [Double], phi: [[Double]]) {
    let m = n + p
    var w = [Double](repeating: 0, count: m * m)
    for i in 0..<n {
      for j in 0..<n { w[i * m + j] = h * a[i * n + j] }
      w[i * m + n] = h * b[i]
    }
    for k in 0..<(p - 1) { w[(n + k) * m + n + k + 1] = h }
    let e = exponential(w, n: m)
    var top = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { top[i * n + j] = e[i * m + j] } }
    let phi = (0..<p).map { k in (0..<n).map { i in e[i * m + n + k] } }
    return (top, phi)
  }

  static func multiply(_ x: [Double], _ y: [Double], _ n: Int) -> [Double] {
    var out = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for k in 0..<n {
        let xik = x[i * n + k]
        if xik == 0 { continue }
        for j in 0..<n { out[i * n + j] += xik * y[k * n + j] }
      }
    }
    return out
  }

  /// Solves `L X = R` for n right-hand sides (the columns of R) by Gaussian elimination with
  /// partial pivoting; both are overwritten.
  static func solve(_ l: inout [Double], _ r: inout [Double], _ n: Int) -> [Double] {
    for col in 0..<n {
      var p = col
      for row in (col + 1)..<Swift.max(n, col + 1) where Swift.abs(l[row * n + col]) > Swift.abs(l[p * n + col]) { p = row }
      if p != col {
        for j in 0..<n { l.swapAt(col * n + j, p * n + j); r.swapAt(col * n + j, p * n + j) }
      }
      let pivot = l[col * n + col]
      for row in (col + 1)..<Swift.max(n, col + 1) {
        let f = l[row * n + col] / pivot
        if f == 0 { continue }
        for j in col..<n { l[row * n + j] -= f * l[col * n + j] }
        for j in 0..<n { r[row * n + j] -= f * r[col * n + j] }
      }
    }
    var x = [Double](repeating: 0, count: n * n)
    for c in 0..<n {
      var i = n - 1
      while i >= 0 {
        var s = r[i * n + c]
        for j in (i + 1)..<n { s -= l[i * n + j] * x[j * n + c] }
        x[i * n + c] = s / l[i * n + i]
        i -= 1
      }
    }
    return x
  }
}

/// One step of the fourth-order exponential Runge–Kutta method ETDRK4 for semilinear systems
/// `y' = A y + b·N(y)` whose nonlinearity is a scalar `N` along a fixed direction `b`:
///
/// ```
/// a = E½ u + p N(u),     c₂ = E½ u + p N(a),     c₃ = E½ a + p (2N(c₂) − N(u)),
/// u⁺ = E u + q₁ N(u) + q₂ (N(a) + N(c₂)) + q₃ N(c₃)
/// ```
/// with `E = e^{hA}`, `E½ = e^{hA/2}`, `p = (h/2) φ₁(hA/2) b`, `q₁ = h(φ₁ − 3φ₂ + 4φ₃)(hA) b`,
/// `q₂ = h(2φ₂ − 4φ₃)(hA) b`, `q₃ = h(−φ₂ + 4φ₃)(hA) b`. The linear part (including stiff
/// components) is propagated exactly, so steps are limited only by the variation of `N`.
/// Source: S. M. Cox, P. C. Matthews, "Exponential time differencing for stiff systems",
/// J. Comput. Phys. 176 (2002) 430–455, eqs. (26)–(29); weights in φ-form from M. Hochbruck,
/// A. Ostermann, "Exponential integrators", Acta Numerica 19 (2010) 209–286, §2.3.
public struct ETDRK4Step: Sendable {
  public let h: Double
  public let n: Int
  /// `E`, `E½` (n×n each), then `p`, `q₁`, `q₂`, `q₃` (n each), in one buffer.
  let coefficients: [Double]
  /// Whether every coefficient is finite (the matrix functions could be computed).
  public let isFinite: Bool

  public init(linear a: [Double], n: Int, direction b: [Double], h: Double) {
    self.h = h
    self.n = n
    let half = MatrixFunctions.phiColumns(a, n: n, b: b, h: h / 2, order: 1)
    let full = MatrixFunctions.phiColumns(a, n: n, b: b, h: h, order: 3)
    let (f1, f2, f3) = (full.phi[0], full.phi[1], full.phi[2])  // h φ1 b, h² φ2 b, h³ φ3 b
    let q1 = (0..<n).map { f1[$0] - 3 * f2[$0] / h + 4 * f3[$0] / (h * h) }
    let q2 = (0..<n).map { 2 * f2[$0] / h - 4 * f3[$0] / (h * h) }
    let q3 = (0..<n).map { -f2[$0] / h + 4 * f3[$0] / (h * h) }
    coefficients = full.exponential + half.exponential + half.phi[0] + q1 + q2 + q3
    isFinite = coefficients.allSatisfy(\.isFinite)
  }

  /// Advances `u` (n elements) by one step; `scratch` holds at least 3n elements.
  @inline(__always)
  public func advance(_ u: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>, nonlinearity N: (UnsafePointer<Double>) -> Double) {
    withoutActuallyEscaping(N) { advance(u, scratch: scratch, nonlinearity: ClosureNonlinearity(body: $0)) }
  }

  /// Advances `u` by one step with a nonlinearity the compiler can inline (the hot path).
  @inline(__always)
  public func advance<Nonlinearity: ScalarNonlinearity>(_ u: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>, nonlinearity: Nonlinearity) {
    let N = nonlinearity.value
    let n = self.n
    let a = scratch, c2 = scratch + n, eu = scratch + 2 * n
    coefficients.withUnsafeBufferPointer { buffer in
      let E = buffer.baseAddress!, EH = E + n * n, p = EH + n * n, q1 = p + n, q2 = q1 + n, q3 = q2 + n
      let nu = N(u)
      for i in 0..<n {
        var s = 0.0
        for j in 0..<n { s += EH[i * n + j] * u[j] }
        eu[i] = s  // E½ u
        a[i] = s + p[i] * nu
      }
      let na = N(a)
      for i in 0..<n { c2[i] = eu[i] + p[i] * na }
      let nc2 = N(c2)
      let coupling = 2 * nc2 - nu
      // c₃ = E½ a + p (2N(c₂) − N(u)), into c2's slot (no longer needed after nc2).
      for i in 0..<n {
        var s = 0.0
        for j in 0..<n { s += EH[i * n + j] * a[j] }
        c2[i] = s + p[i] * coupling
      }
      let nc3 = N(c2)
      let middle = na + nc2
      for i in 0..<n {
        var s = 0.0
        for j in 0..<n { s += E[i * n + j] * u[j] }
        eu[i] = s + q1[i] * nu + q2[i] * middle + q3[i] * nc3
      }
      for i in 0..<n { u[i] = eu[i] }
    }
  }
}

/// The scalar nonlinearity `N(y)` of a semilinear system `y' = A y + b·N(y)`.
public protocol ScalarNonlinearity {
  func value(_ y: UnsafePointer<Double>) -> Double
}

struct ClosureNonlinearity: ScalarNonlinearity {
  let body: (UnsafePointer<Double>) -> Double
  func value(_ y: UnsafePointer<Double>) -> Double { body(y) }
}
