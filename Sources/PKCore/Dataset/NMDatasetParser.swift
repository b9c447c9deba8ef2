/// Reads a NONMEM-style dataset from comma-separated text and checks it record by record against
/// NONMEM's rules for the data items (NONMEM Users Guide VI, PREDPP, §V.B–V.F; nmhelp EVID, AMT,
/// RATE, II, ADDL, SS). Every problem is a `DatasetError` naming the line and the column.
///
/// Format:
/// - The first line that is not blank and does not start with `#` is the header. Column names are
///   case-insensitive. `ID`, `TIME` and `AMT` are required; `EVID`, `CMT`, `RATE`, `II`, `ADDL`,
///   `SS`, `MDV` are optional (0 when absent, except as below); dose-item columns (`ALAG2`, `F2`, or
///   user names mapped to them) are read per record; every other column is carried and ignored.
/// - Blank lines and lines starting with `#` are skipped (NONMEM's default `IGNORE=#`). When the
///   first column is named `C`, a record whose `C` cell is `C` is skipped too: the convention that
///   goes with NONMEM's `IGNORE=C` (a `.` there marks a record to read).
/// - A cell holding `.` or nothing reads as 0, as in NONMEM, except `ID` and `TIME`, which must be
///   written out.
/// - Without an `EVID` column the event type follows NONMEM: a record with `AMT > 0` (or a
///   steady-state constant infusion) is a dose, else one with `MDV = 1` is an other-type event,
///   else an observation.
/// - Records of one ID are contiguous; within an ID, TIME never decreases, except on a reset
///   record (EVID 3 or 4), which NONMEM exempts (Guide VI §V.C).
public enum NMDatasetParser {
  /// The standard data items posology reads, by (upper-case) column name.
  static let standardColumns = ["ID", "TIME", "EVID", "AMT", "CMT", "RATE", "II", "ADDL", "SS", "MDV"]
  static let dateColumns = ["DATE", "DAT1", "DAT2", "DAT3"]

  public static func parse(_ text: String, source: String, columns mapping: NMColumnMapping = NMColumnMapping()) throws(DatasetError) -> NMDataset {
    let lines = splitLines(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
    var lineIndex = 0
    while lineIndex < lines.count && isSkipped(lines[lineIndex]) { lineIndex += 1 }
    guard lineIndex < lines.count else {
      throw DatasetError("the dataset '\(source)' is empty", fix: "start it with a header line such as ID,TIME,EVID,AMT,CMT,RATE,II,ADDL,SS")
    }
    let layout = try NMColumnLayout(header: datasetFields(lines[lineIndex]), line: lineIndex + 1, source: source, mapping: mapping)
    var records: [NMRecord] = []
    records.reserveCapacity(lines.count)
    for index in (lineIndex + 1)..<lines.count where !isSkipped(lines[index]) {
      let cells = datasetFields(lines[index])
      if layout.isCommentRecord(cells) { continue }
      records.append(try NMRecordReader(cells: cells, layout: layout, line: index + 1, source: source).record())
    }
    guard !records.isEmpty else {
      throw DatasetError("the dataset '\(source)' has a header but no records", fix: "add one line per dose and observation after the header")
    }
    let subjects = try groupSubjects(records, source: source)
    return NMDataset(source: source, records: records, subjects: subjects, doseItemColumns: layout.doseItems.map { (layout.names[$0.index], $0.item) })
  }

  /// Lines split at LF, CRLF or CR.
  static func splitLines(_ text: String) -> [Substring] {
    Substring(text).split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
  }

  static func isSkipped(_ line: Substring) -> Bool {
    guard let first = line.first(where: { $0 != " " && $0 != "\t" }) else { return true }
    return first == "#" || line.allSatisfy { $0 == "," || $0 == " " || $0 == "\t" }
  }

  /// Subjects are maximal runs of one ID; an ID that comes back after another is an error, and
  /// TIME must not decrease within a subject except at a reset.
  static func groupSubjects(_ records: [NMRecord], source: String) throws(DatasetError) -> [Range<Int>] {
    var subjects: [Range<Int>] = []
    var seen: [String: Int] = [:]  // ID key → line of its first record
    var start = 0
    for i in records.indices {
      let r = records[i]
      if i > 0 && idKey(r.idText) != idKey(records[i - 1].idText) {
        subjects.append(start..<i)
        start = i
      }
      if i == start {
        if let first = seen[idKey(r.idText)] {
          throw DatasetError(
            "line \(r.line) of '\(source)': ID \(r.idText) starts again after other IDs (its first record is on line \(first))",
            fix: "sort the records by ID, keeping each ID's records together in time order")
        }
        seen[idKey(r.idText)] = r.line
      } else {
        let previous = records[i - 1]
        if r.time < previous.time && r.event != .reset && r.event != .resetAndDose {
          throw DatasetError(
            "line \(r.line) of '\(source)': TIME \(r.timeText) comes before the previous record's \(previous.timeText) in ID \(r.idText)",
            fix: "sort each ID's records by TIME (records at equal times are taken in file order; only a reset, EVID 3 or 4, may go back in time)")
        }
      }
    }
    subjects.append(start..<records.count)
    return subjects
  }

  /// IDs compare as numbers when they are numbers ("1" and "1.0" are one subject, as in NONMEM).
  static func idKey(_ text: String) -> String {
    if let v = Double(text), v.isFinite { return "#\(v)" }
    return text
  }
}

/// Where each data item is in the header, and which columns are dose items.
struct NMColumnLayout {
  var names: [String]
  var standard: [String: Int] = [:]
  var doseItems: [(index: Int, item: NMDoseItem)] = []

