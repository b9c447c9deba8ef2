import Foundation
@testable import PKCore
import PKNumerics
import Testing

@Suite("Cohort summaries: multi-rank selection, exact moments, pilot + one pass")
struct SummaryTests {
  // MARK: Multi-rank selection

  static func arrays(_ n: Int, _ rng: inout SplitMix64) -> [(String, [Double])] {
    let random = (0..<n).map { _ in rng.uniform() - 0.3 }
    return [
      ("random", random),
      ("sorted", random.sorted()),
      ("reversed", random.sorted(by: >)),
      ("ties", (0..<n).map { _ in Double(rng.next() % 3) }),
      ("all equal", [Double](repeating: 4.5, count: n)),
      ("organ pipe", (0..<n).map { Double(min($0, n - $0)) }),
      ("few distinct, sorted", (0..<n).map { Double($0 * 4 / max(1, n)) }),
      ("signed zeros and tiny", (0..<n).map { _ in [0.0, 1e-300, -1e-300, Double.leastNonzeroMagnitude, 1][Int(rng.next() % 5)] }),
    ]
  }

  @Test("multi-rank selection puts the order statistic of every wanted rank in place (= sorting)")
  func multiSelectEqualsSorting() {
    var rng = SplitMix64(state: 77)
    for n in [1, 2, 3, 4, 5, 17, 23, 24, 25, 100, 1000, 10_007] {
      for (name, values) in Self.arrays(n, &rng) {
        let sorted = values.sorted()
        let rankSets = [ColumnSummary.neededRanks(count: n), [0], [n - 1], Array(Set([0, n / 2, n - 1])).sorted(), Array(0..<n).filter { $0 % 7 == 3 }]
        for ranks in rankSets where !ranks.isEmpty {
          var a = values
          a.withUnsafeMutableBufferPointer { ColumnSummary.select($0, ranks: ranks) }
          #expect(ranks.allSatisfy { a[$0] == sorted[$0] }, "\(name), n = \(n), ranks \(ranks.prefix(10))")
          #expect(a.sorted() == sorted, "\(name), n = \(n): not a permutation")
        }
        var b = values
        var c = values
        #expect(b.withUnsafeMutableBufferPointer { ColumnSummary.bySelection($0) } == ColumnSummary.of(&c), "\(name), n = \(n)")
      }
    }
  }

  /// Larger columns for the distribution selection: the shapes above, and ones whose values
  /// crowd a few bins of their range (outliers, zeros beside small values, huge spans, ulp steps).
  static func wideArrays(_ n: Int, _ rng: inout SplitMix64) -> [(String, [Double])] {
    Self.arrays(n, &rng) + [
      ("log-normal", (0..<n).map { _ in exp(2 * (rng.uniform() - 0.5) + 3) }),
      ("BLQ zeros and concentrations", (0..<n).map { _ in rng.uniform() < 0.3 ? 0 : 0.078 + 60 * rng.uniform() }),
      ("one huge outlier", (0..<n).map { $0 == n / 3 ? 1e300 : 1 + rng.uniform() }),
      ("signed, 1e-300…1e300", (0..<n).map { _ in (rng.uniform() < 0.5 ? -1 : 1) * pow(10, 600 * rng.uniform() - 300) }),
      ("ulp steps", (0..<n).map { _ in 0x1p22 + Double(rng.next() % 64) * 0x1p-30 }),
      ("two values and signed zeros", (0..<n).map { _ in [-0.0, 0.0, 7, -7][Int(rng.next() % 4)] }),
      ("infinities", (0..<n).map { _ in [Double.infinity, -Double.infinity, 1, rng.uniform()][Int(rng.next() % 4)] }),
    ]
  }

