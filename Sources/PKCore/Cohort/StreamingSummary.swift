/// A source of cohort values that can be replayed: each pass delivers every patient's values in
/// patient order, in batches (`rows × columns`, row-major; one row per patient).
public protocol CohortValueSource {
  var rows: Int { get }
  var columns: Int { get }
  /// Delivers all rows, in order, as consecutive batches. Called once per pass.
  func forEachBatch(pass: Int, _ body: (_ firstRow: Int, _ rowCount: Int, _ values: UnsafeBufferPointer<Double>) throws -> Void) throws
  /// Runs `work(c)` for every column index in `0..<count`, possibly in parallel.
  func parallelColumns(_ count: Int, _ work: @escaping @Sendable (Int) -> Void)
  /// Delivers the values of the rows `rows` (ascending row indices) in that order, as consecutive
  /// batches: `body(i, count, values)` holds rows `rows[i ..< i + count]`, row-major. Used for the
  /// pilot sample of `StreamingSummary`; the default replays a pass and keeps those rows.
  func forEachSampledRow(_ rows: [Int], _ body: (_ firstIndex: Int, _ rowCount: Int, _ values: UnsafeBufferPointer<Double>) throws -> Void) throws
  /// Delivers all rows as consecutive column-major batches (what the summaries scan), batch by
  /// batch in order; within a batch the rows may come in any order (the summaries read each
  /// column as a multiset: `CohortSimulation` writes them in the order its lanes ran them).
  /// Called once per pass. The default transposes `forEachBatch`'s row-major batches
  /// (`transposedBatches`), rows in order; a source that can write its columns as it produces
  /// its rows overrides it.
  func forEachColumnBatch(pass: Int, _ body: (ColumnBatch) throws -> Void) throws
}

extension CohortValueSource {
  public func forEachSampledRow(_ rows: [Int], _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    guard let last = rows.last else { return }
    let columns = self.columns
    var next = 0
    var buffer: [Double] = []
    do {
      try forEachBatch(pass: 0) { first, count, values in
        buffer.removeAll(keepingCapacity: true)
        let start = next
        while next < rows.count && rows[next] < first + count {
          let r = rows[next] - first
          buffer.append(contentsOf: UnsafeBufferPointer(rebasing: values[(r * columns)..<((r + 1) * columns)]))
          next += 1
        }
        if next > start { try buffer.withUnsafeBufferPointer { try body(start, next - start, $0) } }
        if first + count > last { throw StopReplay() }
      }
    } catch is StopReplay {}
  }
}

extension CohortValueSource {
  public func forEachColumnBatch(pass: Int, _ body: (ColumnBatch) throws -> Void) throws {
    try transposedBatches(pass: pass, body)
  }

  /// `forEachBatch`'s row-major batches as column-major ones of at most `transposedRows` rows
  /// (a larger batch is split, so the copy stays small whatever the source delivers). Each piece
  /// is transposed in slices of `StreamingSummary.transposeSlice` rows, in parallel
  /// (`parallelColumns`), into one reused buffer.
  public func transposedBatches(pass: Int, _ body: (ColumnBatch) throws -> Void) throws {
    let columns = self.columns
    var buffer: UnsafeMutablePointer<Double>? = nil
    var capacity = 0
    defer { buffer?.deallocate() }
    try forEachBatch(pass: pass) { first, count, values in
      var start = 0
      while start < count {
        let rows = Swift.min(StreamingSummary.transposedRows, count - start)
        let stride = ColumnBatch.stride(rows: rows)
        if capacity < stride * columns {
          buffer?.deallocate()
          capacity = stride * columns
          buffer = .allocate(capacity: capacity)
        }
        let target = ColumnBatch.Target(base: buffer!, stride: stride)
        nonisolated(unsafe) let piece = values.baseAddress! + start * columns
        let slice = StreamingSummary.transposeSlice
        parallelColumns((rows + slice - 1) / slice) { k in
          let r0 = k * slice
          target.write(rows: piece + r0 * columns, first: r0, count: Swift.min(slice, rows - r0), columns: columns)
        }
        try body(ColumnBatch(firstRow: first + start, rows: rows, stride: stride, base: buffer!))
        start += rows
      }
    }
  }
}