  /// A record commented out in the `IGNORE=C` convention: first column `C`, cell `C`.
  func isCommentRecord(_ cells: [String]) -> Bool {
    names.first?.uppercased() == "C" && cells.first?.uppercased() == "C"
  }

  init(header: [String], line: Int, source: String, mapping: NMColumnMapping) throws(DatasetError) {
    names = header
    let here = "line \(line) of '\(source)'"
    if header.count == 1, header[0].contains(where: { $0 == " " || $0 == "\t" }) {
      throw DatasetError(
        "\(here): the header '\(header[0])' is one column; the file looks separated by spaces or tabs",
        fix: "save the dataset as comma-separated values (CSV)")
    }
    var position: [String: Int] = [:]
    for (i, name) in header.enumerated() {
      let key = name.uppercased()
      guard !key.isEmpty else {
        throw DatasetError("\(here): column \(i + 1) of the header has no name", fix: "name every column (ID, TIME, AMT, …)")
      }
      if let other = position[key] {
        throw DatasetError("\(here): the column name '\(name)' appears twice (columns \(other + 1) and \(i + 1))", fix: "give every column a different name")
      }
      position[key] = i
    }
    for key in NMDatasetParser.dateColumns where position[key] != nil {
      throw DatasetError(
        "\(here): the dataset has a \(key) column; calendar dates and clock times are not supported",
        fix: "give elapsed time in the TIME column (in the unit of --time-unit) and remove \(key)")
    }
    for required in ["ID", "TIME", "AMT"] where position[required] == nil {
      throw DatasetError(
        "the dataset '\(source)' has no \(required) column (its header is \(header.joined(separator: ",")))",
        fix: "add the \(required) column; ID, TIME and AMT are required, EVID, CMT, RATE, II, ADDL, SS and MDV are optional")
    }
    for key in NMDatasetParser.standardColumns { standard[key] = position[key] }

    // Dose items: defaults by name, then the explicit mapping.
    var assigned: [String: NMDoseItem] = [:]  // column key → item
    for name in header {
      if let item = NMDoseItem.defaultColumns[name.uppercased()] { assigned[name.uppercased()] = item }
    }
    for (column, item) in mapping.overrides {
      let key = column.uppercased()
      guard position[key] != nil else {
        throw DatasetError(
          "the dataset '\(source)' has no column '\(column)' to read as \(item.map(\.description) ?? "nothing")",
          fix: "name one of its columns: \(header.joined(separator: ", "))", origin: .request)
      }
      guard !NMDatasetParser.standardColumns.contains(key) else {
        throw DatasetError("the column '\(column)' is the NONMEM data item \(key) and cannot be remapped", fix: "map a user column instead", origin: .request)
      }
      if let item {
        // An explicit mapping wins over a default mapping of another column to the same item.
        for (other, otherItem) in assigned where otherItem == item && other != key && !mapping.overrides.contains(where: { $0.column.uppercased() == other }) {
          assigned[other] = nil
        }
        assigned[key] = item
      } else {
        assigned[key] = nil
      }
    }
    var byItem: [NMDoseItem: String] = [:]
    for (i, name) in header.enumerated() {
      guard let item = assigned[name.uppercased()] else { continue }
      if let other = byItem[item] {
        throw DatasetError(
          "the columns \(other) and \(name) both give \(item) (in '\(source)')",
          fix: "keep one, or choose with --column \(name)=none or --column \(other)=none")
      }
      byItem[item] = name
      doseItems.append((i, item))
    }
  }
}

/// Reads and checks one record.
struct NMRecordReader {
  let cells: [String]
  let layout: NMColumnLayout
  let line: Int
  let source: String

