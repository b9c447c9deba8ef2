extension StreamingSummary {
  /// A column's brackets seen through equal-width key bins, so that most values of the full pass
  /// are only counted: a value costs a bin index, an increment and a test, whatever the number of
  /// brackets, and only the values near a bracket go through `scan`.
  ///
  /// Bin 0 holds the keys below `base`; bins 1 … m − 2 are `2^shift` keys wide from `base` on; bin
  /// m − 1 holds the rest. `base` and `shift` make the middle bins span the brackets' bounds with
  /// a margin of an eighth of that width on each side. A *gap* bin is one whose keys meet no
  /// bracket [lo, hi]: for each bracket, either all of its keys are below `lo` or none is, so a
  /// value in it only needs counting in its bin (`finish` adds the bins' counts, accumulated over
  /// the pass, to the `below` of the brackets above them). The other, *candidate*, bins' values
  /// are collected, in row order over the batches, and counted and kept by `scan` whenever the
  /// collection fills up (so a call of `scan` handles many values, whatever the batch size) and at
  /// the end. So the brackets end the pass with the counts and kept values (in the same order) that
  /// `scan` over every value gives. On the pilot's brackets, about 10 % of the values are
  /// candidates.
  final class BracketFilter: @unchecked Sendable {  // touched by one column worker at a time
    static let binCount = 1024

    let base: UInt64
    let shift: UInt64
    /// Per bin: 1 for a candidate bin, 0 for a gap bin.
    let isCandidate: UnsafeMutablePointer<UInt8>
    /// Per bin: values seen since the last `fold` (those of candidate bins are not used). Two
    /// bytes a bin keep the table in few cache lines: the bins are hit in random order, and every
    /// line missed costs more than the counting itself.
    let counts: UnsafeMutablePointer<UInt16>
    /// Values counted in `counts` (at most `UInt16.max`, so no bin overflows).
    var pending = 0
    /// Per bin: the counts folded so far in the current pass.
    var totals: [Int]
    /// Candidate values not yet scanned, in row order, and room for one more (see `count(_:_:)`).
    var collected: UnsafeMutablePointer<Double>
    var collectedCount = 0
    var capacity = 4096

    init(_ brackets: [Bracket]) {
      let m = Self.binCount
      let low = brackets.map(\.lo).min() ?? 0, high = brackets.map(\.hi).max() ?? 0
      let margin = high >= low ? (high - low) / 8 : 0
      base = low >= margin ? low - margin : 0
      let top = high <= UInt64.max - margin ? high + margin : UInt64.max
      let span = top >= base ? top - base : 0
      var shift: UInt64 = 0
      while span >> shift > UInt64(m - 3) { shift += 1 }  // the middle bins reach `top`
      self.shift = shift
      isCandidate = .allocate(capacity: m)
      counts = .allocate(capacity: m)
      counts.initialize(repeating: 0, count: m)
      totals = [Int](repeating: 0, count: m)
      collected = .allocate(capacity: capacity + 1)
      for b in 0..<m {
        let keys = self.keys(ofBin: b)
        isCandidate[b] = brackets.contains { keys.first <= $0.hi && $0.lo <= keys.last } ? 1 : 0
      }
    }

    deinit { isCandidate.deallocate(); counts.deallocate(); collected.deallocate() }

    /// The first and last key of bin `b` (first > last: none).
    func keys(ofBin b: Int) -> (first: UInt64, last: UInt64) {
      if b == 0 { return base == 0 ? (1, 0) : (0, base - 1) }
      let end = UInt128(UInt64.max) + 1
      func start(_ i: Int) -> UInt128 { UInt128(base) + UInt128(i - 1) << shift }
      let first = start(b), next = b == Self.binCount - 1 ? end : Swift.min(start(b + 1), end)
      return first < end ? (UInt64(first), UInt64(next - 1)) : (1, 0)
    }

    /// The bin of key `k`: 0 below `base`, else 1 + (k − base) >> shift, at most m − 1.
    @inline(__always)
    static func bin(_ k: UInt64, base: UInt64, shift: UInt64) -> Int {
      let middle = Int(truncatingIfNeeded: Swift.min((k &- base) &>> shift, UInt64(binCount - 2))) &+ 1
      return k < base ? 0 : middle
    }

    /// Counts a batch's values in their bins and collects those of candidate bins.
    func count(_ values: UnsafeBufferPointer<Double>, _ brackets: [Bracket]) {
      let most = Int(UInt16.max)
      var start = 0
      while start < values.count {
        let piece = UnsafeBufferPointer(rebasing: values[start..<Swift.min(values.count, start + most)])
        if pending + piece.count > most { fold() }
        if collectedCount + piece.count > capacity {
          flush(brackets)
          if piece.count > capacity {
            capacity = piece.count
            collected.deallocate()
            collected = .allocate(capacity: capacity + 1)
          }
        }
        countPiece(piece)
        start += piece.count
      }
    }

    /// `count` for at most the room left in `counts` and in `collected`. Branch-free: each value is
    /// stored after the collected ones, which grow only for a candidate.
    private func countPiece(_ values: UnsafeBufferPointer<Double>) {
      guard let x0 = values.baseAddress else { return }
      // The object's fields as locals: the loop's stores cannot then be taken to change them.
      let counts = self.counts, collected = self.collected, isCandidate = self.isCandidate
      let base = self.base, shift = self.shift
      var p = collectedCount
      for i in 0..<values.count {
        let x = x0[i]
        let b = Self.bin(key(x), base: base, shift: shift)
        counts[b] &+= 1
        collected[p] = x
        p &+= Int(isCandidate[b])
      }
      collectedCount = p
      pending += values.count
    }

    /// Adds `counts` to `totals` and clears them.
    func fold() {
      for b in 0..<Self.binCount { totals[b] += Int(counts[b]) }
      counts.update(repeating: 0, count: Self.binCount)
      pending = 0
    }

    /// Scans the collected candidates into the brackets.
    func flush(_ brackets: [Bracket]) {
      StreamingSummary.scan(UnsafeBufferPointer(start: collected, count: collectedCount), brackets)
      collectedCount = 0
    }

    /// Scans the last candidates, adds the pass's gap-bin counts to the `below` of the brackets
    /// whose `lo` is above the bin, and clears the counts.
    func finish(_ brackets: [Bracket]) {
      flush(brackets)
      fold()
      for b in 0..<Self.binCount where isCandidate[b] == 0 && totals[b] > 0 {
        let first = keys(ofBin: b).first
        for bracket in brackets where first < bracket.lo { bracket.below += totals[b] }
      }
      for b in 0..<Self.binCount { totals[b] = 0 }
    }
  }
}