  @Test("distribution selection gives the order statistics of sorting, and bySelection the summary of sorting")
  func orderStatisticsEqualSorting() {
    var rng = SplitMix64(state: 123)
    for n in [1, 2, 255, 256, 257, 300, 1000, 4097, 20_000, 65_537] {
      for (name, values) in Self.wideArrays(n, &rng) {
        let sorted = values.sorted()
        let rankSets = [ColumnSummary.neededRanks(count: n), [0], [n - 1], Array(Set([0, n / 2, n - 1])).sorted(), Array(0..<n).filter { $0 % 97 == 5 }]
        for ranks in rankSets where !ranks.isEmpty {
          var a = values
          let got = a.withUnsafeMutableBufferPointer { ColumnSummary.orderStatistics($0, ranks: ranks) }
          #expect(got == ranks.map { sorted[$0] }, "\(name), n = \(n), ranks \(ranks.prefix(10))")
        }
        var b = values
        var c = values
        let summary = b.withUnsafeMutableBufferPointer { ColumnSummary.bySelection($0) }
        let reference = ColumnSummary.of(&c)
        // Mean and SD bit for bit; percentiles equal (or the same NaN, from ∞ − ∞ with infinities).
        #expect(summary.mean.bitPattern == reference.mean.bitPattern && summary.sd.bitPattern == reference.sd.bitPattern, "\(name), n = \(n)")
        #expect(zip(summary.percentiles, reference.percentiles).allSatisfy { $0 == $1 || $0.bitPattern == $1.bitPattern }, "\(name), n = \(n)")
      }
    }
  }

  @Test("moments and range in one pass: the same moments as adding one by one")
  func momentsWithRange() {
    var rng = SplitMix64(state: 9)
    for n in [0, 1, 7, 1000] {
      for (name, values) in Self.wideArrays(max(n, 1), &rng) {
        let part = Array(values.prefix(n))
        var one = ExactMoments()
        for v in part { one.add(v) }
        var all = ExactMoments()
        let range = part.withUnsafeBufferPointer { all.addReportingRange(contentsOf: $0) }
        #expect(all == one, "\(name), n = \(n)")
        #expect(range.minimum == (part.min() ?? .infinity) && range.maximum == (part.max() ?? -.infinity), "\(name), n = \(n)")
      }
    }
  }

  @Test("multi-rank selection stays fast on inputs that defeat median-of-3 (depth guard)")
  func multiSelectAdversarial() {
    // Median-of-3 killer (Musser 1997): forces the unguarded partition into quadratic behaviour.
    let k = 20_000
    var a = [Double](repeating: 0, count: 2 * k)
    for i in 1...k {
      if i % 2 == 1 { a[i - 1] = Double(i); a[i] = Double(k + i) }
      a[k + i - 1] = Double(2 * i)
    }
    let sorted = a.sorted()
    let ranks = ColumnSummary.neededRanks(count: a.count)
    let start = Date()
    a.withUnsafeMutableBufferPointer { ColumnSummary.select($0, ranks: ranks) }
    #expect(ranks.allSatisfy { a[$0] == sorted[$0] })
    #expect(Date().timeIntervalSince(start) < 2)
  }

  // MARK: Exact moments

  @Test("exact moments: SD as a naive two-pass computation, and independent of order and splits")
  func momentsMatchNaive() {
    var rng = SplitMix64(state: 5)
    for n in [2, 3, 10, 1000, 100_000] {
      let values = (0..<n).map { _ in 50 + 30 * (rng.uniform() - 0.5) + (rng.uniform() < 0.1 ? 1e3 * rng.uniform() : 0) }
      var m = ExactMoments()
      for v in values { m.add(v) }
      let mean = values.reduce(0, +) / Double(n)
      let naive = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
      expectClose(m.sd(count: n), naive, rel: 1e-10)
      expectClose(m.mean(count: n), mean, rel: 1e-12)
      var reversed = ExactMoments(), left = ExactMoments(), right = ExactMoments()
      for v in values.reversed() { reversed.add(v) }
      for v in values[..<(n / 3)] { left.add(v) }
      for v in values[(n / 3)...] { right.add(v) }
      #expect(reversed == m && left + right == m, "n = \(n)")
    }
  }

