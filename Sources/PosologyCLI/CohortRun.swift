import Foundation
import PKCore
import PKNumerics
import PKReport

/// `--subjects N` and friends: a virtual-patient cohort for simulate and compare (issue 3).
struct CohortRun {
  static let options: [OptionSpec] = [
    OptionSpec("--subjects", value: "n", "Simulate a cohort of n virtual patients (at most 100,000,000) and write percentile summaries."),
    OptionSpec("--seed", value: "s", "Random seed of the cohort. (default: 1)"),
    OptionSpec("--threads", value: "t", "Worker threads. (default: all cores)"),
    OptionSpec("--weight-dist", value: "normal:MEAN,SD[,MIN,MAX]", "Draw cohort body weights (kg) from a truncated normal. (default: everyone --weight)"),
    OptionSpec("--covariates", value: "file", "Per-patient covariates, CSV subject,weight_kg; --subjects defaults to its row count."),
    OptionSpec("--observed", "Add the model's residual error; values below --lloq are reported as 0 (censored)."),
    OptionSpec("--adherence", value: "p", "Probability that each dose is taken, per patient and dose. (default: 1)"),
    OptionSpec("--delay-dist", value: "uniform:A,B|exponential:MEAN", "Each dose a cohort patient takes is taken this many days late (random per patient and dose). (default: on time)"),
    OptionSpec("--per-subject", value: "file", "Also write every patient's curve: subject,time_day,conc_mg_L[,blq]."),
    OptionSpec("--parameters", value: "file", "Also write every patient's weight, random effects and parameters."),
    OptionSpec("--shard", value: "k/n", "Run only the k-th of n contiguous slices of the cohort and write its raw values; combine with 'posology merge'."),
  ]

  static let maximumSubjects = 100_000_000
  /// Cohorts up to this many values are held in memory; larger ones are summarised in passes.
  static let inMemoryValues = CohortSimulation.inMemoryValues

  var subjects: Int
  var seed: UInt64
  var threads: Int
  var weights: BodyWeights
  var observed: Bool
  var adherence: Double
  var delay: DelayDistribution? = nil
  var shard: (k: Int, n: Int)?