struct StopReplay: Error {}

/// Exact per-column summaries (mean, SD, R type-7 percentiles) of a cohort too large to hold in
/// memory, in few passes over a replayable source, with bounded memory.
///
/// Mean and SD come from `ExactMoments` (exact ΣX, ΣX² of the fixed-point values) in the first full
/// pass. The order statistics:
///
/// 1. A pilot simulates a sample of m rows spread over the cohort (`forEachSampledRow`; m ≪ n). For every needed
///    rank r, the pilot's order statistics at r·m/n ∓ (z·√(m q(1−q)) + 2) (q = r/n, z = 5) give a
///    bracket [lo, hi] that holds the rank-r value of the full column unless the sample is off by
///    more than z binomial SDs. Overlapping brackets are merged.
/// 2. The full pass counts, per bracket, the values below lo, equal to lo and equal to hi, and
///    keeps the values strictly inside (bounded buffers). Rank r is then known exactly when it
///    falls in [lo, hi]: lo, hi, or an order statistic of the kept values (by selection).
/// 3. Ranks left unresolved (a bracket missed, or its buffer overflowed — rare) are found by the
///    narrowing passes, for those columns only: a histogram of the 4096 top bits of an
///    order-preserving 64-bit key of each double (sign-folded IEEE bits), then 1024-fold narrower
///    ranges until a range holds ≤ 256 values (collected) or one distinct value.
///
/// When the pilot would need too much memory for its brackets (about n·columns > 10^9 values),
/// there is no pilot and the narrowing starts in the full pass (typically 3 passes in all).
/// Every order statistic found is the exact one, so the result equals sorting every column —
/// independent of the pilot, batch size, threads and shards.
public enum StreamingSummary {
  static let refineBins = 1024
  static let collectLimit = 256
  /// Rows of the column-major batches made from row-major ones (`transposedBatches`).
  static let transposedRows = 4096
  /// Rows transposed per parallel work item (a multiple of 8, the transposition's tile).
  static let transposeSlice = 256

  /// Knobs of the pilot (tests force its size or disable it).
  public struct Tuning: Sendable {
    /// Pilot rows; nil chooses automatically, 0 disables the pilot.
    public var pilotRows: Int? = nil
    /// Half-width of the brackets in binomial SDs.
    public var sigmas: Double = 5
    /// Values kept inside brackets, over all columns (8 bytes each).
    public var keptValues: Int = 48 << 20
    /// Values the pilot may hold (rows × columns, 8 bytes each).
    public var pilotValues: Int = 24 << 20
    public init() {}
  }

  /// What a summary cost.
  public struct Report: Sendable, Equatable {
    /// Rows in the pilot sample (0: none).
    public var pilotRows = 0
    /// Full passes over the source.
    public var passes = 0
    /// Columns that needed the narrowing passes.
    public var narrowedColumns = 0
  }

  /// Order-preserving key: for doubles a < b ⇔ key(a) < key(b) (−0.0 < +0.0; NaN excluded).
  @inlinable
  static func key(_ x: Double) -> UInt64 {
    let bits = x.bitPattern
    return bits & (1 << 63) == 0 ? bits | (1 << 63) : ~bits
  }

  /// The double whose key is `k`.
  static func value(ofKey k: UInt64) -> Double {
    Double(bitPattern: k & (1 << 63) != 0 ? k & ~(1 << 63) : ~k)
  }

  /// One needed order statistic of a column.
  struct Target {
    var rank: Int  // 0-based rank in the column
    var value: Double? = nil
  }