  @Test("exact moments: exact where floating point cancels, and on clamped huge values")
  func momentsExact() {
    // 2^22 + k, k = 0..<1000: sample variance 1000·1001/12 (one-pass floating point would cancel).
    var m = ExactMoments()
    for k in 0..<1000 { m.add(0x1p22 + Double(k)) }
    #expect(m.variance(count: 1000) == 1000.0 * 1001 / 12)
    #expect(m.mean(count: 1000) == 0x1p22 + 499.5)
    // ±1e30 are clamped to ±2^86: variance 2·2^172 (n = 2), mean 0.
    var big = ExactMoments()
    big.add(-1e30); big.add(1e30)
    #expect(big.variance(count: 2) == 0x1p173 && big.mean(count: 2) == 0)
    // 2^70 (beyond the fast path), 0, 0: variance 2^140/3.
    var mixed = ExactMoments()
    for v in [0x1p70, 0, 0] { mixed.add(v) }
    #expect(mixed.variance(count: 3) == 0x1p140 / 3)
    // Constant columns and n = 1: 0.
    var constant = ExactMoments()
    for _ in 0..<7 { constant.add(3.1) }
    #expect(constant.sd(count: 7) == 0)
    var one = ExactMoments()
    one.add(9)
    #expect(one.sd(count: 1) == 0 && one.mean(count: 1) == 9)
    // Many large values: the 128-bit low part of ΣX² carries over (X² near 2^126).
    var carry = ExactMoments()
    for k in 0..<64 { carry.add(Double(k % 2 == 0 ? 8_000_000 : 7_000_000)) }
    #expect(carry.variance(count: 64) == 2.5e11 * 64 / 63)
  }

  // MARK: Streaming with a pilot

  /// Columns of very different shapes (ties, zeros, negatives, narrow and wide spreads).
  static func cohort(rows: Int, columns: Int = 7, seed: UInt64 = 11) -> [Double] {
    var rng = SplitMix64(state: seed)
    var values = [Double](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      for c in 0..<columns {
        let v: Double
        switch c % 7 {
        case 0: v = 0
        case 1: v = exp(4 * (rng.uniform() - 0.5))
        case 2: v = Double(rng.next() % 5)
        case 3: v = rng.uniform() < 0.5 ? 0 : 1e-30 * rng.uniform()
        case 4: v = 50 + 1e-9 * rng.uniform()
        case 5: v = rng.uniform() - 0.5
        default: v = 1e20 * rng.uniform()
        }
        values[r * columns + c] = v
      }
    }
    return values
  }

  static func sortedSummaries(_ values: [Double], rows: Int, columns: Int) -> [ColumnSummary] {
    (0..<columns).map { c in
      var col = (0..<rows).map { values[$0 * columns + c] }
      return ColumnSummary.of(&col)
    }
  }

  @Test("the one-pass bracket scan counts as scanning each bracket alone (ties, shared and open bounds)")
  func bracketScanMatchesOneByOne() {
    var rng = SplitMix64(state: 11)
    for (name, values) in Self.arrays(3001, &rng) + [("zeros and a few", (0..<3001).map { $0 % 97 == 0 ? Double($0) : 0 })] {
      // Brackets as the pilot makes them: bounds from a sorted sample at ascending indices, so
      // they share bounds where the sample has ties, the first may be open below and the last above.
      let sample = (0..<64).map { _ in values[Int(rng.next() % UInt64(values.count))] }.sorted()
      for spans in [[(0, 3), (10, 20), (30, 31), (50, 63)], [(0, 63)], [(5, 5), (6, 6), (7, 40)]] {
        func brackets() -> [StreamingSummary.Bracket] {
          spans.enumerated().map { i, s in
            let lo = i == 0 && s.0 == 0 ? 0 : StreamingSummary.key(sample[s.0])
            let hi = i == spans.count - 1 && s.1 == 63 ? UInt64.max : StreamingSummary.key(sample[s.1])
            return StreamingSummary.Bracket(lo: lo, hi: hi, capacity: 100)
          }
        }
        let fused = brackets()
        values.withUnsafeBufferPointer { StreamingSummary.scan($0, fused) }
        for (b, f) in zip(brackets(), fused) {
          // One bracket alone, as the definition reads.
          for x in values {
            let k = StreamingSummary.key(x)
            if k < b.lo { b.below += 1 } else if k == b.lo { b.atLo += 1 } else if k == b.hi { b.atHi += 1 } else if k < b.hi {
              if b.inside < b.capacity { b.kept[b.inside] = x }
              b.inside += 1
            }
          }
          #expect((f.below, f.atLo, f.atHi, f.inside) == (b.below, b.atLo, b.atHi, b.inside), "\(name) \(spans)")
          let kept = Swift.min(b.inside, b.capacity)
          #expect((0..<kept).map { f.kept[$0] }.map(\.bitPattern) == (0..<kept).map { b.kept[$0] }.map(\.bitPattern), "\(name) \(spans)")
        }
      }
    }
  }

