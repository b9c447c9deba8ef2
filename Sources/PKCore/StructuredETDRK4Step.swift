import PKNumerics

/// One ETDRK4 step (`ETDRK4Step`) rewritten for the model's block structure, which makes it about
/// three times cheaper than the dense form on the daily grid.
///
/// The state is the absorption chain `x` (depot and transits, m = ntr + 1 amounts) followed by the
/// disposition pair `d = (A_c, A_p)`. The linear part is block lower-triangular,
/// `A = [[A_xx, 0], [A_dx, A_dd]]`: the chain feeds the central compartment and never hears back.
/// The saturable term acts along `b = −e_c`, which lies in the disposition block, so every
/// φ-function column `φ_k(hA)b` is zero in the chain rows (A's powers keep that block invariant).
/// With `E = e^{hA} = [[X, 0], [C, D]]` and `E½ = [[X½, 0], [C½, D½]]`, the ETDRK4 stages
/// (Cox & Matthews 2002, eqs. 26–29, as written in `ETDRK4Step`) become
///
/// ```
/// e  = D½ d + C½ x                         (E½ u, disposition rows)
/// a  = e + p N(u)                          (a's chain rows are X½ x)
/// c₂ = e + p N(a)                          (only its central amount is needed)
/// c₃ = D½ a + (C½ X½) x + p (2N(c₂) − N(u)) (ditto)
/// d⁺ = D d + C x + q₁ N(u) + q₂ (N(a) + N(c₂)) + q₃ N(c₃),   x⁺ = X x
/// ```
///
/// where p, q₁, q₂, q₃ are the disposition rows of `ETDRK4Step`'s vectors. `C½ X½` is precomputed,
/// so the chain half-step amounts are never formed. The arithmetic is the dense step's, in another
/// order: results agree to rounding (tested against `ETDRK4Step`).
///
/// This type is the coefficients' namespace: `fillSideBySide` (eight lanes, from the small
/// blocks) and `fill` (one lane, in general) compute them for one step length (in the layout
/// below, `count(chain:)` values), `structuredETDRK4` takes the step. The layout: X (m×m,
/// row-major), then C½ (2×m), the central row of C½X½ (m), C (2×m), then D½, D (2×2 each), then
/// p, q₁, q₂, q₃ (disposition rows, 2 each).
enum StructuredETDRK4Step {
  /// How many coefficients a step with an absorption chain of m amounts has.
  static func count(chain m: Int) -> Int { m * m + 5 * m + 8 + 8 }

  /// Computes one lane's coefficients into `storage` (`count(chain:)` values) in general
  /// (`fillInGeneral`): for a lane `fillSideBySide` leaves out. Returns whether every coefficient
  /// is finite.
  static func fill(
    linear: [Double], chain m: Int, direction: [Double], h: Double, chainExponentials: ChainExponentials?,
    into storage: UnsafeMutablePointer<Double>
  ) -> Bool {
    let count = Self.count(chain: m)
    storage.initialize(repeating: 0, count: count)
    Self.fillInGeneral(linear: linear, chain: m, direction: direction, h: h, chainExponentials: chainExponentials, into: storage)
    for i in 0..<count where !storage[i].isFinite { return false }
    return true
  }

  /// `coefficients` (Padé approximants, n×n products) in the step's layout: the path for steps
  /// outside `fillSideBySide`'s conditions, and its reference in tests.
  static func fillInGeneral(
    linear: [Double], chain m: Int, direction: [Double], h: Double, chainExponentials: ChainExponentials?,
    into storage: UnsafeMutablePointer<Double>
  ) {
    let n = m + 2
    let all = Self.coefficients(linear: linear, chain: m, direction: direction, h: h, chainExponentials: chainExponentials)
    let E = 0, EH = n * n, P = 2 * n * n, Q1 = P + n, Q2 = Q1 + n, Q3 = Q2 + n
    let X = storage, CH = X + m * m, CXH = CH + 2 * m, CF = CXH + m, DH = CF + 2 * m, DF = DH + 4, V = DF + 4
    for i in 0..<m { for j in 0...i { X[i * m + j] = all[E + i * n + j] } }
    for r in 0..<2 {
      let row = m + r
      for j in 0..<m {
        CH[r * m + j] = all[EH + row * n + j]
        CF[r * m + j] = all[E + row * n + j]
      }
      for s in 0..<2 {
        DH[r * 2 + s] = all[EH + row * n + m + s]
        DF[r * 2 + s] = all[E + row * n + m + s]
      }
      V[r] = all[P + row]
      V[2 + r] = all[Q1 + row]
      V[4 + r] = all[Q2 + row]
      V[6 + r] = all[Q3 + row]
    }
    // The central row of C½ X½, with X½ the chain block of E½ (lower triangular); only c₃'s
    // central amount is needed.
    for j in 0..<m {
      var s = 0.0
      for k in j..<m { s += CH[k] * all[EH + k * n + j] }
      CXH[j] = s
    }
  }

