/// An order-independent sum of doubles: each value is converted to fixed point with 40
/// fractional bits (truncated toward zero, `|x| < 2^86`) and added as a 128-bit integer. Integer
/// addition is associative, so the result is the same for any summation order, thread count,
/// chunking or sharding — which a floating-point sum is not. The truncation (≤ 2^-40 ≈ 9e-13 per
/// value) is far below the solver's tolerance.
public struct ExactSum: Sendable, Equatable {
  public private(set) var fixedPoint: Int128 = 0
  public init() {}
  init(fixedPoint: Int128) { self.fixedPoint = fixedPoint }

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

/// Exact first and second moments of a column: `ΣX` and `ΣX²` of the fixed-point integers
/// `X = trunc(x·2^40)` (the same conversion as `ExactSum`), held as wide integers, so one pass gives
/// both and the result is the same for any order, chunking, thread count or sharding. The sample
/// variance of the X is then `(n·ΣX² − (ΣX)²) / (n(n − 1))`, computed exactly and rounded once to
/// the nearest double (`variance(count:)`).
public struct ExactMoments: Sendable, Equatable {
  /// ΣX (|X| ≤ 2^126 each).
  public private(set) var sum: Int128 = 0
  /// ΣX², an unsigned 320-bit integer in little-endian 64-bit limbs (X² < 2^253; ≥ 2^67 values fit).
  var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0, s4: UInt64 = 0

  public init() {}

  /// Adds `x` (NaN is skipped; beyond ±2^86 it is clamped there, as in `ExactSum`).
  @inline(__always)
  public mutating func add(_ x: Double) {
    let scaled = x * ExactSum.scale
    if Swift.abs(scaled) < 0x1p63 {
      let fixed = Int64(scaled)
      sum &+= Int128(fixed)
      let m = fixed.magnitude
      let (hi, lo) = m.multipliedFullWidth(by: m)  // < 2^126: hi < 2^62
      let (a, c0) = s0.addingReportingOverflow(lo)
      s0 = a
      let (b, c1) = s1.addingReportingOverflow(hi &+ (c0 ? 1 : 0))
      s1 = b
      if c1 { carry() }
    } else if !x.isNaN {
      addLarge(Int128(Swift.min(Swift.max(x, -ExactSum.limit), ExactSum.limit) * ExactSum.scale))
    }
  }

  /// Adds every value (the same result as `add` one by one; the accumulators stay in registers).
  public mutating func add(contentsOf values: UnsafeBufferPointer<Double>) {
    _ = addReportingRange(contentsOf: values)
  }

  /// Adds every value, as `add(contentsOf:)`, and returns the smallest and largest value
  /// ((+∞, −∞) when there is none; of equal zeros, either). One pass for both: the summary's
  /// selection needs the range, and the values are read from memory once.
  mutating func addReportingRange(contentsOf values: UnsafeBufferPointer<Double>) -> (minimum: Double, maximum: Double) {
    var total: Int128 = 0
    var a0: UInt64 = 0, a1: UInt64 = 0, a2: UInt64 = 0  // a2 counts carries: < values.count
    var rest = ExactMoments()
    var minimum = Double.infinity, maximum = -Double.infinity
    for x in values {
      minimum = x < minimum ? x : minimum
      maximum = x > maximum ? x : maximum
      let scaled = x * ExactSum.scale
      if scaled > -0x1p63 && scaled < 0x1p63 {  // |scaled| < 2^63, as in `add`, in the form of Int64's own check
        let fixed = Int64(scaled)
        total &+= Int128(fixed)
        let (hi, lo) = fixed.multipliedFullWidth(by: fixed)  // X² < 2^126: 0 ≤ hi < 2^62
        let (v0, c0) = a0.addingReportingOverflow(lo)
        a0 = v0
        let (v1, c1) = a1.addingReportingOverflow(UInt64(bitPattern: hi) &+ (c0 ? 1 : 0))
        a1 = v1
        a2 &+= c1 ? 1 : 0
      } else {
        rest.add(x)
      }
    }
    sum &+= total &+ rest.sum
    addLimbs((a0, a1, a2, 0, 0))
    addLimbs(rest.limbs)
    return (minimum, maximum)
  }