  /// Brackets as the pilot makes them, from a sorted sample of `values` at the sample ranks
  /// `spans` (the first may be open below and the last above).
  static func pilotBrackets(_ values: [Double], spans: [(Int, Int)], capacity: Int, _ rng: inout SplitMix64) -> () -> [StreamingSummary.Bracket] {
    let sample = (0..<64).map { _ in values[Int(rng.next() % UInt64(values.count))] }.sorted()
    return {
      spans.enumerated().map { i, s in
        let lo = i == 0 && s.0 == 0 ? 0 : StreamingSummary.key(sample[s.0])
        let hi = i == spans.count - 1 && s.1 == 63 ? UInt64.max : StreamingSummary.key(sample[s.1])
        return StreamingSummary.Bracket(lo: lo, hi: hi, capacity: capacity)
      }
    }
  }

  static func state(_ brackets: [StreamingSummary.Bracket]) -> [[UInt64]] {
    brackets.map { b in [b.below, b.atLo, b.atHi, b.inside].map { UInt64($0) } + (0..<Swift.min(b.inside, b.capacity)).map { b.kept[$0].bitPattern } }
  }

  @Test("the bin filter gives the brackets the counts and kept values of scanning every value (any batches, flushes)")
  func bracketFilterMatchesScan() {
    var rng = SplitMix64(state: 5)
    let extra: [(String, [Double])] = [
      ("zeros and a few", (0..<3001).map { $0 % 97 == 0 ? Double($0) : 0 }),
      ("wide range", (0..<3001).map { _ in (rng.uniform() - 0.5) * 1e300 }),
      ("infinities", (0..<3001).map { i in i % 5 == 0 ? (i % 2 == 0 ? .infinity : -.infinity) : rng.uniform() }),
    ]
    for (name, values) in Self.arrays(3001, &rng) + extra {
      for spans in [[(0, 3), (10, 20), (30, 31), (50, 63)], [(0, 63)], [(5, 5), (6, 6), (7, 40)], [(2, 9), (60, 61)]] {
        let brackets = Self.pilotBrackets(values, spans: spans, capacity: 100, &rng)
        let reference = brackets()
        values.withUnsafeBufferPointer { StreamingSummary.scan($0, reference) }
        for (batch, capacity) in [(3001, 4096), (1, 4096), (37, 50), (1000, 999)] {
          let filtered = brackets()
          let filter = StreamingSummary.BracketFilter(filtered)
          filter.capacity = capacity  // ≤ the allocated room: forces flushes between batches
          values.withUnsafeBufferPointer { all in
            for first in stride(from: 0, to: all.count, by: batch) {
              filter.count(UnsafeBufferPointer(rebasing: all[first..<Swift.min(all.count, first + batch)]), filtered)
            }
          }
          filter.finish(filtered)
          #expect(Self.state(filtered) == Self.state(reference), "\(name) \(spans) batch \(batch)")
        }
      }
    }
    // More values in one bin than its 16-bit count holds (folded as they come), and a batch
    // longer than that.
    let many = [Double](repeating: 4.5, count: 150_000) + (0..<1000).map { Double($0) }
    let brackets = [StreamingSummary.Bracket(lo: StreamingSummary.key(100), hi: StreamingSummary.key(200), capacity: 200)]
    let filter = StreamingSummary.BracketFilter(brackets)
    many.withUnsafeBufferPointer { all in
      filter.count(UnsafeBufferPointer(rebasing: all[0..<70_000]), brackets)
      filter.count(UnsafeBufferPointer(rebasing: all[70_000...]), brackets)
    }
    filter.finish(brackets)
    #expect((brackets[0].below, brackets[0].atLo, brackets[0].inside, brackets[0].atHi) == (150_100, 1, 99, 1))
  }