  var here: String { "line \(line) of '\(source)'" }

  func fail(_ problem: String, _ fix: String) -> DatasetError { DatasetError("\(here): \(problem)", fix: fix) }

  func record() throws(DatasetError) -> NMRecord {
    guard cells.count == layout.names.count else {
      throw fail("it has \(cells.count) fields, the header \(layout.names.count)", "give every record one value per header column (write . for an empty value)")
    }
    let idText = try written("ID")
    let timeText = try written("TIME")
    guard let time = Double(timeText), time.isFinite else {
      let hint = timeText.contains(":") ? "clock times are not supported: give elapsed time in the unit of --time-unit" : "write the time as a plain number, e.g. 24"
      throw fail("TIME '\(timeText)' is not a number", hint)
    }
    let amount = try number("AMT")
    guard amount >= 0 else { throw fail("AMT \(cell("AMT")) is negative", "give dose amounts of 0 or more (a dose needs AMT > 0)") }
    let rate = try number("RATE")
    let interval = try number("II")
    guard interval >= 0 else { throw fail("II \(cell("II")) is negative", "give the interdose interval as 0 or more") }
    let additional = try integer("ADDL")
    guard additional >= 0 else { throw fail("ADDL \(cell("ADDL")) is negative", "give the number of additional doses as 0 or more (empirical steady state, ADDL < 0, is not supported)") }
    let steadyState = try integer("SS")
    let compartment = try integer("CMT")
    let mdv: Int? = layout.standard["MDV"] == nil ? nil : try integer("MDV")
    if let mdv, mdv != 0 && mdv != 1 { throw fail("MDV \(cell("MDV")) is neither 0 nor 1", "write MDV as 0 or 1") }

    let event: NMEvent
    if layout.standard["EVID"] != nil {
      let code = try integer("EVID")
      guard let e = NMEvent(rawValue: code) else {
        throw fail("EVID \(cell("EVID")) is not an event type", "use 0 observation, 1 dose, 2 other, 3 reset, 4 reset and dose")
      }
      event = e
    } else if amount > 0 || (steadyState != 0 && rate > 0) {
      event = .dose
    } else {
      event = mdv == 1 ? .other : .observation
    }

    var items = NMDoseItemValues()
    for (index, item) in layout.doseItems {
      items[item] = try number(at: index)
    }
    let r = NMRecord(
      line: line, idText: idText, timeText: timeText, time: time, event: event, amount: amount, compartment: compartment,
      rate: rate, interval: interval, additionalDoses: additional, steadyState: steadyState,
      missingDependentVariable: mdv, doseItems: items)
    try check(r)
    return r
  }