  /// A key range [lo, lo + 2^shift) being narrowed, with the ranks it must still resolve.
  final class Range: @unchecked Sendable {  // each instance is touched by one column worker at a time
    var lo: UInt64
    var shift: Int  // width = 2^shift keys
    var binBits: Int  // histogram of 2^binBits sub-ranges
    var below: Int  // values in the column below lo
    var count: Int  // values inside the range
    var collect: Bool
    var bins: [UInt32] = []
    var values: [Double] = []
    var minimum = Double.infinity, maximum = -Double.infinity
    init(lo: UInt64, shift: Int, binBits: Int = StreamingSummary.refineBins.trailingZeroBitCount, below: Int, count: Int, collect: Bool) {
      self.lo = lo; self.shift = shift; self.binBits = binBits; self.below = below; self.count = count; self.collect = collect
    }
  }

  /// A pilot bracket [lo, hi] (as keys) and what the full pass saw of it.
  final class Bracket: @unchecked Sendable {  // touched by one column worker at a time
    let lo: UInt64, hi: UInt64
    var below = 0, atLo = 0, atHi = 0, inside = 0  // inside: strictly between lo and hi
    let capacity: Int
    let kept: UnsafeMutablePointer<Double>
    init(lo: UInt64, hi: UInt64, capacity: Int) {
      self.lo = lo; self.hi = hi; self.capacity = capacity
      kept = .allocate(capacity: Swift.max(1, capacity))
    }
    deinit { kept.deallocate() }
    var overflowed: Bool { inside > capacity }
  }

  final class Column: @unchecked Sendable {  // touched by one worker at a time
    var moments = ExactMoments()
    var targets: [Target] = []
    var brackets: [Bracket] = []
    /// Bins that spare most values the bracket scan (nil: every value is scanned).
    var filter: BracketFilter? = nil
    var ranges: [Range] = []
  }

  public static func summarize<Source: CohortValueSource>(_ source: Source, tuning: Tuning = Tuning()) throws -> [ColumnSummary] {
    try summarizeReporting(source, tuning: tuning).summaries
  }

  public static func summarizeReporting<Source: CohortValueSource>(
    _ source: Source, tuning: Tuning = Tuning()
  ) throws -> (summaries: [ColumnSummary], report: Report) {
    let n = source.rows, columnCount = source.columns
    precondition(n > 0)
    var report = Report()
    let ranks = ColumnSummary.neededRanks(count: n)
    let columns = (0..<columnCount).map { _ in Column() }
    for col in columns { col.targets = ranks.map { Target(rank: $0) } }
    let box = ColumnsBox(columns)

    let sample = pilotRows(rows: n, size: tuning.pilotRows ?? pilotSize(rows: n, columns: columnCount, ranks: ranks, tuning: tuning))
    let m = sample.count
    if m > 0 {
      report.pilotRows = m
      try pilot(source, box: box, rows: sample, ranks: ranks, tuning: tuning)
    } else {
      for col in columns { col.ranges = [rootRange(rows: n)] }
    }

    // The full pass: moments, brackets and (without a pilot) the first histogram.
    var pass = 1
    var narrowed = Set<Int>()
    for (c, col) in columns.enumerated() where !col.ranges.isEmpty {
      narrowed.insert(c)
      for range in col.ranges { prepare(range) }
    }
    try source.forEachColumnBatch(pass: pass) { batch in
      source.parallelColumns(blockCount(columnCount)) { block in
        for c in blockColumns(block, of: columnCount) {
          let col = box.columns[c], values = batch.column(c)
          col.moments.add(contentsOf: values)
          if let filter = col.filter { filter.count(values, col.brackets) } else { scan(values, col.brackets) }
          scan(values, col.ranges)
        }
      }
    }
    report.passes = 1
    // Each column's selections among its kept values, columns in parallel.
    source.parallelColumns(columnCount) { c in
      let col = box.columns[c]
      col.filter?.finish(col.brackets)
      col.filter = nil
      resolveBrackets(col)
      resolveRanges(col)
      if col.targets.contains(where: { $0.value == nil }) && col.ranges.isEmpty {
        col.ranges = [rootRange(rows: n)]  // the pilot missed: narrow from the whole key space
      }
    }
    // Narrowing passes for what is left, only over the columns that need them.
    while columns.contains(where: { !$0.ranges.isEmpty }) {
      pass += 1
      precondition(pass < 40, "order statistics did not converge")
      for (c, col) in columns.enumerated() where !col.ranges.isEmpty {
        narrowed.insert(c)
        for range in col.ranges { prepare(range) }
      }
      let busy = (0..<blockCount(columnCount)).filter { b in
        blockColumns(b, of: columnCount).contains { !columns[$0].ranges.isEmpty }
      }
      try source.forEachColumnBatch(pass: pass) { batch in
        source.parallelColumns(busy.count) { i in
          for c in blockColumns(busy[i], of: columnCount) { scan(batch.column(c), box.columns[c].ranges) }
        }
      }
      report.passes += 1
      for col in columns { resolveRanges(col) }
    }
    report.narrowedColumns = narrowed.count
    let summaries = columns.map { col in
      var byRank: [Int: Double] = [:]
      for t in col.targets { byRank[t.rank] = t.value! }
      let pct = ColumnSummary.probabilities.map { p in ColumnSummary.type7(p, orderStatistic: { byRank[$0]! }, count: n) }
      return ColumnSummary(mean: col.moments.mean(count: n), sd: col.moments.sd(count: n), percentiles: pct)
    }
    return (summaries, report)
  }