  @inline(never)
  mutating func addLarge(_ fixed: Int128) {
    sum &+= fixed
    let m = fixed.magnitude
    let (hi, lo) = m.multipliedFullWidth(by: m)
    addLimbs((UInt64(truncatingIfNeeded: lo), UInt64(truncatingIfNeeded: lo >> 64), UInt64(truncatingIfNeeded: hi), UInt64(truncatingIfNeeded: hi >> 64), 0))
  }

  /// Adds 2^128 (the carry out of the low two limbs).
  @inline(never)
  mutating func carry() {
    s2 &+= 1
    if s2 == 0 {
      s3 &+= 1
      if s3 == 0 { s4 &+= 1 }
    }
  }

  /// ΣX² as five little-endian limbs (a tuple: no heap allocation when merging).
  typealias Limbs = (UInt64, UInt64, UInt64, UInt64, UInt64)

  var limbs: Limbs { (s0, s1, s2, s3, s4) }

  /// ΣX² += `other` (mod 2^320).
  mutating func addLimbs(_ other: Limbs) {
    var c: UInt64 = 0
    func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
      let (x, o1) = a.addingReportingOverflow(b)
      let (y, o2) = x.addingReportingOverflow(c)
      c = (o1 ? 1 : 0) + (o2 ? 1 : 0)
      return y
    }
    s0 = add(s0, other.0)
    s1 = add(s1, other.1)
    s2 = add(s2, other.2)
    s3 = add(s3, other.3)
    s4 = add(s4, other.4)
  }

  public static func + (a: ExactMoments, b: ExactMoments) -> ExactMoments {
    var s = a
    s.sum &+= b.sum
    s.addLimbs(b.limbs)
    return s
  }

  /// Σx, as `ExactSum` would give it.
  public var exactSum: ExactSum { ExactSum(fixedPoint: sum) }

  /// The mean `Double(ΣX)·2^-40 / n` (the same bytes as `ExactSum.value / n`).
  public func mean(count n: Int) -> Double { exactSum.value / Double(n) }

  /// The sample variance (n − 1) of the fixed-point values, exactly `(n·ΣX² − (ΣX)²) / (n(n−1))·2^-80`
  /// rounded once to the nearest double (ties to even); 0 when n ≤ 1.
  public func variance(count n: Int) -> Double {
    guard n > 1 else { return 0 }
    var numerator = WideUInt([s0, s1, s2, s3, s4]).multiplied(by: UInt64(n))
    let s = sum.magnitude
    let (hi, lo) = s.multipliedFullWidth(by: s)
    let square = WideUInt([UInt64(truncatingIfNeeded: lo), UInt64(truncatingIfNeeded: lo >> 64), UInt64(truncatingIfNeeded: hi), UInt64(truncatingIfNeeded: hi >> 64)])
    numerator.subtract(square)  // ≥ 0: n·ΣX² ≥ (ΣX)² (Cauchy–Schwarz)
    let bits = numerator.bitWidth
    if bits == 0 { return 0 }
    // Scale so that the quotient has ≥ 66 significant bits, then round its top 64 bits (with a
    // sticky bit for everything below and the remainders) to a double: exact round-to-nearest.
    let nBits = UInt64(n).bitLength
    let shift = Swift.max(0, 2 * nBits + 66 - bits)
    numerator.shiftLeft(shift)
    let r1 = numerator.divide(by: UInt64(n))
    let r2 = numerator.divide(by: UInt64(n - 1))
    let length = numerator.bitWidth
    var top = numerator.bits(from: length - 64)
    if r1 != 0 || r2 != 0 || numerator.hasBits(below: length - 64) { top |= 1 }
    return Double(sign: .plus, exponent: length - 64 - shift - 80, significand: Double(top))
  }

