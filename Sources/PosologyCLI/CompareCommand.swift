import PKCore
import PKReport

/// `posology compare`: several regimens on the same patients.
enum CompareCommand {
  static var info: Posology.CommandInfo {
    Posology.CommandInfo(
      name: "compare", abstract: "Simulate several regimens on the same patients, side by side (CSV).",
      usage: "posology compare --regimen <text|name> --regimen <text|name> ... [options]",
      discussion: "Writes regimen,time_day,conc_mg_L, rows grouped by regimen in the order given; the regimen column holds the regimen as given.",
      options: Scenario.options + [
        OptionSpec("--regimen", value: "text|name", repeatable: true, "A regimen (text or label preset). Give it once per regimen."),
        OptionSpec("--route", value: "sc|iv", "Route of the regimens' doses. (default: sc)"),
        OptionSpec("--miss", value: "n,...", "Leave out these doses in every regimen."),
        OptionSpec("--delay", value: "n:d", repeatable: true, "Give dose n d days late in every regimen."),
        OptionSpec("--late", value: "n:d", repeatable: true, "Apply the label's missed-dose rule to dose n in every regimen."),
      ] + CohortRun.options + MetricsOutput.options + ChartOutputs.options + SimulateCommand.outputOptions,
      allowsPositionals: false, run: run)
  }

  static func run(_ o: ParsedOptions, _ console: Console) throws {
    let texts = o.all("--regimen")
    guard !texts.isEmpty else {
      throw UserError("compare needs at least one --regimen", fix: "give e.g. --regimen \"600mg then 300mg q2w\" --regimen \"600mg then 300mg q4w\"", kind: .usage, suggestsHelp: true)
    }
    let scenario = try Scenario(o)
    let choices = try texts.map { (t) throws(UserError) in try RegimenChoice.make(o, scenario: scenario, regimenText: t) }
    if let cohort = try CohortRun.parse(o, scenario: scenario) {
      try cohort.run(o, console: console, scenario: scenario, choices: choices, compare: true)
      return
    }
    try CohortRun.checkTypicalMemory(rows: scenario.grid.count * choices.count)
    let output = o.value("--output")
    if let output { try TextFile.checkWritable(output) }
    try MetricsOutput.checkOutputs(o)
    try ChartOutputs.checkOutputs(o)
    let simulator = SubjectSimulator(options: scenario.solver)
    var csv = CSVBuilder(header: ["regimen", "time_day", "conc_mg_L"])
    var series: [ChartSeries] = []
    for choice in choices {
      let c = try simulator.concentrations(scenario.typicalParameters, doses: choice.doses, grid: scenario.grid, scale: scenario.model.outputScale)
      series.append(ChartSeries(label: choice.label, doses: choice.doses, times: scenario.grid.times, center: c,
        steadyStateTrough: try SteadyStateMarker.trough(o, scenario: scenario, choice: choice)))
      let label = CSVBuilder.field(choice.label)
      for (k, v) in c.enumerated() {
        csv.appendLine(label + "," + NumberFormat.time(scenario.grid.time(k)) + "," + NumberFormat.value(v))
      }
    }
    let metrics = try MetricsOutput.typical(o, scenario: scenario, choices: choices)
    try ChartOutputs.write(o, console: console, series: series, metricsCSV: metrics, commandLine: CommandLine.arguments)
    try SimulateCommand.emit(csv.text, to: output, console: console)
  }
}