  /// The cohort settings, or nil when the run is for the typical patient.
  static func parse(_ o: ParsedOptions, scenario: Scenario) throws(UserError) -> CohortRun? {
    let cohortOnly = ["--seed", "--threads", "--weight-dist", "--observed", "--adherence", "--delay-dist", "--per-subject", "--parameters", "--shard"]
    guard o.has("--subjects") || o.has("--covariates") else {
      if let stray = cohortOnly.first(where: o.has) {
        throw UserError("\(stray) applies to cohorts", fix: "add --subjects N (or --covariates FILE)", kind: .usage, suggestsHelp: true)
      }
      return nil
    }
    if o.has("--weight-dist") && o.has("--covariates") {
      throw UserError("--weight-dist and --covariates both give the cohort's weights", fix: "use only one of them", kind: .usage, suggestsHelp: true)
    }
    var weights = BodyWeights.fixed(scenario.weight)
    var subjects = try o.integer("--subjects", "a number of subjects", in: Int.min...Int.max)
    if let n = subjects, n < 1 {
      throw UserError("'--subjects \(n)' is out of range", fix: "give a number of subjects from 1 to 100,000,000", kind: .usage)
    }
    if let n = subjects, n > maximumSubjects {
      throw UserError("--subjects \(n) is over the cap of 100,000,000", fix: "split the work: run shards with --shard k/n and combine them with 'posology merge'", kind: .usage)
    }
    if let text = o.value("--weight-dist") {
      do { weights = try BodyWeights.parse(text) } catch { throw UserError(error.problem, fix: error.fix, kind: .usage) }
    }
    if let path = o.value("--covariates") {
      let list = try CovariatesFile.parse(try TextFile.read(path, what: "covariates file"), path: path)
      if let n = subjects, n != list.count {
        throw UserError("--subjects \(n) but the covariates file '\(path)' has \(list.count) patients", fix: "drop --subjects or make them agree", kind: .dataError)
      }
      subjects = list.count
      weights = .perPatient(list)
    }
    let seedText = o.value("--seed") ?? "1"
    guard let seed = UInt64(seedText) ?? Int64(seedText).map({ UInt64(bitPattern: $0) }) else {
      throw UserError("the value '\(seedText)' is invalid for '--seed'", fix: "give a whole number", kind: .usage, suggestsHelp: true)
    }
    let threads = try o.integer("--threads", "a number of threads", in: 1...1024) ?? ProcessInfo.processInfo.activeProcessorCount
    let adherence = try o.number("--adherence", "a probability", in: 0...1) ?? 1
    var shard: (Int, Int)? = nil
    if let text = o.value("--shard") {
      let parts = text.split(separator: "/").map { Int($0) }
      guard parts.count == 2, let k = parts[0], let n = parts[1], n >= 1, k >= 1, k <= n else {
        throw UserError("'--shard \(text)' is not k/n with 1 ≤ k ≤ n", fix: "write it like --shard 2/4", kind: .usage)
      }
      guard n <= subjects! else {
        throw UserError("--shard \(text) asks for more shards than the \(subjects!) subjects", fix: "use at most \(subjects!) shards", kind: .usage)
      }
      if o.has("--per-subject") || o.has("--parameters") || MetricsOutput.wanted(o) || o.has("--plot") || o.has("--report") || o.has("--chart") {
        throw UserError("--per-subject, --parameters, metrics and charts are not written by shards", fix: "run them on the merged result or without --shard", kind: .usage)
      }
      shard = (k, n)
    }
    var delay: DelayDistribution? = nil
    if let text = o.value("--delay-dist") {
      do { delay = try DelayDistribution.parse(text) } catch { throw UserError(error.problem, fix: error.fix, kind: .usage) }
    }
    return CohortRun(subjects: subjects!, seed: seed, threads: threads, weights: weights, observed: o.has("--observed"), adherence: adherence, delay: delay, shard: shard)
  }