  /// `ETDRK4Step.coefficients` (E, E½, then p, q₁, q₂, q₃), computed block by block: E and E½
  /// from one exponential of the n×n matrix (no augmentation), and the φ-columns from the
  /// disposition block alone (`φ_k(hA)b` lies in it, see above): 2×2 and of small norm (no
  /// transit rates in it), so `MatrixFunctions.phiVectorsHalfAndFull` sums their Taylor series
  /// (a 5×5 augmented exponential where the norm is larger) instead of an (n+3)×(n+3) exponential.
  static func coefficients(linear a: [Double], chain m: Int, direction b: [Double], h: Double, chainExponentials: ChainExponentials?) -> [Double] {
    let n = m + 2
    let (half, full) = exponentials(linear: a, chain: m, h: h, chainExponentials: chainExponentials)
    var block = [Double](repeating: 0, count: 4)
    for r in 0..<2 { for s in 0..<2 { block[r * 2 + s] = a[(m + r) * n + m + s] } }
    let phis = MatrixFunctions.phiVectorsHalfAndFull(block, n: 2, b: [b[m], b[m + 1]], h: h, order: 3)
    let f = phis.full  // h φ1 b, h² φ2 b, h³ φ3 b, 2 values each
    var vectors = [Double](repeating: 0, count: 4 * n)
    for r in 0..<2 {
      vectors[m + r] = phis.half[r]
      let (f1, f2, f3) = (f[r], f[2 + r], f[4 + r])
      vectors[n + m + r] = f1 - 3 * f2 / h + 4 * f3 / (h * h)
      vectors[2 * n + m + r] = 2 * f2 / h - 4 * f3 / (h * h)
      vectors[3 * n + m + r] = -f2 / h + 4 * f3 / (h * h)
    }
    return full + half + vectors
  }