  /// NONMEM's rules for the dose items on each kind of record.
  func check(_ r: NMRecord) throws(DatasetError) {
    guard r.isDose else {
      let doseItems = [("AMT", r.amount), ("RATE", r.rate), ("II", r.interval), ("ADDL", Double(r.additionalDoses)), ("SS", Double(r.steadyState))]
      if let (name, _) = doseItems.first(where: { $0.1 != 0 }) {
        throw fail("\(name) is \(cell(name)) on an EVID \(r.event.rawValue) record, which gives no dose", "set AMT, RATE, II, ADDL and SS to 0 on observation, other and reset records (or make it a dose, EVID 1)")
      }
      guard (0...2).contains(r.compartment) else {
        throw fail("CMT \(cell("CMT")) is not a compartment of the model", "use 0 or 2 (central) on observations; 1 is the depot (output and turned-off compartments are not supported)")
      }
      return
    }
    guard (0...2).contains(r.compartment) else {
      throw fail("CMT \(cell("CMT")) is not a compartment a dose can go to", "use 1 (depot; 0 means the same) or 2 (central)")
    }
    guard (0...2).contains(r.steadyState) else {
      throw fail("SS \(cell("SS")) is not supported", "use 0 (no steady state), 1 (steady state, replacing the amounts) or 2 (steady state added to them)")
    }
    guard r.rate >= 0 || r.rate == -1 || r.rate == -2 else {
      throw fail("RATE \(cell("RATE")) is not a rate", "use 0 (bolus), a rate > 0 (infusion), -1 (modeled rate) or -2 (modeled duration)")
    }
    if r.isSteadyStateConstantInfusion {
      guard r.additionalDoses == 0 else {
        throw fail("ADDL is \(cell("ADDL")) on a steady-state constant infusion (AMT 0, II 0)", "set ADDL to 0, or give AMT and II for repeated infusions")
      }
      return
    }
    guard r.amount > 0 else {
      let fix = r.steadyState != 0 && r.rate < 0
        ? "a steady-state constant infusion needs an explicit RATE > 0 with AMT 0 and II 0"
        : "give AMT > 0 (a steady-state constant infusion is AMT 0, RATE > 0, II 0, SS 1)"
      throw fail("a dose (EVID \(r.event.rawValue)) with AMT \(cell("AMT"))", fix)
    }
    if r.steadyState != 0 && !(r.interval > 0) {
      throw fail("a steady-state dose (SS \(r.steadyState)) with II \(cell("II"))", "give the interdose interval II > 0 (or AMT 0 with RATE > 0 for a constant infusion)")
    }
    if r.additionalDoses > 0 && !(r.interval > 0) {
      throw fail("ADDL \(r.additionalDoses) additional doses with II \(cell("II"))", "give the interval between them, II > 0")
    }
  }

  func cell(_ column: String) -> String {
    guard let i = layout.standard[column] else { return "0" }
    return cells[i]
  }

  /// ID and TIME must be written out ("." is not accepted for them).
  func written(_ column: String) throws(DatasetError) -> String {
    let text = cell(column)
    guard !text.isEmpty, text != "." else { throw fail("\(column) is empty", "give every record its \(column)") }
    return text
  }

  /// A number column; absent columns, `.` and empty cells read as 0 (NONMEM).
  func number(_ column: String) throws(DatasetError) -> Double {
    guard let i = layout.standard[column] else { return 0 }
    return try number(at: i)
  }

  func number(at index: Int) throws(DatasetError) -> Double {
    let text = cells[index]
    if text.isEmpty || text == "." { return 0 }
    guard let v = Double(text), v.isFinite, !text.lowercased().hasPrefix("0x"), !text.lowercased().hasPrefix("-0x") else {
      throw fail("\(layout.names[index]) '\(text)' is not a number", "write a plain decimal number such as 100 or 0.5 ('.' reads as 0)")
    }
    return v
  }

  /// A whole-number column (EVID, CMT, ADDL, SS, MDV): `1` and `1.0` are accepted.
  func integer(_ column: String) throws(DatasetError) -> Int {
    let v = try number(column)
    guard v == v.rounded(), Swift.abs(v) < 1e9 else {
      throw fail("\(column) '\(cell(column))' is not a whole number", "write \(column) as a whole number such as 0, 1 or 2")
    }
    return Int(v)
  }
}