  /// Simulates the cohort on every regimen and writes the summary (or the shard file).
  func run(_ o: ParsedOptions, console: Console, scenario: Scenario, choices: [RegimenChoice], compare: Bool) throws {
    var request = CohortRequest(
      model: scenario.model, weights: weights, subjects: subjects, seed: seed, threads: threads,
      regimens: choices.map(\.doses), grid: scenario.grid, solver: scenario.solver)
    request.observed = observed
    request.adherence = adherence
    request.delay = delay
    if let shard { request.patients = CohortRequest.shard(shard.k, of: shard.n, subjects: subjects) }
    let gridCount = scenario.grid.count
    let columns = choices.count * gridCount
    try Self.checkMemory(columns: columns, subjects: request.patients.count)

    let output = o.value("--output")
    if let output { try TextFile.checkWritable(output) }
    try MetricsOutput.checkOutputs(o)
    try ChartOutputs.checkOutputs(o)
    if observed { request.lloq = try MetricsOutput.settings(o).lloq }
    let perSubject = try o.value("--per-subject").map { (p) throws(UserError) in try StreamingFile(path: p) }
    let parameters = try o.value("--parameters").map { (p) throws(UserError) in try StreamingFile(path: p) }
    let simulation = CohortSimulation(request)
    let times = scenario.grid.times.map(NumberFormat.time)

    if let shard {
      let file = try output.map { (p) throws(UserError) in try StreamingFile(path: p) }
      var header = "posology-shard,\(compare ? "compare" : "simulate"),\(subjects),\(shard.k)/\(shard.n),\(columns)\n"
      header += "subject,regimen," + times.joined(separator: ",") + "\n"
      if let file { try file.write(header) } else { console.out(header) }
      try simulation.forEachBatch(pass: 1) { first, count, values in
        var text = ""
        for i in 0..<count {
          for (r, choice) in choices.enumerated() {
            text += "\(request.patients.lowerBound + first + i + 1),\(CSVBuilder.field(choice.label))"
            for k in 0..<gridCount { text += "," + NumberFormat.value(values[(i * columns) + r * gridCount + k]) }
            text += "\n"
          }
        }
        if let file { try file.write(text) } else { console.out(text) }
      }
      try file?.commit()
      return
    }

    // Progress on stderr for long runs, only when stderr is a terminal (never mixed into stdout).
    let progress = ProgressReporter(total: request.patients.count, isTerminal: console.stderrIsTerminal) { StandardConsole.write($0, to: 2) }
    defer { progress.finish() }
    simulation.onFirstPassProgress = { progress.advance(by: $0) }
    // Only these need the rows themselves (without them, the simulation writes straight into the
    // summary's column-major storage).
    if perSubject != nil || parameters != nil { simulation.onFirstPass = { first, count, values, patients in
      if let perSubject {
        if first == request.patients.lowerBound {
          try perSubject.write((compare ? "regimen," : "") + "subject,time_day,conc_mg_L" + (self.observed ? ",blq" : "") + "\n")
        }
        var text = ""
        for (r, choice) in choices.enumerated() {
          let label = compare ? CSVBuilder.field(choice.label) + "," : ""
          for i in 0..<count {
            let subject = "\(first + i + 1),"
            for k in 0..<gridCount {
              let v = values[i * columns + r * gridCount + k]
              text += label + subject + times[k] + "," + NumberFormat.value(v)
              if self.observed { text += v == 0 ? ",1" : ",0" }
              text += "\n"
            }
          }
          if text.utf8.count > 1 << 22 { try perSubject.write(text); text = "" }
        }
        try perSubject.write(text)
      }
      if let parameters {
        if first == request.patients.lowerBound { try parameters.write(ParametersTable.header(scenario.model)) }
        try parameters.write(patients.map { ParametersTable.row($0, model: scenario.model) }.joined())
      }
    } }

    let summaries = try simulation.summarize()
    try perSubject?.commit()
    try parameters?.commit()
    let csv = SummaryTable.csv(summaries, labels: compare ? choices.map(\.label) : nil, times: times)
    let metrics = try MetricsOutput.cohort(o, scenario: scenario, choices: choices, request: request)
    let series = choices.enumerated().map { r, choice -> ChartSeries in
      let column = { (k: Int) -> Int in r * gridCount + k }
      return ChartSeries(
        label: choice.label, doses: choice.doses, times: scenario.grid.times,
        center: (0..<gridCount).map { summaries[column($0)].percentiles[2] },
        bands: ChartSeries.Bands(
          p05: (0..<gridCount).map { summaries[column($0)].percentiles[0] }, p25: (0..<gridCount).map { summaries[column($0)].percentiles[1] },
          p75: (0..<gridCount).map { summaries[column($0)].percentiles[3] }, p95: (0..<gridCount).map { summaries[column($0)].percentiles[4] }))
    }
    try ChartOutputs.write(o, console: console, series: series, metricsCSV: metrics, commandLine: CommandLine.arguments)
    try SimulateCommand.emit(csv, to: output, console: console)
  }

  /// Refuses, before simulating, a typical-patient run whose curves would not fit in memory: about
  /// 64 bytes a row (the value, its CSV text and the text's growth; 62 measured at 10^7 rows).
  static func checkTypicalMemory(rows: Int) throws(UserError) {
    let bytes = Double(rows) * 64
    let available = Double(ProcessInfo.processInfo.physicalMemory) * 0.6
    if bytes > available {
      throw UserError(
        "the output would need about \(Int(bytes / 1e9)) GB of memory (\(rows) rows), more than this machine has",
        fix: "use a larger --step, a shorter horizon or fewer regimens", kind: .usage)
    }
  }

