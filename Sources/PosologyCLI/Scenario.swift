import PKCore
import PKNumerics
import PKReport

/// Everything a simulation needs, built from the command line: the model (with `--param`
/// overrides), the typical weight, the horizon and grid, the solver settings and the regimens.
struct Scenario {
  var library: ProfileLibrary
  var model: PopulationModel
  var weight: Double
  var horizon: Double
  var grid: OutputGrid
  var solver: ODEOptions

  static let options: [OptionSpec] = [
    OptionSpec("--model", value: "name", "Model name (kovalenko2020, kovalenko2016, zhang2021, onecmt, twocmt) or a profile file path. (default: kovalenko2020)"),
    OptionSpec("--profiles", value: "dir", "Folder holding the profile JSON files. (default: Profiles/ next to the package, else built in)"),
    OptionSpec("--weight", value: "kg", "Body weight of the typical patient in kg. (default: 75)"),
    OptionSpec("--days", value: "n", "Horizon in days."),
    OptionSpec("--weeks", value: "n", "Horizon in weeks. (default: 52)"),
    OptionSpec("--step", value: "days", "Output grid step in days. (default: 1)"),
    OptionSpec("--param", value: "name=value", repeatable: true, "Override a typical parameter at the reference weight: ka, F, Vc, ke, k12, k21, Vm, Km, mtt, ntr, tlag (aliases CL, V). Repeatable."),
    OptionSpec("--rtol", value: "x", "Solver relative tolerance, 0 < x < 1. (default: 1e-7)"),
    OptionSpec("--atol", value: "x", "Solver absolute tolerance (mg), 0 < x < 1. (default: 1e-9)"),
    OptionSpec("--method", value: "name", "Solver: auto (exponential integrator for curves, Dormand–Prince elsewhere), dopri5 (explicit, adaptive) or rodas4 (Rosenbrock, stiff). (default: auto)"),
  ]

  static let maximumHorizonDays = 36_525.0  // 100 years

  init(_ o: ParsedOptions) throws(UserError) {
    library = try ProfileLibrary.locate(explicit: o.value("--profiles"))
    model = try library.model(named: o.value("--model") ?? library.defaultModelName)
    try Self.applyOverrides(o.all("--param"), to: &model)
    weight = try o.number("--weight", "a body weight in kg", in: 0.5...700) ?? 75
    if o.has("--days") && o.has("--weeks") {
      throw UserError("--days and --weeks both set the horizon", fix: "give only one of them", kind: .usage, suggestsHelp: true)
    }
    if let days = try o.number("--days", "a horizon in days", in: 0...Self.maximumHorizonDays, exclusiveLower: 0) {
      horizon = days
    } else if let weeks = try o.number("--weeks", "a horizon in weeks", in: 0...(Self.maximumHorizonDays / 7), exclusiveLower: 0) {
      horizon = weeks * 7
    } else {
      horizon = 364
    }
    let step = try o.number("--step", "an output step in days", exclusiveLower: 0) ?? 1
    do { grid = try OutputGrid(step: step, horizon: horizon) } catch {
      throw UserError(error.problem, fix: error.fix, kind: .usage)
    }
    solver = SubjectSimulator.defaultOptions
    if let rtol = try o.number("--rtol", "a relative tolerance", exclusiveLower: 0) {
      guard rtol < 1 else { throw UserError("'--rtol \(o.value("--rtol")!)' is out of range", fix: "give a relative tolerance between 0 and 1, e.g. 1e-8", kind: .usage) }
      solver.relativeTolerance = Swift.max(rtol, 1e-14)
    }
    if let atol = try o.number("--atol", "an absolute tolerance", exclusiveLower: 0) {
      guard atol < 1 else { throw UserError("'--atol \(o.value("--atol")!)' is out of range", fix: "give an absolute tolerance between 0 and 1, e.g. 1e-10", kind: .usage) }
      solver.absoluteTolerance = atol
    }
    if let method = o.value("--method") {
      guard let m = ODEMethod(rawValue: method.lowercased()) else {
        throw UserError("unknown method '\(method)'", fix: "use auto, dopri5 or rodas4", kind: .usage)
      }
      solver.method = m
    }
  }