  /// The sample SD (n − 1): the square root of `variance(count:)`.
  public func sd(count n: Int) -> Double { variance(count: n).squareRoot() }
}

extension UInt64 {
  var bitLength: Int { UInt64.bitWidth - leadingZeroBitCount }
}

/// A little-endian unsigned integer of any width: just what `ExactMoments.variance` needs.
struct WideUInt {
  var limbs: [UInt64]
  init(_ limbs: [UInt64]) { self.limbs = limbs }

  var bitWidth: Int {
    for k in stride(from: limbs.count - 1, through: 0, by: -1) where limbs[k] != 0 { return 64 * k + limbs[k].bitLength }
    return 0
  }

  func multiplied(by m: UInt64) -> WideUInt {
    var out = [UInt64](repeating: 0, count: limbs.count + 1)
    var carry: UInt64 = 0
    for k in limbs.indices {
      let (hi, lo) = limbs[k].multipliedFullWidth(by: m)
      let (v, o) = lo.addingReportingOverflow(carry)
      out[k] = v
      carry = hi &+ (o ? 1 : 0)  // hi ≤ 2^64 − 2: no overflow
    }
    out[limbs.count] = carry
    return WideUInt(out)
  }

  /// self −= other (requires self ≥ other).
  mutating func subtract(_ other: WideUInt) {
    var borrow: UInt64 = 0
    for k in limbs.indices {
      let o = k < other.limbs.count ? other.limbs[k] : 0
      let (a, b1) = limbs[k].subtractingReportingOverflow(o)
      let (c, b2) = a.subtractingReportingOverflow(borrow)
      limbs[k] = c
      borrow = (b1 ? 1 : 0) + (b2 ? 1 : 0)
    }
    precondition(borrow == 0, "negative variance numerator")
  }

  mutating func shiftLeft(_ s: Int) {
    guard s > 0 else { return }
    let words = s / 64, bits = s % 64
    var out = [UInt64](repeating: 0, count: limbs.count + words + 1)
    for k in limbs.indices {
      out[k + words] |= limbs[k] << UInt64(bits)
      if bits > 0 { out[k + words + 1] |= limbs[k] >> UInt64(64 - bits) }
    }
    limbs = out
  }

  /// self = ⌊self / d⌋; returns the remainder.
  mutating func divide(by d: UInt64) -> UInt64 {
    var r: UInt64 = 0
    for k in stride(from: limbs.count - 1, through: 0, by: -1) {
      let (q, rem) = d.dividingFullWidth((r, limbs[k]))
      limbs[k] = q
      r = rem
    }
    return r
  }

  /// The 64 bits starting at bit `i` (i ≥ 0).
  func bits(from i: Int) -> UInt64 {
    let w = i / 64, b = i % 64
    let low = w < limbs.count ? limbs[w] >> UInt64(b) : 0
    let high = b > 0 && w + 1 < limbs.count ? limbs[w + 1] << UInt64(64 - b) : 0
    return low | high
  }

  /// Whether any bit below bit `i` is set.
  func hasBits(below i: Int) -> Bool {
    let w = i / 64, b = i % 64
    for k in 0..<Swift.min(w, limbs.count) where limbs[k] != 0 { return true }
    return b > 0 && w < limbs.count && limbs[w] & ((1 << UInt64(b)) - 1) != 0
  }
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

  /// The summary of values held in memory (sorted in place). The reference definition: mean and
  /// SD from `ExactMoments`, percentiles from the sorted values.
  public static func of(_ values: inout [Double]) -> ColumnSummary {
    let n = values.count
    var moments = ExactMoments()
    for v in values { moments.add(v) }
    let m = moments.mean(count: n), sd = moments.sd(count: n)
    values.sort()
    let sorted = values
    return ColumnSummary(mean: m, sd: sd, percentiles: probabilities.map { p in type7(p, orderStatistic: { sorted[$0] }, count: n) })
  }
}