  /// `e^{hA/2}` and `e^{hA}` (n×n, row-major) block by block. With `A = [[A_xx, 0], [A_dx, A_dd]]`,
  /// `e^{τA} = [[X, 0], [C, D]]` with `X = e^{τA_xx}` (the chain, m×m) and `D = e^{τA_dd}` (2×2)
  /// computed alone, and the coupling block C from the Sylvester equation that A commuting with
  /// `e^{τA}` gives (its lower-left block):
  ///
  /// ```
  /// A_dd C − C A_xx = D A_dx − A_dx X.
  /// ```
  ///
  /// A_xx is lower triangular (a chain), so C's columns come out last to first, each from a 2×2
  /// system: `(A_dd − a_jj I) c_j = r_j + Σ_{k>j} a_kj c_k`. This is some five times cheaper than
  /// the n×n exponential of the transit model (whose large transit rates also cost squarings in
  /// the full matrix). The equation loses accuracy as a chain rate nears an eigenvalue of
  /// `A_dd` (a 2×2 system near singular: ka close to a disposition rate), so where any system's
  /// 1-norm condition number exceeds 1e3 (≲ 1e-13 relative error), or A_xx is not lower
  /// triangular, the n×n exponential is taken instead.
  /// Source: C. Van Loan, "Computing integrals involving the matrix exponential", IEEE Trans.
  /// Autom. Control 23 (1978) 395–404 (block-triangular exponentials); N. J. Higham, *Functions
  /// of Matrices* (2008), §4.6 (f(T) for block triangular T from a Sylvester equation).
  static func exponentials(linear a: [Double], chain m: Int, h: Double, chainExponentials: ChainExponentials? = nil) -> (half: [Double], full: [Double]) {
    let n = m + 2
    let dense = { MatrixFunctions.exponentialHalfAndFull(a, n: n, h: h) }
    var chain = [Double](repeating: 0, count: m * m)
    for i in 0..<m {
      for j in 0..<m {
        if j > i && a[i * n + j] != 0 { return dense() }
        chain[i * m + j] = a[i * n + j]
      }
    }
    let add = [a[m * n + m], a[m * n + m + 1], a[(m + 1) * n + m], a[(m + 1) * n + m + 1]]
    // The 2×2 systems' inverses (the same for both step lengths), or the dense path.
    var inverses = [Double](repeating: 0, count: 4 * m)
    for j in 0..<m {
      let (m00, m01, m10, m11) = (add[0] - chain[j * m + j], add[1], add[2], add[3] - chain[j * m + j])
      let det = m00 * m11 - m01 * m10
      let norm1 = Swift.max(Swift.abs(m00) + Swift.abs(m10), Swift.abs(m01) + Swift.abs(m11))
      let normInf = Swift.max(Swift.abs(m00) + Swift.abs(m01), Swift.abs(m10) + Swift.abs(m11))
      // cond₁ = ‖M‖₁‖M⁻¹‖₁, and ‖M⁻¹‖₁ = ‖M‖∞/|det| for a 2×2 matrix.
      guard det != 0 && det.isFinite && norm1 * normInf / Swift.abs(det) <= 1e3 else { return dense() }
      (inverses[4 * j], inverses[4 * j + 1], inverses[4 * j + 2], inverses[4 * j + 3]) = (m11 / det, -m01 / det, -m10 / det, m00 / det)
    }
    let chainExp = chainExponentials?.exponentials(chain, m: m, h: h) ?? MatrixFunctions.exponentialHalfAndFull(chain, n: m, h: h)
    let dispositionExp = MatrixFunctions.exponentialHalfAndFull(add, n: 2, h: h)
    func assemble(_ X: [Double], _ D: [Double]) -> [Double] {
      var e = [Double](repeating: 0, count: n * n)
      for i in 0..<m { for j in 0...i { e[i * n + j] = X[i * m + j] } }
      for r in 0..<2 { for s in 0..<2 { e[(m + r) * n + m + s] = D[r * 2 + s] } }
      // Right-hand sides D A_dx − A_dx X, then C column by column from the last.
      var C = [Double](repeating: 0, count: 2 * m)
      var j = m - 1
      while j >= 0 {
        func rightHandSide(_ row: Int) -> Double {
          var v = 0.0
          for s in 0..<2 { v += D[row * 2 + s] * a[(m + s) * n + j] }
          for k in j..<m { v -= a[(m + row) * n + k] * X[k * m + j] }
          for k in (j + 1)..<Swift.max(m, j + 1) { v += chain[k * m + j] * C[row * m + k] }
          return v
        }
        let (r0, r1) = (rightHandSide(0), rightHandSide(1))
        C[j] = inverses[4 * j] * r0 + inverses[4 * j + 1] * r1
        C[m + j] = inverses[4 * j + 2] * r0 + inverses[4 * j + 3] * r1
        j -= 1
      }
      for r in 0..<2 { for j in 0..<m { e[(m + r) * n + j] = C[r * m + j] } }
      return e
    }
    return (assemble(chainExp.half, dispositionExp.half), assemble(chainExp.full, dispositionExp.full))
  }

}

/// The arithmetic of the structured step, shared by one patient (`Double`) and eight SIMD lanes
/// (`SIMD8<Double>`, `ExponentialLanes`), so both run the same operations in the same order.
protocol StepArithmetic {
  static var zero: Self { get }
  static func + (a: Self, b: Self) -> Self
  static func - (a: Self, b: Self) -> Self
  static func * (a: Self, b: Self) -> Self
  static func * (a: Double, b: Self) -> Self
  static func += (a: inout Self, b: Self)
}

extension Double: StepArithmetic {}
extension SIMD8: StepArithmetic where Scalar == Double {}

/// One structured ETDRK4 step (the formulas in `StructuredETDRK4Step`'s documentation) on amounts
/// `y` (m chain amounts, then A_c, A_p) with coefficients in `StructuredETDRK4Step`'s layout (`fill`);
/// `rate(A_c)` is the saturable term. Returns `rate` of the new central amount.
@inline(__always)
func structuredETDRK4<T: StepArithmetic>(
  _ y: UnsafeMutablePointer<T>, chain m: Int, nu: T, coefficients: UnsafePointer<T>, rate: (T) -> T
) -> T {
  // The shipped models' chains (no transit compartment: m = 1; three: m = 4) with the length a
  // constant, so the chain loops unroll; the same operations in the same order as any other m.
  switch m {
  case 1: return structuredETDRK4Body(y, chain: 1, nu: nu, coefficients: coefficients, rate: rate)
  case 4: return structuredETDRK4Body(y, chain: 4, nu: nu, coefficients: coefficients, rate: rate)
  default: return structuredETDRK4Body(y, chain: m, nu: nu, coefficients: coefficients, rate: rate)
  }
}