  @Test("a bin filter's bins partition the keys: bin(k) is the bin whose keys hold k")
  func bracketFilterBins() {
    var rng = SplitMix64(state: 9)
    let cases: [(UInt64, UInt64)] = [(0, .max), (0, 5), (.max - 3, .max), (1 << 63, (1 << 63) + 1_000_000), (12345, 12345)]
    for (lo, hi) in cases {
      let filter = StreamingSummary.BracketFilter([StreamingSummary.Bracket(lo: lo, hi: hi, capacity: 1)])
      let m = StreamingSummary.BracketFilter.binCount
      var keys: [UInt64] = [0, 1, .max, .max - 1, lo, hi, lo &- 1, hi &+ 1, filter.base, filter.base &- 1]
      for b in 0..<m where filter.keys(ofBin: b).first <= filter.keys(ofBin: b).last {
        keys += [filter.keys(ofBin: b).first, filter.keys(ofBin: b).last]
      }
      keys += (0..<1000).map { _ in rng.next() }
      for k in keys {
        let b = StreamingSummary.BracketFilter.bin(k, base: filter.base, shift: filter.shift)
        let range = filter.keys(ofBin: b)
        #expect(b >= 0 && b < m && range.first <= k && k <= range.last, "bracket [\(lo), \(hi)], key \(k): bin \(b) \(range)")
      }
      // The bins tile the key space in order.
      var next: UInt64 = 0
      var done = false
      for b in 0..<m {
        let range = filter.keys(ofBin: b)
        if range.first > range.last { continue }
        #expect(!done && range.first == next, "bracket [\(lo), \(hi)], bin \(b)")
        if range.last == .max { done = true } else { next = range.last + 1 }
      }
      #expect(done)
    }
  }

  @Test("column-major batches hold the rows' values (odd row counts, not multiples of the 8 × 8 tile, split batches)")
  func columnBatchesTransposeRows() throws {
    for (rows, columns) in [(1, 1), (7, 3), (9, 13), (257, 5), (1001, 17), (2 * StreamingSummary.transposedRows + 13, 3)] {
      let values = (0..<(rows * columns)).map { Double($0) + 0.5 }
      for batch in [1, 3, 8, 37, 5000] {
        let source = ArrayCohortSource(rows: rows, columns: columns, values: values, batch: batch)
        var next = 0
        try source.forEachColumnBatch(pass: 1) { b in
          #expect(b.firstRow == next && b.rows >= 1 && b.rows <= StreamingSummary.transposedRows && b.stride >= b.rows)
          #expect(b.stride == ColumnBatch.stride(rows: b.rows) && b.stride % 8 == 0 && b.stride % 512 != 0)
          for c in 0..<columns {
            let got = Array(b.column(c)), want = (b.firstRow..<(b.firstRow + b.rows)).map { values[$0 * columns + c] }
            #expect(got == want, "rows \(rows), columns \(columns), batch \(batch), column \(c)")
          }
          next += b.rows
        }
        #expect(next == rows)
      }
    }
  }