extension ColumnSummary {
  /// The distinct 0-based ranks whose order statistics the five percentiles need, ascending.
  public static func neededRanks(count n: Int) -> [Int] {
    var ranks: [Int] = []
    for p in probabilities {
      let (j, f) = rank(p, count: n)
      ranks.append(j)
      if f > 0 && j + 1 < n { ranks.append(j + 1) }
    }
    return Array(Set(ranks)).sorted()
  }

  /// The same summary as `of(_:)` (exact moments, exact order statistics) without a sort: one pass
  /// for the moments and the range, then `orderStatistics` (O(n)). `values` may be reordered.
  public static func bySelection(_ values: UnsafeMutableBufferPointer<Double>) -> ColumnSummary {
    let n = values.count
    var moments = ExactMoments()
    let range = moments.addReportingRange(contentsOf: UnsafeBufferPointer(values))
    let ranks = neededRanks(count: n)
    let statistics = orderStatistics(values, ranks: ranks, range: range)
    let byRank = Dictionary(uniqueKeysWithValues: zip(ranks, statistics))
    return ColumnSummary(
      mean: moments.mean(count: n), sd: moments.sd(count: n),
      percentiles: probabilities.map { p in type7(p, orderStatistic: { byRank[$0]! }, count: n) })
  }

  /// Up to this many values, `orderStatistics` selects directly (`select`).
  static let directSelectionLimit = 256

  /// The order statistics of `ranks` (ascending, distinct, 0-based) of `values` (not NaN), whose
  /// smallest and largest values are `range` (found when not given). `values` may be reordered.
  ///
  /// Distribution selection: one pass histograms the values by an order-preserving 64-bit key
  /// (`StreamingSummary.key`) into up to 2^11 equal key ranges spanning `range`; the cumulative
  /// counts give, for every wanted rank, the bin holding it and its rank within that bin. A second
  /// pass copies out only the values of those bins (typically a few percent of the column), bin by
  /// bin, and each bin's ranks are resolved recursively: directly when small, else by the same
  /// histogram on the bin's own, narrower range. A bin never holds every value (the smallest and
  /// largest fall in different bins), and each level narrows the key range at least 8-fold, so the
  /// recursion ends. Values in lower bins are smaller, so the results are the exact order
  /// statistics (those of sorting; of equal zeros, either sign may be returned).
  static func orderStatistics(
    _ values: UnsafeMutableBufferPointer<Double>, ranks: [Int], range: (minimum: Double, maximum: Double)? = nil
  ) -> [Double] {
    if values.count <= directSelectionLimit {
      select(values, ranks: ranks)
      return ranks.map { values[$0] }
    }
    let range = range ?? Self.range(of: UnsafeBufferPointer(values))
    if !(range.minimum < range.maximum) { return ranks.map { _ in range.minimum } }
    let bins = KeyBins(range, count: values.count)
    let segments = bins.segments(counts: bins.histogram(UnsafeBufferPointer(values)), ranks: ranks)
    let kept = bins.extract(UnsafeBufferPointer(values), segments: segments)
    defer { kept.deallocate() }
    var statistics: [Double] = []
    statistics.reserveCapacity(ranks.count)
    for segment in segments {
      let bin = UnsafeMutableBufferPointer(rebasing: kept[segment.start..<(segment.start + segment.count)])
      statistics += orderStatistics(bin, ranks: segment.ranks)
    }
    return statistics
  }

  /// The smallest and largest of `values` (not NaN; of equal zeros, either).
  static func range(of values: UnsafeBufferPointer<Double>) -> (minimum: Double, maximum: Double) {
    var minimum = Double.infinity, maximum = -Double.infinity
    for x in values {
      minimum = x < minimum ? x : minimum
      maximum = x > maximum ? x : maximum
    }
    return (minimum, maximum)
  }

