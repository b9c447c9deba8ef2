/// A NONMEM-style dataset, parsed and checked: records in file order, grouped into subjects.
public struct NMDataset: Sendable {
  /// Where the text came from (the path, for messages).
  public var source: String
  /// Every data record, in file order (header, blank and `#` lines removed).
  public var records: [NMRecord]
  /// Index ranges into `records`, one per subject (a maximal run of records with one `ID`).
  public var subjects: [Range<Int>]
  /// The user columns read as dose items, in header order (e.g. `LAGT → ALAG2`).
  public var doseItemColumns: [(column: String, item: NMDoseItem)]

  public init(source: String, records: [NMRecord], subjects: [Range<Int>], doseItemColumns: [(column: String, item: NMDoseItem)]) {
    self.source = source
    self.records = records
    self.subjects = subjects
    self.doseItemColumns = doseItemColumns
  }
}

/// How the dataset's user columns map to dose items: `column → item`, or `column → nil` to
/// ignore a column that would be mapped by default (`--column LAGT=none`).
public struct NMColumnMapping: Sendable, Equatable {
  public var overrides: [(column: String, item: NMDoseItem?)]

  public init(_ overrides: [(column: String, item: NMDoseItem?)] = []) { self.overrides = overrides }

  public static func == (a: Self, b: Self) -> Bool {
    a.overrides.count == b.overrides.count
      && zip(a.overrides, b.overrides).allSatisfy { $0.column == $1.column && $0.item == $1.item }
  }
}
