import PKCore
import PKReport

/// `posology plot FILE.csv --plot FILE.svg`: draws a chart from a CSV posology wrote earlier
/// (typical curve, cohort summary, or a comparison with a `regimen` column), marking the doses
/// of the regimen given again on the command line.
enum PlotCommand {
  static let options: [OptionSpec] = [
    OptionSpec("--regimen", value: "text|name", repeatable: true, "The regimen behind the CSV, to mark its doses. For a comparison CSV: the regimens to draw, as written in its regimen column (default: all, read from that column)."),
    OptionSpec("--label", value: "text", repeatable: true, "Legend text for each curve, in order. (default: the regimen)"),
    OptionSpec("--lloq", value: "mg/L", "Draw the lower limit of quantification."),
    OptionSpec("--threshold", value: "mg/L", "Draw a target concentration."),
    OptionSpec("--profiles", value: "dir", "Folder holding the profile JSON files, for label preset names. (default: Profiles/ next to the package, else built in)"),
  ] + RegimenChoice.options.filter { ["--events", "--route", "--miss", "--delay", "--late"].contains($0.name) }
    + ChartOutputs.options

  static var info: Posology.CommandInfo {
    Posology.CommandInfo(
      name: "plot", abstract: "Draw a chart (SVG) from a CSV written by simulate or compare, doses marked.",
      usage: "posology plot <file.csv> --plot <file.svg> [--regimen <text|name> ... | --events <file>] [--miss n,...] [--log] [--lloq <mg/L>] [--threshold <mg/L>] [--title <text>] [--label <text> ...] [--report <file.html>] [--chart]",
      discussion: "Reads time_day,conc_mg_L (simulate), time_day,mean,sd,p05,p25,p50,p75,p95 (cohort summary), or either with a leading regimen column (compare). The CSV holds no doses, so give the regimen again: --regimen or --events for a single curve (with the same --miss/--delay/--late as the run); a comparison's regimen column already names its regimens. Time is drawn in weeks.",
      options: options, allowsPositionals: true, run: run)
  }

  static func run(_ o: ParsedOptions, _ console: Console) throws {
    guard let input = o.positionals.first else {
      throw UserError("plot needs the CSV file to draw", fix: "give it first, e.g. posology plot run.csv --plot run.svg", kind: .usage, suggestsHelp: true)
    }
    guard o.positionals.count == 1 else {
      throw UserError("plot draws one CSV file, but \(o.positionals.count) were given", fix: "give one file; compare several regimens with 'posology compare'", kind: .usage, suggestsHelp: true)
    }
    guard o.has("--plot") else {
      throw UserError("plot needs --plot <file.svg>", fix: "add e.g. --plot chart.svg", kind: .usage, suggestsHelp: true)
    }
    try ChartOutputs.checkOutputs(o)
    _ = try ChartOutputs.options(o, series: [])  // bad --lloq/--threshold fail before any reading
    let adjustments = try RegimenChoice.adjustments(o)
    let route = try RegimenChoice.route(o)

    let table = try ChartTable.parse(try TextFile.read(input, what: "CSV file"), path: input)
    let picked = try pick(table, o)
    var library: ProfileLibrary? = nil
    var series: [ChartSeries] = []
    for (group, source) in picked {
      let horizon = group.times.last ?? 0
      let schedule: [Regimen.ScheduledDose]
      let label: String
      switch source {
      case .events(let path):
        let doses = try EventsFile.parse(try TextFile.read(path, what: "events file"), path: path)
        schedule = doses.map { Regimen.ScheduledDose(dose: $0, interval: nil) }
        label = group.regimen ?? path
      case .regimen(let text, let fromCSV):
        schedule = try regimen(text, route: route, fromCSV: fromCSV, library: &library, o: o).scheduled(horizon: horizon)
        label = text
      }
      let doses: [Dose]
      do { doses = try adjustments.apply(to: schedule, horizon: horizon) } catch {
        throw UserError(error.problem, fix: error.fix, kind: .usage)
      }
      series.append(ChartSeries(
        label: label, doses: doses, times: group.times, center: group.center, bands: group.bands,
        steadyStateTrough: ObservedTrough.estimate(doses: doses, times: group.times, values: group.center)))
    }

    let labels = o.all("--label")
    if !labels.isEmpty {
      guard labels.count == series.count else {
        throw UserError("\(labels.count) --label given for \(series.count) curve\(series.count == 1 ? "" : "s")", fix: "give one --label per curve, in order, or none", kind: .usage)
      }
      for i in series.indices { series[i].label = labels[i] }
    }
    try ChartOutputs.write(o, console: console, series: series, metricsCSV: nil, commandLine: ["posology", "plot", input] + o.given)
  }