  /// Multi-rank selection: afterwards `a[r]` holds the order statistic of rank r (0-based) for
  /// every r in `ranks` (ascending, distinct, in `0..<a.count`). One recursive partition that only
  /// descends into the sides holding wanted ranks (Hoare's FIND generalised; cf. Kaligosi et al.,
  /// "Towards optimal multiple selection", ICALP 2005); subarrays of < 24 values are insertion
  /// sorted, and past a depth of 2·log2(n) + 8 a subrange is sorted (no quadratic worst case).
  /// Values must not be NaN.
  public static func select(_ a: UnsafeMutableBufferPointer<Double>, ranks: [Int]) {
    guard a.count > 1, !ranks.isEmpty, let base = a.baseAddress else { return }
    ranks.withUnsafeBufferPointer { r in
      let depth = 2 * (Int.bitWidth - a.count.leadingZeroBitCount) + 8
      multiSelect(base, 0, a.count - 1, r.baseAddress!, 0, r.count, floor: nil, depth: depth)
    }
  }

  /// Selects `ranks[rlo..<rhi]` (all in lo...hi) within `a[lo...hi]`, whose values are all ≥ `floor`
  /// when given. Branch-free Lomuto partitions (the comparison only moves an index, so a random
  /// column costs no branch mispredictions); a pivot equal to `floor` instead splits off every
  /// value equal to it (pdqsort's answer to duplicates: Peters, arXiv:2106.05123).
  static func multiSelect(
    _ a: UnsafeMutablePointer<Double>, _ lo: Int, _ hi: Int, _ ranks: UnsafePointer<Int>, _ rlo: Int, _ rhi: Int,
    floor: Double?, depth: Int
  ) {
    var left = lo, right = hi, rlo = rlo, depth = depth, floor = floor
    while rlo < rhi {
      if right - left < 24 {
        insertionSort(a, left, right)
        return
      }
      if depth == 0 {
        var sub = UnsafeMutableBufferPointer(start: a + left, count: right - left + 1)
        sub.sort()
        return
      }
      depth -= 1
      // Median of three (of nine for large ranges) to a[left] as the pivot.
      let count = right - left + 1
      let mid = left + count / 2
      if count > 128 {
        let e = count / 8
        median3(a, left + 1, left + 1 + e, left + 1 + 2 * e)
        median3(a, mid - e, mid, mid + e)
        median3(a, right - 2 * e, right - e, right)
        median3(a, left + 1 + e, mid, right - e)
      } else {
        median3(a, left + 1, mid, right)
      }
      swap(a, left, mid)
      let pivot = a[left]
      var store = left + 1
      if let f = floor, !(f < pivot) {
        // pivot == floor: a[left+1 ..< store] == pivot afterwards, the rest > pivot.
        for i in (left + 1)...right {
          let x = a[i]
          a[i] = a[store]
          a[store] = x
          store &+= bit(x <= pivot)
        }
        var m = rlo
        while m < rhi && ranks[m] < store { m += 1 }
        left = store
        rlo = m
        continue
      }
      for i in (left + 1)...right {
        let x = a[i]
        a[i] = a[store]
        a[store] = x
        store &+= bit(x < pivot)
      }
      // a[left+1 ..< store] < pivot ≤ a[store...right]; put the pivot between.
      let p = store - 1
      swap(a, left, p)
      var m1 = rlo
      while m1 < rhi && ranks[m1] < p { m1 += 1 }
      var m2 = m1
      while m2 < rhi && ranks[m2] <= p { m2 += 1 }
      if m1 > rlo { multiSelect(a, left, p - 1, ranks, rlo, m1, floor: floor, depth: depth) }
      left = p + 1
      rlo = m2
      floor = pivot
    }
  }

  /// 0 or 1, without a branch.
  @inline(__always)
  static func bit(_ b: Bool) -> Int { Int(unsafeBitCast(b, to: UInt8.self)) }

  /// Orders a[i] ≤ a[j] ≤ a[k].
  @inline(__always)
  static func median3(_ a: UnsafeMutablePointer<Double>, _ i: Int, _ j: Int, _ k: Int) {
    if a[j] < a[i] { swap(a, i, j) }
    if a[k] < a[j] {
      swap(a, j, k)
      if a[j] < a[i] { swap(a, i, j) }
    }
  }

