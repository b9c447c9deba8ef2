/// A batch of consecutive cohort rows stored column-major: the values of column c (one time point,
/// one regimen) for the batch's `rows` patients are contiguous, at `base + c·stride`. Row r holds
/// one of the batch's patients, not necessarily patient `firstRow + r` (see
/// `CohortValueSource.forEachColumnBatch`): the summaries read each column as a multiset.
///
/// The summaries read a column at a time, so they want this layout; the simulation produces a row
/// (a patient) at a time. Where nothing else needs the rows, `CohortSimulation` has the lanes write
/// each patient's values straight into the target at its stride (`ColumnBatch.Target`), in the
/// order its lanes ran them; where the rows are wanted too (per-subject output), its workers
/// transpose the batch's rows, in patient order, chunk by chunk of consecutive rows.
public struct ColumnBatch: @unchecked Sendable {  // a view: the storage is owned by the source for the call's duration
  /// Index of the batch's first row in the source.
  public let firstRow: Int
  /// Rows in the batch.
  public let rows: Int
  /// Distance in values between the starts of consecutive columns (≥ `rows`).
  public let stride: Int
  public let base: UnsafePointer<Double>

  public init(firstRow: Int, rows: Int, stride: Int, base: UnsafePointer<Double>) {
    precondition(stride >= rows)
    self.firstRow = firstRow; self.rows = rows; self.stride = stride; self.base = base
  }

  /// The batch's values of column `c`, in row order (the batch's own order of its patients).
  @inlinable
  public func column(_ c: Int) -> UnsafeBufferPointer<Double> {
    UnsafeBufferPointer(start: base + c * stride, count: rows)
  }

  /// The column stride for a batch of `rows` rows: `rows` rounded up to whole cache lines (8
  /// values), so every column starts on a line when the storage does, plus one line when that would
  /// be a multiple of 4 KiB (columns exactly 4 KiB apart share cache sets, and a tile's eight
  /// column writes would evict each other).
  public static func stride(rows: Int) -> Int {
    let lines = (rows + 7) / 8 * 8
    return lines % 512 == 0 ? lines + 8 : lines
  }

  /// Where a row-major producer writes column-major copies of its rows: row r of column c goes to
  /// `base + c·stride + r`.
  struct Target: @unchecked Sendable {  // workers write disjoint rows
    let base: UnsafeMutablePointer<Double>
    let stride: Int

    /// Copies `count` row-major rows of `columns` values (row i at `rows + i·columns`), which are
    /// the target's rows `first ..< first + count`.
    func write(rows: UnsafePointer<Double>, first: Int, count: Int, columns: Int) {
      StreamingSummary.transpose(rows, rows: count, columns: columns, rowStride: columns, into: base + first, columnStride: stride)
    }
  }
}
