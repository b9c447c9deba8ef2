/// An order-independent sum of doubles: each value is converted to fixed point with 40
/// fractional bits (truncated toward zero, `|x| < 2^86`) and added as a 128-bit integer. Integer
/// addition is associative, so the result is the same for any summation order, thread count,
/// chunking or sharding — which a floating-point sum is not. The truncation (≤ 2^-40 ≈ 9e-13 per
/// value) is far below the solver's tolerance.
public struct ExactSum: Sendable, Equatable {
  public private(set) var fixedPoint: Int128 = 0
  public init() {}

  static let scale = 0x1p40
  static let limit = 0x1p86

  /// Adds `x`; values beyond ±2^86 (≈ 7.7e25) are clamped there (they are not concentrations).
  @inline(__always)
  public mutating func add(_ x: Double) {
    let scaled = x * Self.scale
    // Int64 conversion is one instruction; the generic Int128(Double) is not. |x| < 2^23 (8e6
    // mg/L) covers every concentration; beyond it, clamp to ±2^86 and convert generically.
    if Swift.abs(scaled) < 0x1p63 {
      fixedPoint &+= Int128(Int64(scaled))
    } else if !x.isNaN {
      fixedPoint &+= Int128(Swift.min(Swift.max(x, -Self.limit), Self.limit) * Self.scale)
    }
  }

  public static func + (a: ExactSum, b: ExactSum) -> ExactSum {
    var s = a
    s.fixedPoint &+= b.fixedPoint
    return s
  }

  public var value: Double { Double(fixedPoint) / Self.scale }
}

/// Summary statistics of one column of values (one time point over a cohort).
public struct ColumnSummary: Sendable, Equatable {
  public var mean: Double
  /// Sample SD with n − 1 (0 when n = 1).
  public var sd: Double
  /// p05, p25, p50, p75, p95 by R's type 7 (linear interpolation between order statistics).
  public var percentiles: [Double]

  public static let probabilities = [0.05, 0.25, 0.50, 0.75, 0.95]

  /// `h = (n − 1)p`, `j = ⌊h⌋`: `Q(p) = x_(j) + (h − j)(x_(j+1) − x_(j))` (0-based order statistics).
  /// Source: Hyndman & Fan, "Sample quantiles in statistical packages", Am. Stat. 50 (1996), def. 7.
  public static func rank(_ p: Double, count n: Int) -> (lower: Int, fraction: Double) {
    let h = Double(n - 1) * p
    let j = Swift.min(Int(h.rounded(.down)), n - 1)
    return (j, h - Double(j))
  }

  public static func type7(_ p: Double, orderStatistic: (Int) -> Double, count n: Int) -> Double {
    let (j, f) = rank(p, count: n)
    let low = orderStatistic(j)
    guard f > 0, j + 1 < n else { return low }
    return low + f * (orderStatistic(j + 1) - low)
  }

  /// Mean from an exact sum, SD from the exact sum of squared deviations.
  public static func moments(sum: ExactSum, squaredDeviations: ExactSum, count n: Int) -> (Double, Double) {
    let mean = sum.value / Double(n)
    let sd = n > 1 ? (squaredDeviations.value / Double(n - 1)).squareRoot() : 0
    return (mean, sd)
  }

  /// The summary of values held in memory (sorted in place).
  public static func of(_ values: inout [Double]) -> ColumnSummary {
    let n = values.count
    var sum = ExactSum()
    for v in values { sum.add(v) }
    let mean = sum.value / Double(n)
    var squares = ExactSum()
    for v in values { let d = v - mean; squares.add(d * d) }
    let (m, sd) = moments(sum: sum, squaredDeviations: squares, count: n)
    values.sort()
    let sorted = values
    return ColumnSummary(mean: m, sd: sd, percentiles: probabilities.map { p in type7(p, orderStatistic: { sorted[$0] }, count: n) })
  }
}

extension ColumnSummary {
  /// The same summary as `of(_:)` (exact sums, exact order statistics), by selection instead of a
  /// full sort: each needed rank is found by quickselect (Hoare's FIND, CACM 4 (1961) 321–322) in
  /// the part of the buffer the previous rank left to its right. O(n) instead of O(n log n).
  /// `values` is reordered.
  public static func bySelection(_ values: UnsafeMutableBufferPointer<Double>) -> ColumnSummary {
    let n = values.count
    var sum = ExactSum()
    for v in values { sum.add(v) }
    let mean = sum.value / Double(n)
    var squares = ExactSum()
    for v in values { let d = v - mean; squares.add(d * d) }
    let (m, sd) = moments(sum: sum, squaredDeviations: squares, count: n)
    var ranks = Set<Int>()
    for p in probabilities {
      let (j, f) = rank(p, count: n)
      ranks.insert(j)
      if f > 0 && j + 1 < n { ranks.insert(j + 1) }
    }
    var found: [Int: Double] = [:]
    var lower = 0
    for r in ranks.sorted() {
      found[r] = select(values, rank: r, from: lower)
      lower = r  // everything left of r is ≤ it now
    }
    return ColumnSummary(mean: m, sd: sd, percentiles: probabilities.map { p in type7(p, orderStatistic: { found[$0]! }, count: n) })
  }

  /// The value of rank `k` (0-based) among `a[lo...]`, leaving a[..<k] ≤ a[k] ≤ a[(k+1)...].
  static func select(_ a: UnsafeMutableBufferPointer<Double>, rank k: Int, from lo: Int) -> Double {
    var left = lo, right = a.count - 1
    while right > left {
      // Median of three as the pivot.
      let mid = left + (right - left) / 2
      if a[mid] < a[left] { a.swapAt(mid, left) }
      if a[right] < a[left] { a.swapAt(right, left) }
      if a[right] < a[mid] { a.swapAt(right, mid) }
      let pivot = a[mid]
      var i = left, j = right
      while i <= j {
        while a[i] < pivot { i += 1 }
        while a[j] > pivot { j -= 1 }
        if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
      }
      if k <= j { right = j } else if k >= i { left = i } else { return a[k] }
    }
    return a[k]
  }
}
