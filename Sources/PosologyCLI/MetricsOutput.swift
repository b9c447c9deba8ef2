import PKCore
import PKNumerics
import PKReport

/// `--metrics FILE` and `--interval-metrics FILE` (issue 4): exposure metrics per regimen, for the
/// typical patient or as statistics over a cohort.
enum MetricsOutput {
  static let options: [OptionSpec] = [
    OptionSpec("--metrics", value: "file", "Write exposure metrics (Cmax, Tmax, steady state, accumulation, time above threshold, washout) as CSV."),
    OptionSpec("--interval-metrics", value: "file", "Write Cmax, Cmin, AUC and Cavg of every dosing interval as CSV."),
    OptionSpec("--threshold", value: "mg/L", "Concentration target: the metrics report the % of time above it."),
    OptionSpec("--lloq", value: "mg/L", "Lower limit of quantification: washout ends below it; --observed censors below it. (default: 0.078)"),
  ]

  static let statistics = ["mean", "sd", "p05", "p25", "p50", "p75", "p95"]

  static func wanted(_ o: ParsedOptions) -> Bool { o.has("--metrics") || o.has("--interval-metrics") }

  static func settings(_ o: ParsedOptions) throws(UserError) -> (threshold: Double?, lloq: Double) {
    let threshold = try o.number("--threshold", "a concentration in mg/L", in: 0...1e9)
    let lloq = try o.number("--lloq", "an LLOQ in mg/L", in: 0...1e6) ?? 0.078
    return (threshold, lloq)
  }

  /// Validates the metric settings (even when no metric file is asked for: a bad value is a bad
  /// command line) and that the metric files can be created.
  static func checkOutputs(_ o: ParsedOptions) throws(UserError) {
    _ = try settings(o)
    for name in ["--metrics", "--interval-metrics"] { if let p = o.value(name) { try TextFile.checkWritable(p) } }
  }

  static func calculator(_ o: ParsedOptions, scenario: Scenario) throws(UserError) -> MetricsCalculator {
    let (threshold, lloq) = try settings(o)
    return MetricsCalculator(simulator: SubjectSimulator(options: scenario.solver), threshold: threshold, lloq: lloq)
  }

  /// Typical patient: one `typical` row per regimen.
  static func typical(_ o: ParsedOptions, scenario: Scenario, choices: [RegimenChoice]) throws -> String? {
    guard wanted(o) else { return nil }
    let calc = try calculator(o, scenario: scenario)
    var all: [(RegimenChoice, ExposureMetrics)] = []
    for choice in choices {
      all.append((choice, try calc.metrics(scenario.typicalParameters, doses: choice.doses, horizon: scenario.horizon, scale: scenario.model.outputScale, maintenance: choice.maintenance)))
    }
    var table = CSVBuilder(header: ["regimen", "statistic"] + ExposureMetrics.columns)
    var intervals = CSVBuilder(header: ["regimen", "statistic", "interval", "start_day", "cmax_mg_L", "cmin_mg_L", "auc_mg_day_L", "cavg_mg_L"])
    for (choice, m) in all {
      table.appendRow([CSVBuilder.field(choice.label), "typical"] + m.values.map { $0.map(NumberFormat.value) ?? "" })
      for (i, iv) in m.intervals.enumerated() {
        intervals.appendRow([CSVBuilder.field(choice.label), "typical", "\(i + 1)", NumberFormat.time(iv.start)] + [iv.cmax, iv.cmin, iv.auc, iv.cavg].map(NumberFormat.value))
      }
    }
    try write(o, metrics: table.text, intervals: intervals.text)
    return table.text
  }