  /// A range over every key, histogrammed by the top 12 bits (one bin per binade).
  static func rootRange(rows n: Int) -> Range {
    Range(lo: 0, shift: 64, binBits: 12, below: 0, count: n, collect: false)
  }

  // MARK: Pilot

  /// Half-widths (in sample ranks) of the brackets for the needed ranks.
  static func bracketIndices(rows n: Int, sample m: Int, rank r: Int, sigmas z: Double) -> (Int, Int) {
    let q = (Double(r) + 0.5) / Double(n)
    let center = q * Double(m)
    let margin = z * (Double(m) * q * (1 - q)).squareRoot() + 2
    let lo = Int((center - margin).rounded(.down)), hi = Int((center + margin).rounded(.up))
    return (lo, hi)
  }

  /// The automatic pilot size: the smallest m ≥ 8192 (or all rows) whose brackets are expected to
  /// keep at most 60 % of `keptValues` in the full pass; 0 when the pilot memory cannot afford it.
  static func pilotSize(rows n: Int, columns: Int, ranks: [Int], tuning: Tuning) -> Int {
    let limit = Swift.min(n, tuning.pilotValues / Swift.max(1, columns))
    var m = Swift.min(n, 8192)
    while true {
      guard m <= limit else { return 0 }
      // Expected kept values per column: the sample-rank width of the brackets, scaled to n.
      let width = spans(rows: n, sample: m, ranks: ranks, sigmas: tuning.sigmas).reduce(0) { $0 + $1.hi - $1.lo + 1 }
      let expected = Double(width) / Double(m) * Double(n) * Double(columns)
      if expected <= 0.6 * Double(tuning.keptValues) || m == n { return m }
      m = Swift.min(n, m * 2)
    }
  }

  typealias Span = (lo: Int, hi: Int, open: (Bool, Bool))

  /// Per needed rank, the sample ranks bounding its bracket (clamped to the sample, and marked open
  /// where they had to be clamped unless the sample is every row); overlapping ones merged.
  static func spans(rows n: Int, sample m: Int, ranks: [Int], sigmas: Double) -> [Span] {
    var spans: [Span] = []
    for r in ranks {
      var (lo, hi) = bracketIndices(rows: n, sample: m, rank: r, sigmas: sigmas)
      let openLow = lo < 0 && m < n, openHigh = hi > m - 1 && m < n
      lo = Swift.max(0, lo)
      hi = Swift.min(m - 1, hi)
      if let last = spans.last, lo <= last.hi {
        spans[spans.count - 1] = (last.lo, Swift.max(last.hi, hi), (last.open.0 || openLow, last.open.1 || openHigh))
      } else {
        spans.append((lo, hi, (openLow, openHigh)))
      }
    }
    return spans
  }

