/// Small dense linear algebra for the implicit methods (n ≲ 20), in place, no allocation.
enum LinearAlgebra {
  /// LU factorisation with partial pivoting of the row-major `n × n` matrix `a`, in place
  /// (Doolittle; Golub & Van Loan, *Matrix Computations*, Alg. 3.4.1).
  /// - Returns: `false` when a pivot is zero or not finite (the matrix is singular to working precision).
  static func factorize(_ a: UnsafeMutablePointer<Double>, n: Int, pivots: UnsafeMutablePointer<Int>) -> Bool {
    for col in 0..<n {
      var p = col
      var best = Swift.abs(a[col * n + col])
      for r in (col + 1)..<Swift.max(n, col + 1) where Swift.abs(a[r * n + col]) > best {
        best = Swift.abs(a[r * n + col])
        p = r
      }
      pivots[col] = p
      guard best > 0, best.isFinite else { return false }
      if p != col {
        for j in 0..<n { swap(&a[col * n + j], &a[p * n + j]) }
      }
      let inv = 1 / a[col * n + col]
      for r in (col + 1)..<Swift.max(n, col + 1) {
        let factor = a[r * n + col] * inv
        a[r * n + col] = factor
        if factor != 0 {
          for j in (col + 1)..<n { a[r * n + j] -= factor * a[col * n + j] }
        }
      }
    }
    return true
  }

  /// Solves `A x = b` in place (`rhs` becomes `x`) with the factors from `factorize`.
  static func solve(_ lu: UnsafePointer<Double>, n: Int, pivots: UnsafePointer<Int>, rhs b: UnsafeMutablePointer<Double>) {
    for i in 0..<n where pivots[i] != i { swap(&b[i], &b[pivots[i]]) }
    for i in 0..<n {
      var sum = b[i]
      for j in 0..<i { sum -= lu[i * n + j] * b[j] }
      b[i] = sum
    }
    var i = n - 1
    while i >= 0 {
      var sum = b[i]
      for j in (i + 1)..<n { sum -= lu[i * n + j] * b[j] }
      b[i] = sum / lu[i * n + i]
      i -= 1
    }
  }
}
