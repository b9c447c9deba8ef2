/// Dense matrix functions for small matrices (n ≲ 16), row-major.
public enum MatrixFunctions {
  /// `exp(A)` by scaling and squaring with a diagonal Padé approximant of degree 3, 5, 7, 9 or 13.
  ///
  /// Source: N. J. Higham, "The scaling and squaring method for the matrix exponential revisited",
  /// SIAM J. Matrix Anal. Appl. 26 (2005) 1179–1193, Algorithm 2.3: the smallest degree m whose
  /// θ_m bounds `‖A‖₁` (θ₃ = 1.50e-2, θ₅ = 0.254, θ₇ = 0.950, θ₉ = 2.10), which keeps the backward
  /// error below the unit roundoff; otherwise m = 13 with `A ← A/2^s`, `‖A/2^s‖₁ ≤ θ₁₃ = 5.37`, and
  /// s squarings. `r_m(A) = (V − U)⁻¹(V + U)` with U the odd and V the even part of the numerator.
  public static func exponential(_ a: [Double], n: Int) -> [Double] {
    var result = [Double](repeating: 0, count: n * n)
    a.withUnsafeBufferPointer { ap in
      result.withUnsafeMutableBufferPointer { exponential(ap.baseAddress!, n: n, into: $0.baseAddress!) }
    }
    return result
  }

  /// Padé numerator coefficients b_0…b_m (Higham 2005, Table 2.3 / Algorithm 2.3).
  static let padeCoefficients: [(degree: Int, theta: Double, b: [Double])] = [
    (3, 1.495585217958292e-2, [120, 60, 12, 1]),
    (5, 2.539398330063230e-1, [30240, 15120, 3360, 420, 30, 1]),
    (7, 9.504178996162932e-1, [17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1]),
    (9, 2.097847961257068e0, [17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1]),
  ]
  static let theta13 = 5.371920351148152
  static let b13: [Double] = [
    64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000,
    10559470521600, 670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1,
  ]

  /// `exp(A)` of the row-major n×n matrix at `a`, written to `out` (which must not overlap `a`).
  public static func exponential(_ a: UnsafePointer<Double>, n: Int, into out: UnsafeMutablePointer<Double>) {
    let nn = n * n
    var norm = 0.0
    for j in 0..<n {
      var column = 0.0
      for i in 0..<n { column += Swift.abs(a[i * n + j]) }
      norm = Swift.max(norm, column)
    }
    guard norm.isFinite else {
      out.update(repeating: .nan, count: nn)
      return
    }
    let work = UnsafeMutablePointer<Double>.allocate(capacity: 8 * nn)
    defer { work.deallocate() }
    let A = work, P2 = A + nn, P4 = P2 + nn, P6 = P4 + nn, U = P6 + nn, V = U + nn, T = V + nn, W = T + nn
    var s = 0
    if let pick = padeCoefficients.first(where: { norm <= $0.theta }) {
      // Low degree, no scaling: U = A·Σ b_{2j+1} A^{2j}, V = Σ b_{2j} A^{2j} (powers up to A^{m−1}).
      A.update(from: a, count: nn)
      let b = pick.b, m = pick.degree
      multiply(A, A, into: P2, n)
      if m >= 5 { multiply(P2, P2, into: P4, n) }
      if m >= 7 { multiply(P4, P2, into: P6, n) }
      if m >= 9 { multiply(P4, P4, into: W, n) }  // A⁸
      for i in 0..<nn {
        var u = b[3] * P2[i], v = b[2] * P2[i]
        if m >= 5 { u += b[5] * P4[i]; v += b[4] * P4[i] }
        if m >= 7 { u += b[7] * P6[i]; v += b[6] * P6[i] }
        if m >= 9 { u += b[9] * W[i]; v += b[8] * W[i] }
        if i % (n + 1) == 0 { u += b[1]; v += b[0] }
        T[i] = u
        V[i] = v
      }
      multiply(A, T, into: U, n)
    } else {
      s = norm > theta13 ? Int((log2(norm / theta13)).rounded(.up)) : 0
      let scale = pow(2.0, Double(-s))
      for i in 0..<nn { A[i] = a[i] * scale }
      let b = b13
      multiply(A, A, into: P2, n)
      multiply(P2, P2, into: P4, n)
      multiply(P4, P2, into: P6, n)
      // U = A[A6(b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I]
      // V = A6(b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I
      for i in 0..<nn { T[i] = b[13] * P6[i] + b[11] * P4[i] + b[9] * P2[i] }
      multiply(P6, T, into: W, n)
      for i in 0..<nn {
        W[i] += b[7] * P6[i] + b[5] * P4[i] + b[3] * P2[i] + (i % (n + 1) == 0 ? b[1] : 0)
      }
      multiply(A, W, into: U, n)
      for i in 0..<nn { T[i] = b[12] * P6[i] + b[10] * P4[i] + b[8] * P2[i] }
      multiply(P6, T, into: V, n)
      for i in 0..<nn { V[i] += b[6] * P6[i] + b[4] * P4[i] + b[2] * P2[i] + (i % (n + 1) == 0 ? b[0] : 0) }
    }
    // Solve (V − U) X = (V + U): T ← V − U, W ← V + U.
    for i in 0..<nn {
      T[i] = V[i] - U[i]
      W[i] = V[i] + U[i]
    }
    solve(T, W, into: out, n)
    for _ in 0..<s {
      multiply(out, out, into: T, n)
      out.update(from: T, count: nn)
    }
  }