  /// A cohort: per-patient metrics (in parallel, common patients across regimens), then
  /// mean, sd and percentiles over patients.
  static func cohort(_ o: ParsedOptions, scenario: Scenario, choices: [RegimenChoice], request: CohortRequest) throws -> String? {
    guard wanted(o) else { return nil }
    let calc = try calculator(o, scenario: scenario)
    let n = request.patients.count
    let metricCount = ExposureMetrics.columns.count
    let intervalCounts = choices.map { choice in Set(choice.doses.map(\.time)).count }
    if o.has("--interval-metrics") && request.variesDosing {
      throw UserError("--interval-metrics over a cohort needs every patient on the same schedule", fix: "drop --adherence/--delay-dist, or use --metrics", kind: .usage)
    }
    let columns = choices.count * metricCount + (o.has("--interval-metrics") ? intervalCounts.reduce(0, +) * 4 : 0)
    guard Double(n) * Double(columns) <= Double(CohortRun.inMemoryValues) else {
      throw UserError("metrics for \(n) patients would not fit in memory", fix: "use --metrics with at most \(CohortRun.inMemoryValues / columns) subjects", kind: .usage)
    }
    let matrix = CohortMatrix(rows: n, columns: columns, threads: request.threads)
    let sampler = PatientSampler(model: request.model, weights: request.weights, seed: request.seed)
    let simulators = (0..<request.threads).map { _ in MetricsCalculator(simulator: SubjectSimulator(options: scenario.solver), threshold: calc.threshold, lloq: calc.lloq) }
    let box = CalculatorBox(simulators)
    let failure = FirstError()
    matrix.values.withUnsafeMutableBufferPointer { buffer in
      nonisolated(unsafe) let base = buffer.baseAddress!
      let t = request.threads
      let work: @Sendable (Int) -> Void = { w in
        var i = w
        while i < n {
          let patient = sampler.patient(request.patients.lowerBound + i)
          let streams = PatientStreams(seed: request.seed, patient: patient.index)
          var column = 0
          var intervalColumn = choices.count * metricCount
          for (r, choice) in choices.enumerated() {
            let doses = request.variesDosing ? CohortSimulation.taken(choice.doses, probability: request.adherence, delay: request.delay, streams: streams) : choice.doses
            do {
              let m = try box.calculators[w].metrics(patient.parameters, doses: doses, horizon: scenario.horizon, scale: request.model.outputScale, maintenance: choice.maintenance)
              for v in m.values { base[i * columns + column] = v ?? .nan; column += 1 }
              if columns > choices.count * metricCount {
                for k in 0..<intervalCounts[r] {
                  let iv = k < m.intervals.count ? m.intervals[k] : nil
                  for v in [iv?.cmax, iv?.cmin, iv?.auc, iv?.cavg] { base[i * columns + intervalColumn] = v ?? .nan; intervalColumn += 1 }
                }
              }
            } catch {
              failure.record(error, index: i)
              return
            }
          }
          i += t
        }
      }
      if t == 1 { work(0) } else { DispatchQueueShim.concurrentPerform(iterations: t, execute: work) }
    }
    if let error = failure.error { throw error }
    let summaries = try StreamingSummary.summarize(NaNAwareColumns(matrix))
    var table = CSVBuilder(header: ["regimen", "statistic"] + ExposureMetrics.columns)
    for (r, choice) in choices.enumerated() {
      for (s, statistic) in statistics.enumerated() {
        let cells = (0..<metricCount).map { c -> String in
          let summary = summaries[r * metricCount + c]
          guard let summary else { return "" }
          return NumberFormat.value(s == 0 ? summary.mean : s == 1 ? summary.sd : summary.percentiles[s - 2])
        }
        table.appendRow([CSVBuilder.field(choice.label), statistic] + cells)
      }
    }
    var intervals = CSVBuilder(header: ["regimen", "statistic", "interval", "start_day", "cmax_mg_L", "cmin_mg_L", "auc_mg_day_L", "cavg_mg_L"])
    if columns > choices.count * metricCount {
      var column = choices.count * metricCount
      for (r, choice) in choices.enumerated() {
        let starts = Array(Set(choice.doses.map(\.time))).sorted()
        for k in 0..<intervalCounts[r] {
          for (s, statistic) in statistics.enumerated() {
            let cells = (0..<4).map { c -> String in
              guard let summary = summaries[column + c] else { return "" }
              return NumberFormat.value(s == 0 ? summary.mean : s == 1 ? summary.sd : summary.percentiles[s - 2])
            }
            intervals.appendRow([CSVBuilder.field(choice.label), statistic, "\(k + 1)", NumberFormat.time(starts[k])] + cells)
          }
          column += 4
        }
      }
    }
    try write(o, metrics: table.text, intervals: intervals.text)
    return table.text
  }

  static func write(_ o: ParsedOptions, metrics: String, intervals: String) throws(UserError) {
    if let path = o.value("--metrics") { try TextFile.writeAtomically(metrics, to: path) }
    if let path = o.value("--interval-metrics") { try TextFile.writeAtomically(intervals, to: path) }
  }
}

/// Summaries of matrix columns; a column holding any NaN (a metric that does not apply to some
/// patient) has no summary.
struct NaNAwareColumns {
  let matrix: CohortMatrix
  init(_ m: CohortMatrix) { matrix = m }
}

extension StreamingSummary {
  static func summarize(_ source: NaNAwareColumns) throws -> [ColumnSummary?] {
    let m = source.matrix
    var hasNaN = [Bool](repeating: false, count: m.columns)
    for r in 0..<m.rows { for c in 0..<m.columns where m.values[r * m.columns + c].isNaN { hasNaN[c] = true } }
    for r in 0..<m.rows { for c in 0..<m.columns where hasNaN[c] { m.values[r * m.columns + c] = 0 } }
    let all = try summarize(m)
    return all.enumerated().map { hasNaN[$0.offset] ? nil : $0.element }
  }
}

final class CalculatorBox: @unchecked Sendable {  // worker w uses only calculators[w]
  let calculators: [MetricsCalculator]
  init(_ c: [MetricsCalculator]) { calculators = c }
}

final class FirstError: @unchecked Sendable {  // guarded by its lock
  private var stored: (Error, Int)?
  private let lock = NSLockShim()
  func record(_ e: Error, index: Int) {
    lock.locked { if stored == nil || index < stored!.1 { stored = (e, index) } }
  }
  var error: Error? { stored?.0 }
}