/// `structuredETDRK4`'s arithmetic, for a chain length the caller may make a constant.
@inline(__always)
private func structuredETDRK4Body<T: StepArithmetic>(
  _ y: UnsafeMutablePointer<T>, chain m: Int, nu: T, coefficients: UnsafePointer<T>, rate: (T) -> T
) -> T {
  let X = coefficients, CH = X + m &* m, CXH = CH + 2 &* m, CF = CXH + m
  let DH = CF + 2 &* m, DF = DH + 4, V = DF + 4
  // The chain's contributions, in two passes of fewer running sums (five eight-lane sums at once
  // did not fit the sixteen AVX2 registers); each sum still adds over j in order.
  var h1c = T.zero, h1p = T.zero, h2c = T.zero
  for j in 0..<m {
    let x = y[j]
    h1c += CH[j] * x; h1p += CH[m &+ j] * x
    h2c += CXH[j] * x
  }
  var h3c = T.zero, h3p = T.zero
  for j in 0..<m {
    let x = y[j]
    h3c += CF[j] * x; h3p += CF[m &+ j] * x
  }
  // x⁺ = X x, bottom row first so each row still reads the old amounts above it.
  var i = m &- 1
  while i >= 0 {
    let row = X + i &* m
    var s = T.zero
    for j in 0...i { s += row[j] * y[j] }
    y[i] = s
    i &-= 1
  }
  let dc = y[m], dp = y[m &+ 1]
  let pc = V[0], pp = V[1]
  let ec = DH[0] * dc + DH[1] * dp + h1c
  let ep = DH[2] * dc + DH[3] * dp + h1p
  let ac = ec + pc * nu, ap = ep + pp * nu
  let na = rate(ac)
  let nc2 = rate(ec + pc * na)
  let nc3 = rate(DH[0] * ac + DH[1] * ap + h2c + pc * (2 * nc2 - nu))
  let middle = na + nc2
  let newC = DF[0] * dc + DF[1] * dp + h3c + V[2] * nu + V[4] * middle + V[6] * nc3
  let newP = DF[2] * dc + DF[3] * dp + h3p + V[3] * nu + V[5] * middle + V[7] * nc3
  y[m] = newC
  y[m &+ 1] = newP
  return rate(newC)
}

/// The chain block's exponentials `e^{hA_xx/2}` and `e^{hA_xx}` (`StructuredETDRK4Step.exponentials`)
/// by chain matrix and step length, for the patients one simulator runs: where the absorption
/// rates carry no random effect (Kovalenko 2020: ka and the transit rate are shared) every
/// patient's chain is the same, and its exponential — the costly part, with transit rates of
/// tens per day — is computed once. A cached value is the computed one, bit for bit, so output
/// does not depend on which patients a simulator ran before. Not shared between threads.
final class ChainExponentials {
  /// The entries, looked up by a linear scan (a simulator meets a handful of step lengths):
  /// no key to allocate or hash per lookup (2,100 instructions each; all of it, with the fill's
  /// own chain array, 4 % of a kovalenko2020 cohort's instructions).
  private var entries: [(h: UInt64, chain: [Double], half: [Double], full: [Double])] = []
  static let capacity = 64

  func exponentials(_ chain: [Double], m: Int, h: Double) -> (half: [Double], full: [Double]) {
    chain.withUnsafeBufferPointer { chain in
      let entry = lookUp(chain, m: m, h: h)
      return (entry.half, entry.full)
    }
  }

  /// `exponentials` written into `half` and `full` (m×m each), with no allocation for a length
  /// already met.
  func exponentials(
    _ chain: UnsafeBufferPointer<Double>, m: Int, h: Double, half: UnsafeMutablePointer<Double>, full: UnsafeMutablePointer<Double>
  ) {
    let entry = lookUp(chain, m: m, h: h)
    entry.half.withUnsafeBufferPointer { half.initialize(from: $0.baseAddress!, count: m * m) }
    entry.full.withUnsafeBufferPointer { full.initialize(from: $0.baseAddress!, count: m * m) }
  }

  private func lookUp(_ chain: UnsafeBufferPointer<Double>, m: Int, h: Double) -> (half: [Double], full: [Double]) {
    precondition(chain.count == m * m)
    let bits = h.bitPattern
    for k in entries.indices where entries[k].h == bits {
      let same = entries[k].chain.withUnsafeBufferPointer { stored in
        stored.count == chain.count && (0..<chain.count).allSatisfy { stored[$0].bitPattern == chain[$0].bitPattern }
      }
      if same { return (entries[k].half, entries[k].full) }
    }
    if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
    let matrix = Array(chain)
    let computed = MatrixFunctions.exponentialHalfAndFull(matrix, n: m, h: h)
    entries.append((bits, matrix, computed.half, computed.full))
    return computed
  }
}
