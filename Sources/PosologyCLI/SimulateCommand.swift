import PKCore
import PKReport

/// `posology simulate`: one regimen, for the typical patient (or a cohort with `--subjects`).
enum SimulateCommand {
  static let outputOptions: [OptionSpec] = [
    OptionSpec("--output", short: "-o", value: "file", "Write the CSV there (atomically) instead of stdout."),
  ]

  static var info: Posology.CommandInfo {
    Posology.CommandInfo(
      name: "simulate",
      abstract: "Simulate one regimen: the typical patient's concentration curve (CSV).",
      usage: "posology simulate [--model <name>] [--weight <kg>] [--regimen <text|name> | --loading <mg> --dose <mg> --interval <interval> [--doses <n>] | --events <file> | --indication <code> --age <years>] [--weeks <n> | --days <n>] [--step <days>] [-o <file>]",
      discussion: "Without a regimen: the adult atopic-dermatitis label regimen, 600 mg then 300 mg every 2 weeks, for 52 weeks, on the default model (Kovalenko 2020 model 3) for a 75 kg adult. Writes time_day,conc_mg_L (mg/L); a row at a dose time holds the value just before that dose.",
      options: Scenario.options + RegimenChoice.options + CohortRun.options + MetricsOutput.options + DatasetRun.options + ChartOutputs.options + outputOptions,
      allowsPositionals: false,
      run: run)
  }

  static func run(_ o: ParsedOptions, _ console: Console) throws {
    if o.has("--data") {
      if RegimenChoice.sources(o).count > 1 {
        throw UserError("\(RegimenChoice.sources(o).joined(separator: " and ")) both give a regimen", fix: "use only one regimen source", kind: .usage, suggestsHelp: true)
      }
      try DatasetRun.run(o, console)
      return
    }
    for name in ["--time-unit", "--column"] where o.has(name) {
      throw UserError("\(name) applies to NONMEM datasets only", fix: "add --data FILE, or drop \(name)", kind: .usage, suggestsHelp: true)
    }
    let scenario = try Scenario(o)
    let choice = try RegimenChoice.make(o, scenario: scenario)
    if let cohort = try CohortRun.parse(o, scenario: scenario) {
      try cohort.run(o, console: console, scenario: scenario, choices: [choice], compare: false)
      return
    }
    try CohortRun.checkTypicalMemory(rows: scenario.grid.count)
    let output = o.value("--output")
    if let output { try TextFile.checkWritable(output) }
    try MetricsOutput.checkOutputs(o)
    try ChartOutputs.checkOutputs(o)
    let simulator = SubjectSimulator(options: scenario.solver)
    let concentrations = try simulator.concentrations(
      scenario.typicalParameters, doses: choice.doses, grid: scenario.grid, scale: scenario.model.outputScale)
    let metrics = try MetricsOutput.typical(o, scenario: scenario, choices: [choice])
    let ss = try SteadyStateMarker.trough(o, scenario: scenario, choice: choice)
    try ChartOutputs.write(
      o, console: console,
      series: [ChartSeries(label: choice.label, doses: choice.doses, times: scenario.grid.times, center: concentrations, steadyStateTrough: ss)],
      metricsCSV: metrics, commandLine: CommandLine.arguments)
    var csv = CSVBuilder(header: ["time_day", "conc_mg_L"])
    for (k, c) in concentrations.enumerated() {
      csv.appendLine(NumberFormat.time(scenario.grid.time(k)) + "," + NumberFormat.value(c))
    }
    try emit(csv.text, to: output, console: console)
  }

  /// Writes the main CSV to `-o FILE` atomically, or to stdout.
  static func emit(_ text: String, to path: String?, console: Console) throws(UserError) {
    if let path { try TextFile.writeAtomically(text, to: path) } else { console.out(text) }
  }
}

/// The steady-state trough to mark on charts (only when a chart is asked for: it costs a solve).
enum SteadyStateMarker {
  static func trough(_ o: ParsedOptions, scenario: Scenario, choice: RegimenChoice) throws -> Double? {
    guard o.has("--plot") || o.has("--report") || o.has("--chart"), let m = choice.maintenance else { return nil }
    return try SteadyState(simulator: SubjectSimulator(options: scenario.solver))
      .solve(scenario.typicalParameters, amount: m.amount, interval: m.interval, route: m.route, scale: scenario.model.outputScale).cmin
  }
}