  /// Where a curve's doses come from.
  enum DoseSource {
    case regimen(String, fromCSV: Bool)
    case events(String)
  }

  /// The curves to draw and the regimen of each.
  static func pick(_ table: ChartTable, _ o: ParsedOptions) throws(UserError) -> [(ChartTable.Group, DoseSource)] {
    let regimens = o.all("--regimen")
    let events = o.value("--events")
    if events != nil && !regimens.isEmpty {
      throw UserError("--regimen and --events both give the doses", fix: "use only one of them", kind: .usage, suggestsHelp: true)
    }
    guard table.hasRegimenColumn else {
      if regimens.count > 1 {
        throw UserError("the CSV has one curve but \(regimens.count) --regimen were given", fix: "give the one regimen that produced it", kind: .usage)
      }
      if let events { return [(table.groups[0], .events(events))] }
      guard let text = regimens.first else {
        throw UserError("plot needs the regimen to mark the doses: the CSV holds no doses", fix: "add the regimen of the run, e.g. --regimen \"600mg then 300mg q2w\", or --events FILE", kind: .usage, suggestsHelp: true)
      }
      return [(table.groups[0], .regimen(text, fromCSV: false))]
    }
    if let events {
      guard table.groups.count == 1 else {
        throw UserError("--events gives one dose list, but the CSV compares \(table.groups.count) regimens", fix: "leave out --events: the CSV's regimen column names the regimens", kind: .usage)
      }
      return [(table.groups[0], .events(events))]
    }
    guard !regimens.isEmpty else { return table.groups.map { ($0, .regimen($0.regimen ?? "", fromCSV: true)) } }
    var out: [(ChartTable.Group, DoseSource)] = []
    for text in regimens {
      let wanted = text.trimmingCharacters()
      let squeezed = { (s: String) in s.lowercased().filter { !$0.isWhitespace } }
      guard let group = table.groups.first(where: { $0.regimen == wanted }) ?? table.groups.first(where: { squeezed($0.regimen ?? "") == squeezed(wanted) }) else {
        let names = table.groups.compactMap(\.regimen).map { "'\($0)'" }.joined(separator: ", ")
        throw UserError("the CSV has no regimen '\(text)'", fix: "its regimen column holds \(names)", kind: .usage)
      }
      if out.contains(where: { $0.0.regimen == group.regimen }) {
        throw UserError("the regimen '\(text)' is given twice", fix: "give each regimen once", kind: .usage)
      }
      out.append((group, .regimen(group.regimen ?? text, fromCSV: true)))
    }
    return out
  }

  /// Regimen text, or a label preset name (as compare accepts).
  static func regimen(_ text: String, route: Route, fromCSV: Bool, library: inout ProfileLibrary?, o: ParsedOptions) throws(UserError) -> Regimen {
    let name = text.trimmingCharacters()
    do {
      return try RegimenText.parse(name, route: route)
    } catch {
      if library == nil { library = try ProfileLibrary.locate(explicit: o.value("--profiles")) }
      if let preset = library?.labelRegimen(named: name), let regimen = try? RegimenText.parse(preset.regimen, route: route) {
        return regimen
      }
      if fromCSV {
        throw UserError("the CSV's regimen '\(text)' is neither regimen text nor a label preset", fix: "plot CSVs as 'posology compare' wrote them, or give --events for a single curve", kind: .dataError)
      }
      throw UserError(error.problem, fix: error.fix, kind: .usage)
    }
  }
}