  /// `e^{hA}` and the columns `h^k φ_k(hA) b` for k = 1…p, from one exponential of the augmented
  /// matrix `W = [[A, b, 0…], [0, J]]` (J the p×p shift): `exp(hW)` holds `e^{hA}` in its top-left
  /// block and `h^k φ_k(hA) b` in its top-right columns.
  /// Source: R. B. Sidje, "Expokit", ACM TOMS 24 (1998) 130–156, Theorem 1; φ_k(z) = Σ_j z^j/(j+k)!.
  public static func phiColumns(_ a: [Double], n: Int, b: [Double], h: Double, order p: Int) -> (exponential: [Double], phi: [[Double]]) {
    let e = exponential(augmented(a, n: n, b: b, h: h, order: p), n: n + p)
    return split(e, n: n, order: p)
  }

  /// `phiColumns` for both `h/2` and `h` from one Padé evaluation: `exp(hW) = exp(hW/2)²`, so the
  /// half step costs one extra product instead of a second exponential.
  public static func phiColumnsHalfAndFull(_ a: [Double], n: Int, b: [Double], h: Double, order p: Int)
    -> (half: (exponential: [Double], phi: [[Double]]), full: (exponential: [Double], phi: [[Double]]))
  {
    let half = exponential(augmented(a, n: n, b: b, h: h / 2, order: p), n: n + p)
    let full = multiply(half, half, n + p)
    return (split(half, n: n, order: p), split(full, n: n, order: p))
  }