  /// `--param NAME=VALUE`: replaces a typical value at the model's reference weight. `CL` sets
  /// ke = CL/Vc (after any Vc given), `V` sets Vc.
  static func applyOverrides(_ assignments: [String], to model: inout PopulationModel) throws(UserError) {
    var clearance: Double? = nil
    for text in assignments {
      let parts = text.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters() }
      guard parts.count == 2, !parts[0].isEmpty else {
        throw UserError("'--param \(text)' is not NAME=VALUE", fix: "write it like --param ka=0.3", kind: .usage, suggestsHelp: true)
      }
      guard let value = csvNumber(parts[1]) else {
        throw UserError("'--param \(text)': '\(parts[1])' is not a number", fix: "write it like --param ka=0.3", kind: .usage)
      }
      switch parts[0] {
      case "CL", "cl": clearance = value
      case "V", "v": model.typical.Vc = value
      default:
        guard let name = ParameterName.allCases.first(where: { $0.rawValue == parts[0] })
          ?? ParameterName.allCases.first(where: { $0.rawValue.lowercased() == parts[0].lowercased() })
        else {
          let names = ParameterName.allCases.map(\.rawValue) + ["CL", "V"]
          let hint = Suggestion.closest(to: parts[0], among: names).map { "Did you mean '\($0)'? " } ?? ""
          throw UserError("unknown parameter '\(parts[0])' in '--param \(text)'", fix: "\(hint)Names: \(names.joined(separator: ", "))", kind: .usage)
        }
        if name == .ntr {
          guard value == value.rounded(), value >= 0, value <= 20 else {
            throw UserError("'--param \(text)': ntr must be a whole number from 0 to 20", fix: "e.g. --param ntr=3", kind: .usage)
          }
        }
        model.typical[name] = value
      }
    }
    if let clearance { model.typical.ke = clearance / model.typical.Vc }
    if let problem = model.typical.problems().first {
      throw UserError("the parameters are not usable: \(problem)", fix: "change the --param values", kind: .usage)
    }
  }

  /// The typical patient's parameters at `weight`.
  var typicalParameters: PKParameters { model.individual(weight: weight, eta: nil) }
}

/// Which regimen a run uses, from exactly one source (DESIGN §6 "Which regimen").
struct RegimenChoice {
  /// The regimen as the user gave it (the `regimen` column of metrics and comparisons).
  var label: String
  var schedule: [Regimen.ScheduledDose]
  var doses: [Dose]
  /// The repeating maintenance phase (its last phase with an interval), for steady-state metrics.
  var maintenance: (amount: Double, interval: Double, route: Route)?

  static let options: [OptionSpec] = [
    OptionSpec("--regimen", value: "text|name", "Regimen text, e.g. \"600mg then 300mg q2w\", or a label preset name (see 'posology regimens')."),
    OptionSpec("--loading", value: "mg", "Loading dose in mg, given at day 0."),
    OptionSpec("--dose", value: "mg", "Maintenance dose in mg."),
    OptionSpec("--interval", value: "interval", "Maintenance interval: qw, q2w, q4w, qNw, qNd, N, Nd, Nw."),
    OptionSpec("--doses", value: "n", "Number of maintenance doses (the loading dose is not counted). (default: all before the horizon)"),
    OptionSpec("--route", value: "sc|iv", "Route of the regimen's doses. (default: sc)"),
    OptionSpec("--events", value: "file", "Doses from a CSV file with header time_day,amount_mg[,route]."),
    OptionSpec("--indication", value: "code", "The label's regimen for this indication (with --age and --weight): ad, asthma, crswnp, eoe, pn, copd, csu, bp."),
    OptionSpec("--age", value: "years", "Age in years (fractions allowed), with --indication."),
    OptionSpec("--miss", value: "n,...", "Leave out these doses (1-based; the loading dose is dose 1)."),
    OptionSpec("--delay", value: "n:d", repeatable: true, "Give dose n d days late (e.g. 7:5d); nothing else changes. Repeatable."),
    OptionSpec("--late", value: "n:d", repeatable: true, "Dose n is remembered d days late: apply the label's missed-dose rule (qw, q2w, q4w). Repeatable."),
  ]

  /// The sources given, by name, for the exclusivity check.
  static func sources(_ o: ParsedOptions) -> [String] {
    var s: [String] = []
    if o.has("--loading") || o.has("--dose") || o.has("--interval") || o.has("--doses") { s.append("--loading/--dose/--interval/--doses") }
    if o.has("--regimen") { s.append("--regimen") }
    if o.has("--events") { s.append("--events") }
    if o.has("--indication") || o.has("--age") { s.append("--indication/--age") }
    if o.has("--data") { s.append("--data") }
    return s
  }