  /// The pilot's rows: runs of `pilotRun` consecutive rows spread evenly over the cohort (patients
  /// are independent draws, and consecutive ones share SIMD lanes in the simulation), about `size`
  /// in all; every row when that is about n.
  static func pilotRows(rows n: Int, size: Int) -> [Int] {
    guard size > 0 else { return [] }
    let runs = (size + pilotRun - 1) / pilotRun
    guard runs * pilotRun < n else { return Array(0..<n) }
    var rows: [Int] = []
    rows.reserveCapacity(runs * pilotRun)
    for b in 0..<runs {
      let start = Int((Int128(b) * Int128(n)) / Int128(runs))
      rows.append(contentsOf: start..<(start + pilotRun))
    }
    return rows
  }

  static let pilotRun = 16

  /// Simulates the pilot rows and sets every column's brackets.
  static func pilot<Source: CohortValueSource>(_ source: Source, box: ColumnsBox, rows sampled: [Int], ranks: [Int], tuning: Tuning) throws {
    let n = source.rows, columnCount = source.columns, m = sampled.count
    let buffer = UnsafeMutablePointer<Double>.allocate(capacity: m * columnCount)
    defer { buffer.deallocate() }
    var filled = 0
    try source.forEachSampledRow(sampled) { first, count, values in
      precondition(first == filled && values.count == count * columnCount)
      (buffer + first * columnCount).update(from: values.baseAddress!, count: values.count)
      filled += count
    }
    precondition(filled == m, "the pilot delivered \(filled) of \(m) rows")
    let spans = spans(rows: n, sample: m, ranks: ranks, sigmas: tuning.sigmas)
    var sampleRanks = Set<Int>()
    for s in spans { sampleRanks.insert(s.lo); sampleRanks.insert(s.hi) }
    let wanted = sampleRanks.sorted()
    // Each column's share of the kept-value budget, split over its brackets by their widths.
    let totalWidth = spans.reduce(0) { $0 + $1.hi - $1.lo + 1 }
    let perColumn = Swift.max(64, tuning.keptValues / Swift.max(1, columnCount))
    // (The automatic pilot size makes each share ≥ 1/0.6 of the expected count; a bracket that
    // overflows its share is resolved by the narrowing passes instead.)
    let capacities = spans.map { s in Swift.min(n, perColumn * (s.hi - s.lo + 1) / totalWidth) }
    nonisolated(unsafe) let base = UnsafePointer(buffer)
    let spansCopy = spans
    source.parallelColumns(blockCount(columnCount)) { block in
      forEachColumn(inBlock: block, base: base, rows: m, columns: columnCount) { c, values in
        let sample = UnsafeMutableBufferPointer(mutating: values)
        ColumnSummary.select(sample, ranks: wanted)
        let brackets = spansCopy.enumerated().map { i, s in
          let lo = s.open.0 ? 0 : key(sample[s.lo])
          let hi = s.open.1 ? UInt64.max : key(sample[s.hi])
          return Bracket(lo: lo, hi: hi, capacity: capacities[i])
        }
        box.columns[c].brackets = brackets
        box.columns[c].filter = brackets.isEmpty ? nil : BracketFilter(brackets)
      }
    }
  }

  // MARK: Scans

