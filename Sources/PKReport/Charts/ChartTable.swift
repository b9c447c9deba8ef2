/// A CSV written by posology, read back for charting (`posology plot`): the typical curve
/// (`time_day,conc_mg_L`), a cohort summary (`time_day,mean,sd,p05,p25,p50,p75,p95`), or either
/// with a `regimen` column, rows grouped by regimen (comparisons). Columns are found by name
/// (case-insensitive); others are ignored.
public struct ChartTable: Sendable {
  public enum Kind: Sendable, Equatable {
    /// One concentration per time.
    case typical
    /// Cohort percentiles per time; the curve is the median.
    case cohortSummary
  }

  /// One curve: a regimen's rows (or all rows when there is no regimen column).
  public struct Group: Sendable {
    /// The `regimen` column's value, or `nil` without that column.
    public var regimen: String?
    public var times: [Double] = []
    public var center: [Double] = []
    public var bands: ChartSeries.Bands?
  }

  public var kind: Kind
  public var hasRegimenColumn: Bool
  public var groups: [Group]

  static let typicalColumns = ["time_day", "conc_mg_l"]
  static let summaryColumns = ["time_day", "p05", "p25", "p50", "p75", "p95"]

  public static func parse(_ text: String, path: String) throws(UserError) -> ChartTable {
    let lines = TextFile.lines(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
    var index = 0
    while index < lines.count && lines[index].allSatisfy(\.isWhitespace) { index += 1 }
    guard index < lines.count else {
      throw UserError("the CSV file '\(path)' is empty", fix: "give a CSV written by 'posology simulate' or 'posology compare'", kind: .dataError)
    }
    let header = csvFields(lines[index]).map { $0.trimmingSpaces().lowercased() }
    func column(_ name: String) -> Int? { header.firstIndex(of: name) }
    func columns(_ names: [String]) -> [Int]? {
      let found = names.compactMap(column)
      return found.count == names.count ? found : nil
    }
    let regimenColumn = column("regimen")
    let kind: Kind
    let valueColumns: [Int]
    if let cols = columns(summaryColumns) {
      kind = .cohortSummary
      valueColumns = cols
    } else if let cols = columns(typicalColumns) {
      kind = .typical
      valueColumns = cols
    } else {
      throw UserError(
        "the CSV file '\(path)' has the header '\(lines[index])', which posology plot does not know",
        fix: "give a CSV written by posology: time_day,conc_mg_L or time_day,mean,sd,p05,p25,p50,p75,p95, optionally after a regimen column",
        kind: .dataError)
    }

    var groups: [Group] = []
    var finishedRegimens: Set<String> = []
    for lineIndex in (index + 1)..<lines.count {
      let line = lines[lineIndex]
      if line.allSatisfy(\.isWhitespace) { continue }
      let place = "line \(lineIndex + 1) of '\(path)'"
      let fields = csvFields(line)
      guard fields.count == header.count else {
        throw UserError("\(place) has \(fields.count) field\(fields.count == 1 ? "" : "s"), the header \(header.count)", fix: "give every row the header's columns", kind: .dataError)
      }
      var numbers: [Double] = []
      for (k, c) in valueColumns.enumerated() {
        let raw = fields[c].trimmingSpaces()
        guard let v = Double(raw), !v.isInfinite else {
          throw UserError("\(place): '\(raw)' in column \(header[c]) is not a number", fix: "give the file as posology wrote it", kind: .dataError)
        }
        if k == 0 && v.isNaN {
          throw UserError("\(place): the time is not a number", fix: "give the file as posology wrote it", kind: .dataError)
        }
        numbers.append(v)
      }
      let regimen = regimenColumn.map { fields[$0].trimmingSpaces() }
      if groups.isEmpty || groups[groups.count - 1].regimen != regimen {
        if let regimen, finishedRegimens.contains(regimen) {
          throw UserError("\(place): the rows of regimen '\(regimen)' are not together", fix: "keep each regimen's rows in one block, as posology compare writes them", kind: .dataError)
        }
        if let previous = groups.last?.regimen { finishedRegimens.insert(previous) }
        groups.append(Group(regimen: regimen, bands: kind == .cohortSummary ? ChartSeries.Bands(p05: [], p25: [], p75: [], p95: []) : nil))
      }
      let g = groups.count - 1
      if let last = groups[g].times.last, numbers[0] < last {
        throw UserError("\(place): the time \(fields[valueColumns[0]].trimmingSpaces()) comes before the row above it", fix: "sort the rows by time (within each regimen)", kind: .dataError)
      }
      groups[g].times.append(numbers[0])
      switch kind {
      case .typical:
        groups[g].center.append(numbers[1])
      case .cohortSummary:
        groups[g].bands?.p05.append(numbers[1])
        groups[g].bands?.p25.append(numbers[2])
        groups[g].center.append(numbers[3])
        groups[g].bands?.p75.append(numbers[4])
        groups[g].bands?.p95.append(numbers[5])
      }
    }
    guard !groups.isEmpty else {
      throw UserError("the CSV file '\(path)' has a header but no rows", fix: "give a CSV with the simulated times", kind: .dataError)
    }
    return ChartTable(kind: kind, hasRegimenColumn: regimenColumn != nil, groups: groups)
  }
}