  static func route(_ o: ParsedOptions) throws(UserError) -> Route {
    guard let text = o.value("--route") else { return .sc }
    guard let r = Route(rawValue: text.lowercased()) else {
      throw UserError("unknown route '\(text)'", fix: "use --route sc or --route iv", kind: .usage)
    }
    return r
  }

  static func adjustments(_ o: ParsedOptions) throws(UserError) -> DoseAdjustments {
    var a = DoseAdjustments()
    if let miss = o.value("--miss") {
      for part in miss.split(separator: ",", omittingEmptySubsequences: false) {
        guard let n = Int(String(part).trimmingCharacters()), n >= 1 else {
          throw UserError("'--miss \(miss)' is not a list of dose numbers", fix: "write it like --miss 5,9 (doses count from 1)", kind: .usage)
        }
        a.missed.insert(n)
      }
    }
    func pairs(_ name: String) throws(UserError) -> [Int: Double] {
      var out: [Int: Double] = [:]
      for text in o.all(name) {
        let parts = text.split(separator: ":", maxSplits: 1).map { String($0).trimmingCharacters() }
        guard parts.count == 2, let n = Int(parts[0]), n >= 1, let days = IntervalText.duration(parts[1]) ?? (Double(parts[1]) == 0 ? 0 : nil) else {
          throw UserError("'\(name) \(text)' is not DOSE:DELAY", fix: "write it like \(name) 7:5d (dose 7, 5 days late; d or w)", kind: .usage)
        }
        guard out[n] == nil else { throw UserError("dose \(n) is given to \(name) twice", fix: "name each dose once", kind: .usage) }
        out[n] = days
      }
      return out
    }
    a.delayed = try pairs("--delay")
    a.late = try pairs("--late")
    return a
  }

  /// Builds the regimen from the one source given (or the default), then applies missed and
  /// late doses.
  static func make(_ o: ParsedOptions, scenario: Scenario, regimenText: String? = nil) throws(UserError) -> RegimenChoice {
    let route = try route(o)
    let sources = regimenText == nil ? sources(o) : ["--regimen"]
    if sources.count > 1 {
      throw UserError("\(sources.joined(separator: " and ")) both give a regimen", fix: "use only one regimen source", kind: .usage, suggestsHelp: true)
    }
    var label: String
    var schedule: [Regimen.ScheduledDose]
    var maintenance: (amount: Double, interval: Double, route: Route)? = nil
    func remember(_ r: Regimen) {
      if let phase = r.phases.last(where: { $0.interval != nil }) { maintenance = (phase.amount, phase.interval!, r.route) }
    }
    do {
      if let text = regimenText ?? o.value("--regimen") {
        label = text
        let body = scenario.library.labelRegimen(named: text.trimmingCharacters())?.regimen ?? text
        let regimen: Regimen
        do { regimen = try RegimenText.parse(body, route: route) } catch {
          if let unknown = Self.unknownPreset(text, library: scenario.library) { throw unknown }
          throw error
        }
        remember(regimen)
        try regimen.checkDoseCount(horizon: scenario.horizon)
        schedule = regimen.scheduled(horizon: scenario.horizon)
      } else if sources.first == "--loading/--dose/--interval/--doses" {
        let loading = try o.number("--loading", "a loading dose in mg", exclusiveLower: 0)
        let dose = try o.number("--dose", "a dose in mg", exclusiveLower: 0)
        var interval: Double? = nil
        if let text = o.value("--interval") {
          guard let days = IntervalText.days(text) else {
            throw UserError("the value '\(text)' is invalid for '--interval'", fix: "use qw, q2w, q4w, qNw, qNd, N, Nd or Nw with N > 0", kind: .usage, suggestsHelp: true)
          }
          interval = days
        }
        let count = try o.integer("--doses", "a number of doses", in: 1...10_000_000)
        if loading.map({ $0 > 1e6 }) == true || dose.map({ $0 > 1e6 }) == true {
          throw UserError("a dose above 1,000,000 mg is absurd", fix: "give the dose in mg", kind: .usage)
        }
        let regimen = try Regimen.flags(loading: loading, dose: dose, interval: interval, doses: count, route: route)
        label = Self.describeFlags(o)
        remember(regimen)
        try regimen.checkDoseCount(horizon: scenario.horizon)
        schedule = regimen.scheduled(horizon: scenario.horizon)
      } else if let path = o.value("--events") {
        let doses = try EventsFile.parse(try TextFile.read(path, what: "events file"), path: path)
        label = path
        schedule = doses.map { Regimen.ScheduledDose(dose: $0, interval: nil) }
      } else if sources.first == "--indication/--age" {
        let tier = try LabelSelection.select(o, library: scenario.library, weight: scenario.weight)
        label = tier.name
        let regimen = try RegimenText.parse(tier.regimen, route: route)
        remember(regimen)
        try regimen.checkDoseCount(horizon: scenario.horizon)
        schedule = regimen.scheduled(horizon: scenario.horizon)
      } else {
        let name = scenario.library.defaultRegimenName
        let text = scenario.library.labelRegimen(named: name)?.regimen ?? "600mg then 300mg q2w"
        label = text
        let regimen = try RegimenText.parse(text, route: route)
        remember(regimen)
        try regimen.checkDoseCount(horizon: scenario.horizon)
        schedule = regimen.scheduled(horizon: scenario.horizon)
      }
      let doses = try adjustments(o).apply(to: schedule, horizon: scenario.horizon)
      if doses.isEmpty {
        throw UserError("no dose falls before the horizon", fix: "lengthen --days/--weeks or check --miss", kind: .usage)
      }
      return RegimenChoice(label: label, schedule: schedule, doses: doses, maintenance: maintenance)
    } catch let error as UserError {
      throw error
    } catch let error as RegimenError {
      throw UserError(error.problem, fix: error.fix, kind: .usage)
    } catch {
      throw UserError("\(error)", fix: "check the regimen", kind: .usage)
    }
  }