  /// The columns `(h/2)^k φ_k(hA/2) b` and `h^k φ_k(hA) b`, k = 1…p (`phiColumnsHalfAndFull`
  /// without the exponentials). Where `‖hA‖₁ ≤ 1` they are summed from the Taylor series
  /// `φ_k(Z) b = Σ_j Z^j b/(j+k)!` (Sidje 1998, as above): the vectors `Z^j b` cost one
  /// matrix–vector product each, and the series is cut where the bound `‖Z‖₁^j/(j+1)!` on the
  /// remaining terms falls below the unit roundoff (j ≤ 18), against an (n+p)×(n+p) Padé
  /// evaluation otherwise. The terms are added smallest first. With ‖Z‖₁ ≤ 1 no term exceeds
  /// `‖b‖`, so rounding stays within a few hundred ulps of `φ_p`, which is at least e⁻¹/p! of it.
  /// Larger `‖hA‖₁` takes the augmented Padé path.
  public static func phiVectorsHalfAndFull(_ a: [Double], n: Int, b: [Double], h: Double, order p: Int)
    -> (half: [Double], full: [Double])
  {
    var norm = 0.0
    for j in 0..<n {
      var column = 0.0
      for i in 0..<n { column += Swift.abs(a[i * n + j]) }
      norm = Swift.max(norm, column)
    }
    guard norm * Swift.abs(h) <= 1 else {
      let both = phiColumnsHalfAndFull(a, n: n, b: b, h: h, order: p)
      return (Array(both.half.phi.joined()), Array(both.full.phi.joined()))
    }
    var half = [Double](repeating: 0, count: p * n), full = half
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        half.withUnsafeMutableBufferPointer {
          phiVectorsByTaylor(a.baseAddress!, n: n, b: b.baseAddress!, h: h / 2, norm: norm * Swift.abs(h) / 2, order: p, into: $0.baseAddress!)
        }
        full.withUnsafeMutableBufferPointer {
          phiVectorsByTaylor(a.baseAddress!, n: n, b: b.baseAddress!, h: h, norm: norm * Swift.abs(h), order: p, into: $0.baseAddress!)
        }
      }
    }
    return (half, full)
  }

  /// `h^k φ_k(hA) b` for k = 1…p by the Taylor series, for `‖hA‖₁ = norm ≤ 1`, written to `out`
  /// (k−1)·n + i.
  static func phiVectorsByTaylor(
    _ a: UnsafePointer<Double>, n: Int, b: UnsafePointer<Double>, h: Double, norm: Double, order p: Int,
    into out: UnsafeMutablePointer<Double>
  ) {
    let most = 30
    withUnsafeTemporaryAllocation(of: Double.self, capacity: (most + 1) * n) { buffer in
      let powers = buffer.baseAddress!  // v_j = (hA)^j b at j·n
      powers.update(from: b, count: n)
      // v_{j+1} = hA v_j until the tail bound norm^j/(j+1)! is below 2⁻⁵³.
      var bound = 1.0, last = 0
      while bound > 0x1p-53 && last < most {
        let v = powers + last * n, next = v + n
        for i in 0..<n {
          var s = 0.0
          for k in 0..<n { s += a[i * n + k] * v[k] }
          next[i] = h * s
        }
        last += 1
        bound *= norm / Double(last + 1)
      }
      var hk = 1.0, factorial = 1.0  // h^k and k!
      for k in 1...p {
        hk *= h
        factorial *= Double(k)
        // 1/(j+k)! for j = last, found from k! upwards, then back down the series.
        var denominator = factorial
        for j in 0..<last { denominator *= Double(j + k + 1) }
        let row = out + (k - 1) * n
        row.update(repeating: 0, count: n)
        var j = last
        while j >= 0 {
          let weight = hk / denominator
          for i in 0..<n { row[i] += weight * powers[j * n + i] }
          denominator /= Double(j + k)
          j -= 1
        }
      }
    }
  }

  /// `e^{hA/2}` and `e^{hA} = (e^{hA/2})²` from one Padé evaluation.
  public static func exponentialHalfAndFull(_ a: [Double], n: Int, h: Double) -> (half: [Double], full: [Double]) {
    let half = exponential(a.map { $0 * (h / 2) }, n: n)
    return (half, multiply(half, half, n))
  }

  static func augmented(_ a: [Double], n: Int, b: [Double], h: Double, order p: Int) -> [Double] {
    let m = n + p
    var w = [Double](repeating: 0, count: m * m)
    for i in 0..<n {
      for j in 0..<n { w[i * m + j] = h * a[i * n + j] }
      w[i * m + n] = h * b[i]
    }
    for k in 0..<(p - 1) { w[(n + k) * m + n + k + 1] = h }
    return w
  }

  static func split(_ e: [Double], n: Int, order p: Int) -> (exponential: [Double], phi: [[Double]]) {
    let m = n + p
    var top = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { top[i * n + j] = e[i * m + j] } }
    let phi = (0..<p).map { k in (0..<n).map { i in e[i * m + n + k] } }
    return (top, phi)
  }

  static func multiply(_ x: [Double], _ y: [Double], _ n: Int) -> [Double] {
    var out = [Double](repeating: 0, count: n * n)
    x.withUnsafeBufferPointer { xp in
      y.withUnsafeBufferPointer { yp in
        out.withUnsafeMutableBufferPointer { multiply(xp.baseAddress!, yp.baseAddress!, into: $0.baseAddress!, n) }
      }
    }
    return out
  }

  /// `out = x·y` for row-major n×n matrices; `out` must not overlap either. Zero entries are
  /// skipped on both sides (x's entries one by one, y's rows past their last nonzero column): the
  /// model matrices are lower triangular but for the peripheral return rate, so their products
  /// and powers keep most of the upper triangle zero, and a product costs about a third of the
  /// dense n³. Skipping a zero term changes no finite result.
  static func multiply(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, _ n: Int) {
    out.update(repeating: 0, count: n * n)
    withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { lastColumn in
      for k in 0..<n {
        var j = n - 1
        while j >= 0 && y[k * n + j] == 0 { j -= 1 }
        lastColumn[k] = j
      }
      for i in 0..<n {
        for k in 0..<n {
          let xik = x[i * n + k], end = lastColumn[k]
          if xik == 0 || end < 0 { continue }
          for j in 0...end { out[i * n + j] += xik * y[k * n + j] }
        }
      }
    }
  }

  /// Solves `L X = R` for n right-hand sides (the columns of R) by Gaussian elimination with
  /// partial pivoting; L and R are overwritten, X is written to `x`.
  static func solve(_ l: UnsafeMutablePointer<Double>, _ r: UnsafeMutablePointer<Double>, into x: UnsafeMutablePointer<Double>, _ n: Int) {
    for col in 0..<n {
      var p = col
      for row in (col + 1)..<Swift.max(n, col + 1) where Swift.abs(l[row * n + col]) > Swift.abs(l[p * n + col]) { p = row }
      if p != col {
        for j in 0..<n {
          swap(&l[col * n + j], &l[p * n + j])
          swap(&r[col * n + j], &r[p * n + j])
        }
      }
      let pivot = l[col * n + col]
      for row in (col + 1)..<Swift.max(n, col + 1) {
        let f = l[row * n + col] / pivot
        if f == 0 { continue }
        for j in col..<n { l[row * n + j] -= f * l[col * n + j] }
        for j in 0..<n { r[row * n + j] -= f * r[col * n + j] }
      }
    }
    for c in 0..<n {
      var i = n - 1
      while i >= 0 {
        var s = r[i * n + c]
        for j in (i + 1)..<n { s -= l[i * n + j] * x[j * n + c] }
        x[i * n + c] = s / l[i * n + i]
        i -= 1
      }
    }
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
  /// `E`, `E½` (n×n each, row-major), then `p`, `q₁`, `q₂`, `q₃` (n each), in one buffer.
  public let coefficients: [Double]
  /// Whether every coefficient is finite (the matrix functions could be computed).
  public let isFinite: Bool

  public init(linear a: [Double], n: Int, direction b: [Double], h: Double) {
    self.h = h
    self.n = n
    let (half, full) = MatrixFunctions.phiColumnsHalfAndFull(a, n: n, b: b, h: h, order: 3)
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
