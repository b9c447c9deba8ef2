import PKNumerics

extension StructuredETDRK4Step {
  /// The step's coefficients (`StructuredETDRK4Step`'s layout) computed straight into `out` (with no
  /// allocation for a lone depot; a transit chain looks its exponentials up in `ChainExponentials`),
  /// for the shipped model structure, where the blocks are small enough for series:
  ///
  /// - the chain block `X = e^{τA_xx}`: for a lone depot (m = 1) the scalar `e^{−ka τ}`; for a
  ///   transit chain `ChainExponentials` (cached per simulator: its rates carry no random effect);
  /// - the disposition block `D = e^{τA_dd}` (2×2) and the φ-vectors `τ^k φ_k(τA_dd) b` from one
  ///   Taylor series (`dispositionSeries`), for `‖hA_dd‖₁ ≤ 1` (τ = h/2 and h);
  /// - the coupling block C from the Sylvester equation (`exponentials` explains it).
  ///
  /// These are the same functions `coefficients` computes with Padé approximants and n×n
  /// products; they agree to rounding (tested to 1e-13). Where the step is outside these
  /// conditions (‖hA_dd‖₁ > 1, an ill-conditioned Sylvester system, a chain that is not lower
  /// triangular, a direction other than −e_c) it returns false and writes nothing useful: the
  /// caller takes the general path. Whichever path a patient's step takes depends only on its
  /// parameters and h, so lanes and single patients still get the same bytes.
  static func fillFromSmallBlocks(
    linear a: UnsafePointer<Double>, chain m: Int, direction b: UnsafePointer<Double>, h: Double,
    chainExponentials: ChainExponentials?, into out: UnsafeMutablePointer<Double>
  ) -> Bool {
    let n = m + 2
    guard b[m] == -1 && b[m + 1] == 0 else { return false }
    for i in 0..<m where b[i] != 0 { return false }
    for i in 0..<m { for j in (i + 1)..<Swift.max(m, i + 1) where a[i * n + j] != 0 { return false } }
    for i in 0..<m { for s in 0..<2 where a[i * n + m + s] != 0 { return false } }
    // The disposition block and its norm.
    let (a00, a01, a10, a11) = (a[m * n + m], a[m * n + m + 1], a[(m + 1) * n + m], a[(m + 1) * n + m + 1])
    let norm = Swift.max(Swift.abs(a00) + Swift.abs(a10), Swift.abs(a01) + Swift.abs(a11)) * Swift.abs(h)
    guard norm <= 1 else { return false }
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: 4 * m + 3 * m * m + 40) { buffer -> Bool in
      let base = buffer.baseAddress!
      let inverses = base, XH = inverses + 4 * m, XF = XH + m * m, block = XF + m * m, chain = block + 40
      let DH = block + 4, DF = DH + 4, phiHalf = DF + 4, phiFull = phiHalf + 6
      // The 2×2 systems `(A_dd − a_jj I)` of the Sylvester equation, inverted (as `exponentials`).
      for j in 0..<m {
        let d = a[j * n + j]
        let (m00, m01, m10, m11) = (a00 - d, a01, a10, a11 - d)
        let det = m00 * m11 - m01 * m10
        let norm1 = Swift.max(Swift.abs(m00) + Swift.abs(m10), Swift.abs(m01) + Swift.abs(m11))
        let normInf = Swift.max(Swift.abs(m00) + Swift.abs(m01), Swift.abs(m10) + Swift.abs(m11))
        guard det != 0 && det.isFinite && norm1 * normInf / Swift.abs(det) <= 1e3 else { return false }
        (inverses[4 * j], inverses[4 * j + 1], inverses[4 * j + 2], inverses[4 * j + 3]) = (m11 / det, -m01 / det, -m10 / det, m00 / det)
      }
      // The chain's exponentials.
      if m == 1 {
        XH[0] = exp(a[0] * (h / 2))
        XF[0] = exp(a[0] * h)
      } else {
        chain.initialize(repeating: 0, count: m * m)
        for i in 0..<m { for j in 0...i { chain[i * m + j] = a[i * n + j] } }
        if let chainExponentials {
          chainExponentials.exponentials(UnsafeBufferPointer(start: chain, count: m * m), m: m, h: h, half: XH, full: XF)
        } else {
          let both = MatrixFunctions.exponentialHalfAndFull(Array(UnsafeBufferPointer(start: chain, count: m * m)), n: m, h: h)
          for i in 0..<(m * m) { (XH[i], XF[i]) = (both.half[i], both.full[i]) }
        }
      }
      // The disposition block's exponentials and φ-vectors.
      (block[0], block[1], block[2], block[3]) = (a00, a01, a10, a11)
      dispositionSeries(block, tau: h / 2, norm: norm / 2, exponential: DH, phi: phiHalf)
      dispositionSeries(block, tau: h, norm: norm, exponential: DF, phi: phiFull)
      // The layout: X, C½, central row of C½X½, C, D½, D, p, q₁, q₂, q₃.
      let X = out, CH = X + m * m, CXH = CH + 2 * m, CF = CXH + m, OH = CF + 2 * m, OF = OH + 4, V = OF + 4
      X.update(from: XF, count: m * m)
      for i in 0..<m { for j in (i + 1)..<Swift.max(m, i + 1) { X[i * m + j] = 0 } }
      coupling(a, chain: m, chainExponential: XH, disposition: DH, inverses: inverses, into: CH)
      coupling(a, chain: m, chainExponential: XF, disposition: DF, inverses: inverses, into: CF)
      for j in 0..<m {
        var s = 0.0
        for k in j..<m { s += CH[k] * XH[k * m + j] }
        CXH[j] = s
      }
      OH.update(from: DH, count: 4)
      OF.update(from: DF, count: 4)
      for r in 0..<2 {
        V[r] = phiHalf[r]
        let (f1, f2, f3) = (phiFull[r], phiFull[2 + r], phiFull[4 + r])
        V[2 + r] = f1 - 3 * f2 / h + 4 * f3 / (h * h)
        V[4 + r] = 2 * f2 / h - 4 * f3 / (h * h)
        V[6 + r] = -f2 / h + 4 * f3 / (h * h)
      }
      return true
    }
  }

  /// For the 2×2 disposition block A and `Z = τA` with `‖Z‖₁ = norm ≤ 1`: `e^Z` (row-major, 4
  /// values) and `τ^k φ_k(Z) b` for k = 1, 2, 3 and `b = (−1, 0)` (2 values each), from one
  /// Taylor series: with `P_j = Z^j`, `e^Z = Σ_j P_j/j!` and `φ_k(Z) = Σ_j P_j/(j+k)!`
  /// (Sidje 1998, as `MatrixFunctions.phiVectorsByTaylor`), summed up to the first degree K whose
  /// term bound `norm^K/K!` is at most 2⁻⁵³. Only P's first column enters the φ-vectors. Every
  /// term is at most `norm^j/j!` in norm, so the sums carry a few ulps of error. The functions
  /// `MatrixFunctions.exponential` (Padé) and `phiVectorsByTaylor` compute, with the 2×2 products
  /// written out (some ten times cheaper than the general n×n loops).
  @inline(__always)
  static func dispositionSeries(
    _ a: UnsafePointer<Double>, tau: Double, norm: Double, exponential e: UnsafeMutablePointer<Double>,
    phi: UnsafeMutablePointer<Double>
  ) {
    var degree = 1, bound = norm
    while bound > 0x1p-53 && degree < 30 {
      degree += 1
      bound *= norm / Double(degree)
    }
    let (z00, z01, z10, z11) = (tau * a[0], tau * a[1], tau * a[2], tau * a[3])
    var (p00, p01, p10, p11) = (1.0, 0.0, 0.0, 1.0)
    var (e00, e01, e10, e11) = (0.0, 0.0, 0.0, 0.0)
    var (f10, f11, f20, f21, f30, f31) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    // 1/j!, 1/(j+1)!, 1/(j+2)!, 1/(j+3)!
    var (w0, w1, w2, w3) = (1.0, 1.0, 0.5, 1.0 / 6)
    for j in 0...degree {
      e00 += w0 * p00; e01 += w0 * p01; e10 += w0 * p10; e11 += w0 * p11
      f10 += w1 * p00; f11 += w1 * p10
      f20 += w2 * p00; f21 += w2 * p10
      f30 += w3 * p00; f31 += w3 * p10
      (p00, p01, p10, p11) = (z00 * p00 + z01 * p10, z00 * p01 + z01 * p11, z10 * p00 + z11 * p10, z10 * p01 + z11 * p11)
      let next = Double(j + 1)
      w0 /= next; w1 /= next + 1; w2 /= next + 2; w3 /= next + 3
    }
    (e[0], e[1], e[2], e[3]) = (e00, e01, e10, e11)
    // τ^k φ_k(Z) b with b = −e₁: minus the first column, times τ^k.
    let tau2 = tau * tau, tau3 = tau2 * tau
    (phi[0], phi[1]) = (-tau * f10, -tau * f11)
    (phi[2], phi[3]) = (-tau2 * f20, -tau2 * f21)
    (phi[4], phi[5]) = (-tau3 * f30, -tau3 * f31)
  }

  /// The coupling block C (2×m, row-major) of `e^{τA}` from the Sylvester equation
  /// `A_dd C − C A_xx = D A_dx − A_dx X`, column by column from the last (`exponentials`' method,
  /// with the 2×2 systems' `inverses` given).
  private static func coupling(
    _ a: UnsafePointer<Double>, chain m: Int, chainExponential X: UnsafePointer<Double>, disposition D: UnsafePointer<Double>,
    inverses: UnsafePointer<Double>, into C: UnsafeMutablePointer<Double>
  ) {
    let n = m + 2
    var j = m - 1
    while j >= 0 {
      var r0 = 0.0, r1 = 0.0
      for s in 0..<2 {
        r0 += D[s] * a[(m + s) * n + j]
        r1 += D[2 + s] * a[(m + s) * n + j]
      }
      for k in j..<m {
        r0 -= a[m * n + k] * X[k * m + j]
        r1 -= a[(m + 1) * n + k] * X[k * m + j]
      }
      for k in (j + 1)..<Swift.max(m, j + 1) {
        r0 += a[k * n + j] * C[k]
        r1 += a[k * n + j] * C[m + k]
      }
      C[j] = inverses[4 * j] * r0 + inverses[4 * j + 1] * r1
      C[m + j] = inverses[4 * j + 2] * r0 + inverses[4 * j + 3] * r1
      j -= 1
    }
  }
}
