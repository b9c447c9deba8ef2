import Foundation
import PKNumerics

extension StructuredETDRK4Step {
  typealias Lanes = SIMD8<Double>
  typealias LaneMask = SIMDMask<SIMD8<Int64>>

  /// The step's coefficients (`StructuredETDRK4Step`'s layout) for eight lanes side by side
  /// (`ExponentialLanes`), written straight into the interleaved layout (coefficient i of lane l
  /// at `out[i][l]`), for the shipped model structure, where the blocks are small enough for
  /// series:
  ///
  /// - the chain block `X = e^{τA_xx}`: for a lone depot (m = 1) the scalar `e^{−ka τ}`; for a
  ///   transit chain `ChainExponentials` (cached per simulator: its rates carry no random effect);
  /// - the disposition block `D = e^{τA_dd}` (2×2) and the φ-vectors `τ^k φ_k(τA_dd) b` from one
  ///   Taylor series (`dispositionSeries`), for `‖hA_dd‖₁ ≤ 1` (τ = h/2 and h);
  /// - the coupling block C from the Sylvester equation (`exponentials` explains it).
  ///
  /// These are the functions `coefficients` computes with Padé approximants and n×n products;
  /// they agree to rounding (tested to 1e-13). Each lane's operations are the same whatever its
  /// neighbours — the Taylor series run to the largest lane's degree, each lane adding only the
  /// terms of its own degree — so a lane's coefficients are the same bits alone or in any group
  /// (tested): a patient's curve does not depend on its neighbours. The lanes share the model's
  /// structure (the same chain); only their rates differ. Returns the lanes done here; a lane
  /// outside these conditions (‖hA_dd‖₁ > 1, an ill-conditioned Sylvester system) is left to the
  /// caller (`fill`), as is every lane when the structure is not the one these formulas assume (a
  /// chain that is not lower triangular, a direction other than −e_c). Filling the eight lanes one
  /// by one, chains of dependent operations, was 5.5 % of a kovalenko2020 cohort's `perf` samples
  /// (2.1 % side by side).
  static func fillSideBySide(
    linear: UnsafePointer<Lanes>, chain m: Int, direction b: [Double], h: Double, chainExponentials: ChainExponentials?,
    into out: UnsafeMutablePointer<Lanes>
  ) -> LaneMask {
    let n = m + 2
    let none = LaneMask(repeating: false)
    // The structure (the lanes' direction is the model's).
    guard b[m] == -1 && b[m + 1] == 0 else { return none }
    for i in 0..<m where b[i] != 0 { return none }
    for i in 0..<m { for j in (i + 1)..<Swift.max(m, i + 1) where any(linear[i * n + j] .!= 0) { return none } }
    for i in 0..<m { for s in 0..<2 where any(linear[i * n + m + s] .!= 0) { return none } }
    /// Entry (i, j) of every lane's matrix.
    @inline(__always) func entry(_ i: Int, _ j: Int) -> Lanes { linear[i * n + j] }
    let (a00, a01, a10, a11) = (entry(m, m), entry(m, m + 1), entry(m + 1, m), entry(m + 1, m + 1))
    let norm = largest(magnitude(a00) + magnitude(a10), magnitude(a01) + magnitude(a11)) * Swift.abs(h)
    var done = norm .<= 1
    return withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 4 * m + 2 * m * m + 32) { scratch -> LaneMask in
      let inverses = scratch.baseAddress!, XH = inverses + 4 * m, XF = XH + m * m
      let DH = XF + m * m, DF = DH + 4, phiHalf = DF + 4, phiFull = phiHalf + 6, block = phiFull + 6
      // The 2×2 systems `(A_dd − a_jj I)` of the Sylvester equation, inverted where their 1-norm
      // condition number is at most 1e3 (`exponentials`).
      for j in 0..<m {
        let d = entry(j, j)
        let (m00, m01, m10, m11) = (a00 - d, a01, a10, a11 - d)
        let det = m00 * m11 - m01 * m10
        let norm1 = largest(magnitude(m00) + magnitude(m10), magnitude(m01) + magnitude(m11))
        let normInf = largest(magnitude(m00) + magnitude(m01), magnitude(m10) + magnitude(m11))
        done = done .& (det .!= 0) .& ((det - det) .== 0) .& (norm1 * normInf / magnitude(det) .<= 1e3)
        (inverses[4 * j], inverses[4 * j + 1], inverses[4 * j + 2], inverses[4 * j + 3]) = (m11 / det, -m01 / det, -m10 / det, m00 / det)
      }
      guard any(done) else { return none }
      // The chain's exponentials, lane by lane.
      if m == 1 {
        for l in 0..<8 {
          let rate = linear[0][l]
          XH[0][l] = exp(rate * (h / 2))
          XF[0][l] = exp(rate * h)
        }
      } else {
        // Zeros for the lanes not done here, whose exponentials are not looked up.
        XH.initialize(repeating: .zero, count: 2 * m * m)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * m * m) { buffer in
          let chain = buffer.baseAddress!, half = chain + m * m, full = half + m * m
          for l in 0..<8 where done[l] {
            chain.initialize(repeating: 0, count: m * m)
            for i in 0..<m { for j in 0...i { chain[i * m + j] = linear[i * n + j][l] } }
            if let chainExponentials {
              chainExponentials.exponentials(UnsafeBufferPointer(start: chain, count: m * m), m: m, h: h, half: half, full: full)
            } else {
              let both = MatrixFunctions.exponentialHalfAndFull(Array(UnsafeBufferPointer(start: chain, count: m * m)), n: m, h: h)
              for i in 0..<(m * m) { (half[i], full[i]) = (both.half[i], both.full[i]) }
            }
            for i in 0..<(m * m) { (XH[i][l], XF[i][l]) = (half[i], full[i]) }
          }
        }
      }
      (block[0], block[1], block[2], block[3]) = (a00, a01, a10, a11)
      dispositionSeries(block, tau: h / 2, norm: norm / 2, exponential: DH, phi: phiHalf)
      dispositionSeries(block, tau: h, norm: norm, exponential: DF, phi: phiFull)
      // The layout: X, C½, central row of C½X½, C, D½, D, p, q₁, q₂, q₃.
      let X = out, CH = X + m * m, CXH = CH + 2 * m, CF = CXH + m, OH = CF + 2 * m, OF = OH + 4, V = OF + 4
      for i in 0..<(m * m) { X[i] = XF[i] }
      for i in 0..<m { for j in (i + 1)..<Swift.max(m, i + 1) { X[i * m + j] = .zero } }
      let column = linear + m * n, columnTo = column + n
      /// `coupling`, side by side: `A_dd C − C A_xx = D A_dx − A_dx X`, columns last to first.
      func coupling(_ X: UnsafePointer<Lanes>, _ D: UnsafePointer<Lanes>, into C: UnsafeMutablePointer<Lanes>) {
        var j = m - 1
        while j >= 0 {
          var r0 = Lanes.zero, r1 = Lanes.zero
          r0 += D[0] * column[j]
          r1 += D[2] * column[j]
          r0 += D[1] * columnTo[j]
          r1 += D[3] * columnTo[j]
          for k in j..<m {
            r0 -= column[k] * X[k * m + j]
            r1 -= columnTo[k] * X[k * m + j]
          }
          for k in (j + 1)..<Swift.max(m, j + 1) {
            r0 += entry(k, j) * C[k]
            r1 += entry(k, j) * C[m + k]
          }
          C[j] = inverses[4 * j] * r0 + inverses[4 * j + 1] * r1
          C[m + j] = inverses[4 * j + 2] * r0 + inverses[4 * j + 3] * r1
          j -= 1
        }
      }
      coupling(XH, DH, into: CH)
      coupling(XF, DF, into: CF)
      for j in 0..<m {
        var s = Lanes.zero
        for k in j..<m { s += CH[k] * XH[k * m + j] }
        CXH[j] = s
      }
      for i in 0..<4 { (OH[i], OF[i]) = (DH[i], DF[i]) }
      let h2 = Lanes(repeating: h * h), hh = Lanes(repeating: h)
      for r in 0..<2 {
        V[r] = phiHalf[r]
        let (f1, f2, f3) = (phiFull[r], phiFull[2 + r], phiFull[4 + r])
        V[2 + r] = f1 - 3 * f2 / hh + 4 * f3 / h2
        V[4 + r] = 2 * f2 / hh - 4 * f3 / h2
        V[6 + r] = -f2 / hh + 4 * f3 / h2
      }
      return done
    }
  }

  /// For the 2×2 disposition block A of each lane and `Z = τA` with `‖Z‖₁ = norm ≤ 1`: `e^Z`
  /// (row-major, 4 values) and `τ^k φ_k(Z) b` for k = 1, 2, 3 and `b = (−1, 0)` (2 values each),
  /// from one Taylor series: with `P_j = Z^j`, `e^Z = Σ_j P_j/j!` and `φ_k(Z) = Σ_j P_j/(j+k)!`
  /// (Sidje 1998, as `MatrixFunctions.phiVectorsByTaylor`), summed up to the first degree K whose
  /// term bound `norm^K/K!` is at most 2⁻⁵³ — each lane its own K: the products run to the
  /// largest lane's degree, and a lane adds only its terms up to its own. Only P's first column
  /// enters the φ-vectors. Every term is at most `norm^j/j!` in norm, so the sums carry a few ulps
  /// of error.
  private static func dispositionSeries(
    _ a: UnsafePointer<Lanes>, tau: Double, norm: Lanes, exponential e: UnsafeMutablePointer<Lanes>, phi: UnsafeMutablePointer<Lanes>
  ) {
    var degrees = SIMD8<Int64>(repeating: 1), largestDegree = 1
    for l in 0..<8 {
      var degree = 1, bound = norm[l]
      while bound > 0x1p-53 && degree < 30 {
        degree += 1
        bound *= norm[l] / Double(degree)
      }
      degrees[l] = Int64(degree)
      largestDegree = Swift.max(largestDegree, degree)
    }
    let (z00, z01, z10, z11) = (tau * a[0], tau * a[1], tau * a[2], tau * a[3])
    var (p00, p01, p10, p11) = (Lanes(repeating: 1), Lanes.zero, Lanes.zero, Lanes(repeating: 1))
    var (e00, e01, e10, e11) = (Lanes.zero, Lanes.zero, Lanes.zero, Lanes.zero)
    var (f10, f11, f20, f21, f30, f31) = (Lanes.zero, Lanes.zero, Lanes.zero, Lanes.zero, Lanes.zero, Lanes.zero)
    var (w0, w1, w2, w3) = (1.0, 1.0, 0.5, 1.0 / 6)
    for j in 0...largestDegree {
      let adds = SIMD8<Int64>(repeating: Int64(j)) .<= degrees
      e00.replace(with: e00 + w0 * p00, where: adds); e01.replace(with: e01 + w0 * p01, where: adds)
      e10.replace(with: e10 + w0 * p10, where: adds); e11.replace(with: e11 + w0 * p11, where: adds)
      f10.replace(with: f10 + w1 * p00, where: adds); f11.replace(with: f11 + w1 * p10, where: adds)
      f20.replace(with: f20 + w2 * p00, where: adds); f21.replace(with: f21 + w2 * p10, where: adds)
      f30.replace(with: f30 + w3 * p00, where: adds); f31.replace(with: f31 + w3 * p10, where: adds)
      (p00, p01, p10, p11) = (z00 * p00 + z01 * p10, z00 * p01 + z01 * p11, z10 * p00 + z11 * p10, z10 * p01 + z11 * p11)
      let next = Double(j + 1)
      w0 /= next; w1 /= next + 1; w2 /= next + 2; w3 /= next + 3
    }
    (e[0], e[1], e[2], e[3]) = (e00, e01, e10, e11)
    let tau2 = tau * tau, tau3 = tau2 * tau
    (phi[0], phi[1]) = (-tau * f10, -tau * f11)
    (phi[2], phi[3]) = (-tau2 * f20, -tau2 * f21)
    (phi[4], phi[5]) = (-tau3 * f30, -tau3 * f31)
  }

  /// `Swift.abs`, lane by lane (the sign bit cleared).
  @inline(__always)
  private static func magnitude(_ x: Lanes) -> Lanes {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt64>.self) & SIMD8(repeating: ~(1 << 63)), to: Lanes.self)
  }

  /// `Swift.max(a, b)` (`b ≥ a ? b : a`), lane by lane.
  @inline(__always)
  private static func largest(_ a: Lanes, _ b: Lanes) -> Lanes { a.replacing(with: b, where: b .>= a) }
}