  /// Refuses, before allocating, a run whose summary state would not fit in memory.
  static func checkMemory(columns: Int, subjects: Int) throws(UserError) {
    let perColumn = 4096 * 4 + 512
    let bytes = Double(columns) * Double(perColumn) + Swift.min(Double(subjects) * Double(columns), Double(Self.inMemoryValues)) * 8
    let available = Double(ProcessInfo.processInfo.physicalMemory) * 0.6
    if bytes > available {
      throw UserError(
        "the cohort summary would need about \(Int(bytes / 1e9)) GB of memory, more than this machine has",
        fix: "use a larger --step, a shorter horizon or fewer regimens", kind: .usage)
    }
  }
}

/// The cohort summary CSV: `[regimen,]time_day,mean,sd,p05,p25,p50,p75,p95`.
enum SummaryTable {
  static let header = ["time_day", "mean", "sd", "p05", "p25", "p50", "p75", "p95"]

  static func csv(_ summaries: [ColumnSummary], labels: [String]?, times: [String]) -> String {
    var csv = CSVBuilder(header: (labels == nil ? [] : ["regimen"]) + header)
    let g = times.count
    for r in 0..<(labels?.count ?? 1) {
      let prefix = labels.map { CSVBuilder.field($0[r]) + "," } ?? ""
      for k in 0..<g {
        let s = summaries[r * g + k]
        csv.appendLine(prefix + times[k] + "," + ([s.mean, s.sd] + s.percentiles).map(NumberFormat.value).joined(separator: ","))
      }
    }
    return csv.text
  }
}

/// `--parameters FILE`: each patient's covariates, random effects and parameters, so any curve
/// can be traced and re-run with `--param`.
enum ParametersTable {
  static let names: [ParameterName] = [.ka, .F, .Vc, .ke, .k12, .k21, .Vm, .Km, .mtt, .ntr, .tlag]

  static func header(_ model: PopulationModel) -> String {
    let etas = model.randomEffects?.parameters.map { "eta_\($0.rawValue)" } ?? []
    return (["subject", "weight_kg"] + etas + names.map(\.rawValue)).joined(separator: ",") + "\n"
  }

  static func row(_ p: VirtualPatient, model: PopulationModel) -> String {
    var fields = ["\(p.index + 1)", NumberFormat.value(p.weight)]
    fields += p.eta.map(NumberFormat.value)
    fields += names.map { $0 == .ntr ? "\(p.parameters.ntr)" : NumberFormat.value(p.parameters[$0]) }
    return fields.joined(separator: ",") + "\n"
  }
}

/// `--covariates FILE`: CSV `subject,weight_kg`, subjects numbered 1…n in order.
enum CovariatesFile {
  static func parse(_ text: String, path: String) throws(UserError) -> [Double] {
    let lines = TextFile.lines(text).filter { !$0.allSatisfy(\.isWhitespace) }
    guard let first = lines.first, csvFields(first).map({ $0.trimmingCharacters().lowercased() }) == ["subject", "weight_kg"] else {
      throw UserError("the covariates file '\(path)' must start with the header subject,weight_kg", fix: "add that header line", kind: .dataError)
    }
    var weights: [Double] = []
    for (i, line) in lines.dropFirst().enumerated() {
      let f = csvFields(line).map { $0.trimmingCharacters() }
      guard f.count == 2, let subject = Int(f[0]), let w = csvNumber(f[1]) else {
        throw UserError("row \(i + 1) of '\(path)' is not subject,weight_kg", fix: "write e.g. 1,72.5", kind: .dataError)
      }
      guard subject == i + 1 else {
        throw UserError("row \(i + 1) of '\(path)' is subject \(subject)", fix: "number the subjects 1, 2, 3, … in order", kind: .dataError)
      }
      guard w > 0 && w <= 700 else {
        throw UserError("subject \(subject) in '\(path)' weighs \(f[1]) kg", fix: "give weights in (0, 700] kg", kind: .dataError)
      }
      weights.append(w)
    }
    guard !weights.isEmpty else { throw UserError("the covariates file '\(path)' has no patients", fix: "add rows subject,weight_kg", kind: .dataError) }
    guard weights.count <= CohortRun.maximumSubjects else { throw UserError("the covariates file has more than 100,000,000 patients", fix: "split it into shards", kind: .dataError) }
    return weights
  }
}
