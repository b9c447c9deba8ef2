import PKCore
import PKReport

/// `posology simulate --data FILE --time-unit h|d`: a NONMEM-style dataset in, the model's output
/// at its observation records out (`ID,TIME,CP`, ID and TIME as written in the file), issue 8.
///
/// The model is a linear one-compartment model with a depot (`onecmt` by default), solved in
/// closed form and driven by NONMEM's event semantics (PKCore `NMDatasetSimulator`;
/// docs/nonmem-datasets.md). Its rate constants and lag are read per the dataset's time unit.
enum DatasetRun {
  static let options: [OptionSpec] = [
    OptionSpec("--data", value: "file", "A NONMEM-style dataset (ID, TIME, EVID, AMT, CMT, RATE, II, ADDL, SS, MDV, ...); writes ID,TIME,CP at its observation records. The model defaults to onecmt."),
    OptionSpec("--time-unit", value: "h|d", "Time unit of the dataset's TIME, II, lag and duration columns; the model's rate constants are taken per this unit (nothing is converted). (default: d)"),
    OptionSpec("--column", value: "name=item", repeatable: true, "With --data: read a dataset column as a NONMEM dose item ALAG1, ALAG2, F1, F2, D1, D2, R1 or R2, or 'none' to ignore it (defaults: columns named so, and LAGT=ALAG2, BIOAV=F2, DUR2=D2, RAT2=R2). Repeatable."),
  ]

  /// The model used with `--data` when `--model` is not given: the only shipped model the
  /// dataset engine can run (the DESIGN default, kovalenko2020, is nonlinear and two-compartment).
  static let defaultModel = "onecmt"

  /// Options that make sense with `--data`; any other option of `simulate` is refused.
  static let applicableOptions: Set<String> = ["--data", "--time-unit", "--column", "--model", "--profiles", "--param", "--output"]

  static func run(_ o: ParsedOptions, _ console: Console) throws {
    guard let path = o.value("--data") else { return }
    try checkApplicable(o)
    try checkTimeUnit(o)
    let mapping = try columnMapping(o)
    let model = try model(o)
    let output = o.value("--output")
    if let output { try TextFile.checkWritable(output) }

    let text = try TextFile.read(path, what: "dataset")
    let dataset: NMDataset
    let result: NMSimulationResult
    do {
      dataset = try NMDatasetParser.parse(text, source: path, columns: mapping)
      result = try NMDatasetSimulator.simulate(dataset, model: model)
    } catch {
      throw UserError(error.problem, fix: error.fix, kind: error.origin == .request ? .usage : .dataError)
    }

    var csv = CSVBuilder(header: ["ID", "TIME", "CP"])
    for (record, value) in zip(dataset.records, result.outputs) where record.event == .observation {
      csv.appendRow([CSVBuilder.field(record.idText), CSVBuilder.field(record.timeText), NumberFormat.value(value)])
    }
    try SimulateCommand.emit(csv.text, to: output, console: console)
    if let note = lagNote(result.lagAtLeastIntervalRecords) { console.err(note) }
  }

  /// One line on stderr when steady-state doses have a lag ≥ II, which NONMEM leaves undefined.
  static func lagNote(_ records: [NMRecord]) -> String? {
    guard let first = records.first else { return nil }
    var ids: [String] = []
    for r in records where !ids.contains(r.idText) { ids.append(r.idText) }
    let shown = ids.prefix(6).joined(separator: ", ") + (ids.count > 6 ? ", …" : "")
    return "Note: \(records.count) steady-state dose\(records.count == 1 ? " has" : "s have") a lag of at least II (ID \(shown); first on line \(first.line)). NONMEM's help requires lag < II; these use the periodic steady state of the lagged doses, which NONMEM's own output reaches only after its first cycles (see docs/nonmem-datasets.md).\n"
  }

  /// Refuses every other option `simulate` accepts (regimen, horizon, grid, solver, charts, …).
  static func checkApplicable(_ o: ParsedOptions) throws(UserError) {
    let all = SimulateCommand.info.options.map(\.name)
    if let name = all.first(where: { !applicableOptions.contains($0) && o.has($0) }) {
      throw UserError("\(name) does not apply to --data", fix: "the dataset gives the doses, times and subjects; use --model, --param, --column, --time-unit and -o with it", kind: .usage, suggestsHelp: true)
    }
  }

  /// `--time-unit h|d` names the unit of TIME, II, the lag and duration columns and of the
  /// model's rate constants; nothing is converted (docs/nonmem-datasets.md).
  static func checkTimeUnit(_ o: ParsedOptions) throws(UserError) {
    guard let text = o.value("--time-unit") else { return }
    guard ["h", "d"].contains(text.lowercased()) else {
      throw UserError("the value '\(text)' is invalid for '--time-unit'", fix: "use --time-unit h (hours) or --time-unit d (days)", kind: .usage, suggestsHelp: true)
    }
  }

  /// `--column NAME=ITEM` (ITEM: ALAG1, ALAG2, F1, F2, D1, D2, R1, R2 or none).
  static func columnMapping(_ o: ParsedOptions) throws(UserError) -> NMColumnMapping {
    var overrides: [(column: String, item: NMDoseItem?)] = []
    for text in o.all("--column") {
      let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).trimmingCharacters() }
      let items = NMDoseItem.all.map(\.description).joined(separator: ", ")
      guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
        throw UserError("'--column \(text)' is not NAME=ITEM", fix: "write it like --column LAGT=ALAG2 (items: \(items), none)", kind: .usage, suggestsHelp: true)
      }
      if parts[1].lowercased() == "none" {
        overrides.append((parts[0], nil))
      } else if let item = NMDoseItem(name: parts[1]) {
        overrides.append((parts[0], item))
      } else {
        throw UserError("'--column \(text)': '\(parts[1])' is not a dose item", fix: "use one of \(items), or none", kind: .usage)
      }
      if overrides.dropLast().contains(where: { $0.column.uppercased() == parts[0].uppercased() }) {
        throw UserError("the column '\(parts[0])' is given to --column twice", fix: "map each column once", kind: .usage)
      }
    }
    return NMColumnMapping(overrides)
  }

  /// The model (default `onecmt`) with `--param` overrides, as the closed-form one-compartment
  /// model. F → F1 and tlag → ALAG1 (depot doses); compartment 2 has F2 = 1 and ALAG2 = 0 unless
  /// a column gives them.
  static func model(_ o: ParsedOptions) throws(UserError) -> OneCompartmentDepotModel {
    let library = try ProfileLibrary.locate(explicit: o.value("--profiles"))
    var model = try library.model(named: o.value("--model") ?? defaultModel)
    try Scenario.applyOverrides(o.all("--param"), to: &model)
    do {
      return try OneCompartmentDepotModel(parameters: model.typical, outputScale: model.outputScale, modelName: model.name)
    } catch {
      throw UserError(error.problem, fix: error.fix, kind: .usage)
    }
  }
}