  /// Counts a batch's values below, at and inside each of a column's brackets, keeping those
  /// strictly inside, in one pass over the values for all brackets.
  ///
  /// The brackets come from the sorted pilot sample, so their bounds are non-decreasing
  /// (`lo₀ ≤ lo₁ ≤ …`, `hi₀ ≤ hi₁ ≤ …`; equal bounds where the sample has ties). For a key k, let
  /// t be the number of brackets with `lo_j ≤ k`. Then `k < lo_j` exactly when `t ≤ j`, so each
  /// bracket's `below` is a prefix sum of a histogram of t; and the brackets holding k are among
  /// `j < t` with `k ≤ hi_j`, found from `t − 1` downwards (usually none: the brackets are narrow).
  /// The counts are those of scanning each bracket alone. Four interleaved histograms keep
  /// consecutive values from waiting on each other's increment.
  static func scan(_ values: UnsafeBufferPointer<Double>, _ brackets: [Bracket]) {
    let count = brackets.count
    if count == 0 { return }
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * count) { bounds in
      withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * (count + 1)) { histograms in
        let lo = bounds.baseAddress!, hi = lo + count
        for j in 0..<count { lo[j] = brackets[j].lo; hi[j] = brackets[j].hi }
        let counts = histograms.baseAddress!
        counts.initialize(repeating: 0, count: 4 * (count + 1))
        for (i, x) in values.enumerated() {
          let k = key(x)
          var t = 0
          // Branch-free (a compare-and-set per bracket): k falls anywhere, a branch mispredicts.
          for j in 0..<count { t &+= Int(unsafeBitCast(k >= lo[j], to: UInt8.self)) }
          counts[(i & 3) * (count + 1) + t] &+= 1
          var j = t - 1
          while j >= 0 && k <= hi[j] {
            let b = brackets[j]
            let d = k &- lo[j]
            if d == 0 {
              b.atLo += 1
            } else if d == hi[j] &- lo[j] {
              b.atHi += 1
            } else {
              if b.inside < b.capacity { b.kept[b.inside] = x }
              b.inside += 1
            }
            j -= 1
          }
        }
        var below = 0
        for j in 0..<count {
          for h in 0..<4 { below += counts[h * (count + 1) + j] }
          brackets[j].below += below
        }
      }
    }
  }

  /// Histograms (or collects) a batch's values into a column's narrowing ranges.
  static func scan(_ values: UnsafeBufferPointer<Double>, _ ranges: [Range]) {
    if ranges.isEmpty { return }
    // The ranges' bounds as plain values, so the scan touches the objects only on a hit.
    let lows = ranges.map(\.lo)
    let widths = ranges.map { $0.shift >= 64 ? UInt64.max : (UInt64(1) << UInt64($0.shift)) - 1 }
    for x in values {
      let k = key(x)
      for j in 0..<lows.count where k &- lows[j] <= widths[j] && k >= lows[j] {
        let range = ranges[j]
        range.minimum = Swift.min(range.minimum, x)
        range.maximum = Swift.max(range.maximum, x)
        if range.collect { range.values.append(x) } else {
          range.bins[Int((k - range.lo) >> UInt64(range.shift - range.binBits))] &+= 1
        }
      }
    }
  }

  /// Columns are processed in blocks of `blockWidth` adjacent ones: a block is first transposed
  /// into a contiguous buffer (each row's values share cache lines), so the column scans
  /// run over sequential memory instead of striding across rows (measured: the strided scan was
  /// ~20 % of a cohort run, mostly cache misses).
  static let blockWidth = 8

  static func blockCount(_ columns: Int) -> Int { (columns + blockWidth - 1) / blockWidth }

  /// The column indices of block `block` (of `count` columns).
  static func blockColumns(_ block: Int, of count: Int) -> Swift.Range<Int> {
    (block * blockWidth)..<Swift.min(count, (block + 1) * blockWidth)
  }

  static func forEachColumn(
    inBlock block: Int, base: UnsafePointer<Double>, rows: Int, columns: Int,
    _ body: (Int, UnsafeBufferPointer<Double>) -> Void
  ) {
    let first = block * blockWidth
    let width = Swift.min(blockWidth, columns - first)
    let gathered = UnsafeMutablePointer<Double>.allocate(capacity: width * rows)
    defer { gathered.deallocate() }
    transpose(base + first, rows: rows, columns: width, rowStride: columns, into: gathered, columnStride: rows)
    for j in 0..<width { body(first + j, UnsafeBufferPointer(start: gathered + j * rows, count: rows)) }
  }

  /// Copies a row-major `rows × columns` block (row r at `source + r·rowStride`) to column-major
  /// storage (column c at `destination + c·columnStride`), in tiles of 8 × 8 values: each tile
  /// reads 8 pieces of rows and writes 8 pieces of columns, a cache line each, so the rows are
  /// read in order and every destination line is written whole at once.
  static func transpose(
    _ source: UnsafePointer<Double>, rows: Int, columns: Int, rowStride: Int,
    into destination: UnsafeMutablePointer<Double>, columnStride: Int
  ) {
    for r0 in Swift.stride(from: 0, to: rows, by: 8) {
      let height = Swift.min(8, rows - r0)
      for c0 in Swift.stride(from: 0, to: columns, by: 8) {
        let width = Swift.min(8, columns - c0)
        let from = source + r0 * rowStride + c0, to = destination + c0 * columnStride + r0
        for j in 0..<width {
          for i in 0..<height { to[j &* columnStride &+ i] = from[i &* rowStride &+ j] }  // in bounds: no overflow
        }
      }
    }
  }

  final class ColumnsBox: @unchecked Sendable {  // read-only array of per-column state; workers own disjoint columns
    let columns: [Column]
    init(_ c: [Column]) { columns = c }
  }

  // MARK: Resolution

  /// Resolves the targets that fall inside a bracket (selection among the kept values), then frees
  /// the brackets.
  static func resolveBrackets(_ col: Column) {
    for b in col.brackets {
      var inKept: [(target: Int, offset: Int)] = []
      for i in col.targets.indices where col.targets[i].value == nil {
        var t = col.targets[i].rank - b.below
        if t < 0 { continue }
        if t < b.atLo { col.targets[i].value = value(ofKey: b.lo); continue }
        t -= b.atLo
        if t < b.inside {
          if !b.overflowed { inKept.append((i, t)) }
          continue
        }
        t -= b.inside
        if t < b.atHi { col.targets[i].value = value(ofKey: b.hi) }
      }
      if !inKept.isEmpty {
        let kept = UnsafeMutableBufferPointer(start: b.kept, count: b.inside)
        ColumnSummary.select(kept, ranks: Array(Set(inKept.map(\.offset))).sorted())
        for (i, offset) in inKept { col.targets[i].value = kept[offset] }
      }
    }
    col.brackets = []
  }

  /// From a histogram of `bins` sub-ranges of width 2^(shift) starting at `lo`, opens one range per
  /// distinct bin that holds an unresolved target rank.
  static func openRanges(_ col: Column, bins: [UInt32], lo: UInt64, shift: Int, below: Int) {
    var cumulative = below
    var opened: [Int: Range] = [:]
    var b = 0
    for t in col.targets where t.value == nil {
      while b < bins.count && cumulative + Int(bins[b]) <= t.rank {
        cumulative += Int(bins[b])
        b += 1
      }
      if opened[b] == nil {
        let count = Int(bins[b])
        let range = Range(lo: lo &+ (UInt64(b) << UInt64(shift)), shift: shift, below: cumulative, count: count, collect: count <= collectLimit || shift <= 10)
        opened[b] = range
        col.ranges.append(range)
      }
    }
  }

  static func prepare(_ range: Range) {
    if range.collect { range.values.reserveCapacity(range.count) } else { range.bins = [UInt32](repeating: 0, count: 1 << range.binBits) }
    range.minimum = .infinity
    range.maximum = -.infinity
  }

  /// Resolves the targets a pass has pinned down, and opens narrower ranges for the rest.
  static func resolveRanges(_ col: Column) {
    let ranges = col.ranges
    col.ranges = []
    for range in ranges {
      let inside = col.targets.indices.filter { col.targets[$0].value == nil && col.targets[$0].rank >= range.below && col.targets[$0].rank < range.below + range.count }
      if inside.isEmpty {
      } else if range.minimum == range.maximum {
        for i in inside { col.targets[i].value = range.minimum }
      } else if range.collect {
        range.values.sort()
        for i in inside { col.targets[i].value = range.values[col.targets[i].rank - range.below] }
      } else {
        let sub = Column()
        sub.targets = inside.map { col.targets[$0] }
        openRanges(sub, bins: range.bins, lo: range.lo, shift: range.shift - range.binBits, below: range.below)
        col.ranges.append(contentsOf: sub.ranges)
      }
      range.bins = []
      range.values = []
    }
  }
}