  /// `--regimen` text that reads as a preset name (starts with a letter, no "mg") but names none:
  /// "unknown regimen", with a "did you mean".
  static func unknownPreset(_ text: String, library: ProfileLibrary) -> UserError? {
    let name = text.trimmingCharacters()
    guard let first = name.first, first.isLetter, !name.lowercased().contains("mg") else { return nil }
    let hint = Suggestion.closest(to: name, among: library.regimens.map(\.name)).map { "Did you mean '\($0)'? " } ?? ""
    return UserError(
      "unknown regimen '\(name)'",
      fix: "\(hint)See 'posology regimens' for the presets, or write regimen text like \"\(RegimenText.example)\"", kind: .usage)
  }

  static func describeFlags(_ o: ParsedOptions) -> String {
    var parts: [String] = []
    if let l = o.value("--loading") { parts.append("\(l)mg") }
    if let d = o.value("--dose") {
      var p = "\(d)mg \(o.value("--interval") ?? "")"
      if let n = o.value("--doses") { p += " x\(n)" }
      parts.append(p.trimmingCharacters())
    }
    return parts.joined(separator: " then ")
  }
}

/// `--indication X --age Y [--weight W]`: the label's tier for that patient.
enum LabelSelection {
  static func select(_ o: ParsedOptions, library: ProfileLibrary, weight: Double) throws(UserError) -> LabelRegimen {
    guard let indication = o.value("--indication")?.lowercased() else {
      throw UserError("--age needs --indication", fix: "add e.g. --indication ad", kind: .usage, suggestsHelp: true)
    }
    guard let age = try o.number("--age", "an age in years", in: 0...130) else {
      throw UserError("--indication needs --age", fix: "add the patient's age in years, e.g. --age 8 (and --weight)", kind: .usage, suggestsHelp: true)
    }
    let tiers = library.regimens.filter { $0.indication == indication }
    guard !tiers.isEmpty else {
      let known = Array(Set(library.regimens.map(\.indication))).sorted()
      let hint = Suggestion.closest(to: indication, among: known).map { "Did you mean '\($0)'? " } ?? ""
      throw UserError("unknown indication '\(indication)'", fix: "\(hint)Known: \(known.joined(separator: ", "))", kind: .usage)
    }
    let matches = tiers.filter { $0.covers(age: age, weight: weight) }
    let who = "age \(format(age)) years, \(format(weight)) kg"
    let name = Indication.names[indication] ?? indication
    if matches.isEmpty {
      let bands = tiers.map { "\($0.population)" }.joined(separator: "; ")
      throw UserError("the label has no \(name) regimen for \(who)", fix: "its tiers are: \(bands)", kind: .usage)
    }
    if matches.count > 1 {
      let list = matches.map { "\($0.name) (\($0.regimen))" }.joined(separator: " or ")
      throw UserError("the label offers two regimens for \(name), \(who): \(list)", fix: "choose one with --regimen NAME, e.g. --regimen \(matches[0].name)", kind: .usage)
    }
    return matches[0]
  }
}