  @Test("pilot + one pass equals sorting, for any pilot size and batch size, in one full pass")
  func pilotEqualsSorting() throws {
    let rows = 20_011, columns = 7
    let values = Self.cohort(rows: rows, columns: columns)
    let expected = Self.sortedSummaries(values, rows: rows, columns: columns)
    for (pilot, batch) in [(nil, 1000), (512, 777), (4096, rows), (rows, 64), (1, 5000)] as [(Int?, Int)] {
      var tuning = StreamingSummary.Tuning()
      tuning.pilotRows = pilot
      let source = ArrayCohortSource(rows: rows, columns: columns, values: values, batch: batch)
      let (got, report) = try StreamingSummary.summarizeReporting(source, tuning: tuning)
      #expect(got == expected, "pilot \(String(describing: pilot)), batch \(batch)")
      #expect(report.pilotRows >= (pilot ?? 8192) && report.pilotRows < (pilot ?? 8192) + 16 && source.sampled == report.pilotRows)
      #expect(source.passes == report.passes)
      if (pilot ?? 8192) >= 512 { #expect(report.passes == 1, "pilot \(String(describing: pilot)): \(report)") }
    }
    // No pilot: the narrowing passes alone (moments in the first).
    var none = StreamingSummary.Tuning()
    none.pilotRows = 0
    let source = ArrayCohortSource(rows: rows, columns: columns, values: values, batch: 999)
    let (got, report) = try StreamingSummary.summarizeReporting(source, tuning: none)
    #expect(got == expected && report.pilotRows == 0 && report.narrowedColumns == columns && source.sampled == 0)
    // The in-memory selection agrees byte for byte.
    let matrix = CohortMatrix(rows: rows, columns: columns, threads: 2)
    matrix.values = values
    #expect(matrix.summarizeBySelection() == expected)
    #expect(try StreamingSummary.summarize(matrix) == expected)
  }

  @Test("a pilot that misrepresents the cohort only costs passes: the fallback finds the same bytes")
  func unrepresentativePilot() throws {
    let rows = 9001, columns = 7
    let values = Self.cohort(rows: rows, columns: columns, seed: 3)
    let expected = Self.sortedSummaries(values, rows: rows, columns: columns)
    let lies: [(String, (Int, Int) -> Double)] = [
      ("shifted up", { r, c in values[r * columns + c] * 3 + 1 }),
      ("constant", { _, _ in 0.25 }),
      ("reversed rows", { r, c in -values[(rows - 1 - r) * columns + c] }),
    ]
    for (name, lie) in lies {
      var tuning = StreamingSummary.Tuning()
      tuning.pilotRows = 2048
      let source = ArrayCohortSource(rows: rows, columns: columns, values: values, batch: 1234, pilotValue: lie)
      let (got, report) = try StreamingSummary.summarizeReporting(source, tuning: tuning)
      #expect(got == expected, "\(name)")
      #expect(report.narrowedColumns > 0 && report.passes > 1, "\(name): \(report)")
    }
    // Buffers too small for the brackets: overflow, then the fallback.
    var tiny = StreamingSummary.Tuning()
    tiny.pilotRows = 256
    tiny.keptValues = 7 * 64
    let source = ArrayCohortSource(rows: rows, columns: columns, values: values, batch: 4000)
    let (got, report) = try StreamingSummary.summarizeReporting(source, tuning: tiny)
    #expect(got == expected && report.narrowedColumns > 0, "\(report)")
  }

  @Test("the in-memory cohort summary (column-major, any batch size and threads) equals sorting each column")
  func inMemorySummaryEqualsSorting() throws {
    let grid = try OutputGrid(step: 7, horizon: 84)
    var request = CohortRequest(model: Fixtures.model("kovalenko2020"), weights: try BodyWeights.parse("normal:75,15"), subjects: 1500, seed: 8, threads: 1,
      regimens: [labelDoses(horizon: 84), labelDoses(horizon: 84)], grid: grid, solver: SubjectSimulator.defaultOptions)
    request.observed = true
    let reference = CohortSimulation(request)
    var rows: [Double] = []
    try reference.forEachBatch(pass: 1) { _, _, values in rows.append(contentsOf: values) }
    let expected = Self.sortedSummaries(rows, rows: reference.rows, columns: reference.columns)
    for (threads, batch) in [(1, 4096), (2, 100), (3, 1)] {
      request.threads = threads
      #expect(try CohortSimulation(request, batchSize: batch).summarize() == expected, "threads \(threads), batch \(batch)")
    }
    // Row-major matrices of a few rows, including one.
    for n in [1, 2, 5, 300] {
      let values = Self.cohort(rows: n, columns: 9, seed: UInt64(n))
      let matrix = CohortMatrix(rows: n, columns: 9, threads: 2)
      matrix.values = values
      #expect(matrix.summarizeBySelection() == Self.sortedSummaries(values, rows: n, columns: 9), "n = \(n)")
    }
  }

  @Test("a streamed cohort simulates each patient once plus a pilot sample, with the same bytes as in memory")
  func simulationPassCounts() throws {
    let model = Fixtures.model("kovalenko2020")
    let grid = try OutputGrid(step: 7, horizon: 84)
    var request = CohortRequest(model: model, weights: try BodyWeights.parse("normal:75,15"), subjects: 3000, seed: 4, threads: 2,
      regimens: [labelDoses(horizon: 84)], grid: grid, solver: SubjectSimulator.defaultOptions)
    request.observed = true  // ties at 0 (BLQ)
    let inMemory = try CohortSimulation(request).summarize()
    var tuning = StreamingSummary.Tuning()
    tuning.pilotRows = 600
    let simulation = CohortSimulation(request, batchSize: 256)
    var firstPassRows = 0
    simulation.onFirstPass = { _, count, _, _ in firstPassRows += count }
    let (streamed, report) = try StreamingSummary.summarizeReporting(simulation, tuning: tuning)
    #expect(streamed == inMemory)
    #expect(report.passes == 1 && report.narrowedColumns == 0, "\(report)")
    #expect(report.pilotRows == 608 && simulation.simulatedRows == 3000 + 608 && firstPassRows == 3000)
    // A shard's slice samples its own patients.
    request.patients = CohortRequest.shard(2, of: 3, subjects: 3000)
    let shard = CohortSimulation(request)
    let (shardStreamed, _) = try StreamingSummary.summarizeReporting(shard, tuning: tuning)
    #expect(shardStreamed == (try CohortSimulation(request).summarize()))
    #expect(shard.simulatedRows == 1000 + 608)
  }
}

/// A cohort held in an array (row-major) and delivered in batches of a chosen size, so that the
/// streaming summary's passes, batch seams and pilot can be exercised without simulating. Shared
/// by `SummaryTests` and `CohortTests`. Its pilot may lie (deliver other values than the rows hold),
/// and it counts the passes and sampled rows it was asked for.
final class ArrayCohortSource: CohortValueSource, @unchecked Sendable {  // counters touched by the driver thread only
  let rows: Int, columns: Int, values: [Double], batch: Int
  var passes = 0, sampled = 0
  let pilotValue: ((Int, Int) -> Double)?
  init(rows: Int, columns: Int, values: [Double], batch: Int, pilotValue: ((Int, Int) -> Double)? = nil) {
    self.rows = rows; self.columns = columns; self.values = values; self.batch = batch; self.pilotValue = pilotValue
  }
  func forEachBatch(pass: Int, _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    passes += 1
    try values.withUnsafeBufferPointer { all in
      var first = 0
      while first < rows {
        let count = min(batch, rows - first)
        try body(first, count, UnsafeBufferPointer(rebasing: all[(first * columns)..<((first + count) * columns)]))
        first += count
      }
    }
  }
  func forEachSampledRow(_ rows: [Int], _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    sampled += rows.count
    var out: [Double] = []
    for r in rows { for c in 0..<columns { out.append(pilotValue?(r, c) ?? values[r * columns + c]) } }
    try out.withUnsafeBufferPointer { try body(0, rows.count, $0) }
  }
  /// Three workers taking every third index: items run out of order and concurrently.
  func parallelColumns(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
    DispatchQueue.concurrentPerform(iterations: 3) { w in
      var c = w
      while c < count { work(c); c += 3 }
    }
  }
}