  @inline(__always)
  static func swap(_ a: UnsafeMutablePointer<Double>, _ i: Int, _ j: Int) {
    let t = a[i]
    a[i] = a[j]
    a[j] = t
  }

  @inline(__always)
  static func insertionSort(_ a: UnsafeMutablePointer<Double>, _ lo: Int, _ hi: Int) {
    guard hi > lo else { return }
    for i in (lo + 1)...hi {
      let x = a[i]
      var j = i - 1
      while j >= lo && a[j] > x {
        a[j + 1] = a[j]
        j -= 1
      }
      a[j + 1] = x
    }
  }
}

/// Equal key ranges (bins) over a range of doubles, for `ColumnSummary.orderStatistics`.
struct KeyBins {
  /// The first key of bin 0.
  let lo: UInt64
  /// log2 of the keys per bin.
  let shift: UInt64
  /// Bins in use: `key(maximum)` falls in the last one.
  let count: Int

  /// A power of two of bins, n/8 to n/4 (16…2048), spanning the keys of `range` (minimum < maximum).
  /// A range bound that is zero is taken as −0.0 below and +0.0 above, so either zero falls inside.
  init(_ range: (minimum: Double, maximum: Double), count n: Int) {
    let low = StreamingSummary.key(range.minimum == 0 ? -0.0 : range.minimum)
    let high = StreamingSummary.key(range.maximum == 0 ? 0.0 : range.maximum)
    let binBits = Swift.min(11, Swift.max(4, UInt64(n).bitLength - 3))
    let span = high - low
    shift = UInt64(Swift.max(0, span.bitLength - binBits))
    lo = low
    count = Int(span >> shift) + 1
  }

  @inline(__always)
  func bin(_ x: Double) -> Int { Int(truncatingIfNeeded: (StreamingSummary.key(x) &- lo) &>> shift) }  // shift < 64

  /// How many values fall in each bin.
  func histogram(_ values: UnsafeBufferPointer<Double>) -> [Int] {
    var counts = [Int](repeating: 0, count: count)
    counts.withUnsafeMutableBufferPointer { c in
      let base = c.baseAddress!
      for x in values { base[bin(x)] &+= 1 }
    }
    return counts
  }

  /// A bin holding wanted ranks: where its values go in the extracted buffer, how many there are,
  /// and the wanted ranks within the bin (ascending).
  struct Segment {
    var bin: Int
    var start: Int
    var count: Int
    var ranks: [Int]
  }

  /// The bins holding `ranks` (ascending), in bin order, laid out one after another.
  func segments(counts: [Int], ranks: [Int]) -> [Segment] {
    var segments: [Segment] = []
    var below = 0, b = 0, start = 0
    for r in ranks {
      while below + counts[b] <= r {
        below += counts[b]
        b += 1
      }
      if segments.last?.bin == b {
        segments[segments.count - 1].ranks.append(r - below)
      } else {
        if let last = segments.last { start = last.start + last.count }
        segments.append(Segment(bin: b, start: start, count: counts[b], ranks: [r - below]))
      }
    }
    return segments
  }

  /// Copies the values of the segments' bins, each bin to its segment, into a new buffer (to
  /// deallocate). Branch-free: every value is stored, those of other bins to a spare last slot.
  func extract(_ values: UnsafeBufferPointer<Double>, segments: [Segment]) -> UnsafeMutableBufferPointer<Double> {
    let total = segments.last.map { $0.start + $0.count } ?? 0
    let out = UnsafeMutableBufferPointer<Double>.allocate(capacity: total + 1)
    var next = [Int](repeating: total, count: count)
    var step = [Int](repeating: 0, count: count)
    for s in segments {
      next[s.bin] = s.start
      step[s.bin] = 1
    }
    next.withUnsafeMutableBufferPointer { next in
      step.withUnsafeBufferPointer { step in
        let next = next.baseAddress!, step = step.baseAddress!, base = out.baseAddress!
        for x in values {
          let b = bin(x)
          let p = next[b]
          base[p] = x
          next[b] = p &+ step[b]
        }
      }
    }
    return out
  }
}
