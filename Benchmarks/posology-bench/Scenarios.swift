// The scenarios: typical patients, cohorts with the percentile summary, thread scaling and the
// whole-process comparison with the C probe. (The work-precision table is in WorkPrecision.swift.)
import Foundation
import PKCore
import PKNumerics
import PKReport

/// The workload every scenario shares, `posology simulate`'s defaults: the label's adult regimen
/// (600 mg, then 300 mg q2w) for 52 weeks on a daily grid, body weight 75 kg, default solver.
struct Workload {
  static let horizon = 364.0
  static let weight = 75.0
  static let models = ["kovalenko2020", "kovalenko2016", "zhang2021"]
  /// Patient-years per patient: 52 weeks in years of 365.25 days.
  static let years = horizon / 365.25
  /// Cohorts up to this many values are summarised in memory, larger ones in passes that
  /// simulate again (the value `CohortRun.inMemoryValues` of the CLI).
  static let inMemoryValues = CohortSimulation.inMemoryValues

  let library = ProfileLibrary.builtIn()
  let grid: OutputGrid
  let doses: [Dose]

  init() throws {
    grid = try OutputGrid(step: 1, horizon: Self.horizon)
    doses = try RegimenText.parse(RegimenText.example).doses(horizon: Self.horizon)
  }

  var defaultModel: String { library.defaultModelName }

  func model(_ name: String) throws -> PopulationModel { try library.model(named: name) }

  func request(_ model: PopulationModel, subjects: Int, threads: Int, solver: ODEOptions = SubjectSimulator.defaultOptions) -> CohortRequest {
    CohortRequest(model: model, weights: .fixed(Self.weight), subjects: subjects, seed: 1, threads: threads, regimens: [doses], grid: grid, solver: solver)
  }
}

/// Counts the passes a summary makes over a cohort source (each pass over a `CohortSimulation`
/// simulates every patient again; the pilot sample simulates a few) and times the summary's own
/// work on each batch.
final class PassCounter<Source: CohortValueSource>: CohortValueSource {
  let source: Source
  private(set) var passes = 0
  private(set) var summarySeconds = 0.0
  init(_ source: Source) { self.source = source }
  var rows: Int { source.rows }
  var columns: Int { source.columns }
  func forEachBatch(pass: Int, _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    passes += 1
    try source.forEachBatch(pass: pass) { first, count, values in
      let start = seconds()
      try body(first, count, values)
      summarySeconds += seconds() - start
    }
  }
  func parallelColumns(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) { source.parallelColumns(count, work) }
  func forEachSampledRow(_ rows: [Int], _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    try source.forEachSampledRow(rows) { first, count, values in
      let start = seconds()
      try body(first, count, values)
      summarySeconds += seconds() - start
    }
  }
  /// The source's own column-major batches (`CohortSimulation` writes them as it simulates, as
  /// the CLI's run does), with the summary's time counted.
  func forEachColumnBatch(pass: Int, _ body: (ColumnBatch) throws -> Void) throws {
    passes += 1
    try source.forEachColumnBatch(pass: pass) { batch in
      let start = seconds()
      try body(batch)
      summarySeconds += seconds() - start
    }
  }
}

/// A cohort run as `posology simulate --subjects N` does it (CohortRun.swift): in memory
/// (`CohortSimulation.summarize`) up to `Workload.inMemoryValues` values, else in passes over the
/// simulation (`StreamingSummary`); or, for the determinism checks, through a `CohortMatrix`.
struct CohortOutcome {
  var summaries: [ColumnSummary]
  var streamed: Bool
  /// Times each patient was simulated on average (1 in memory; about 1.07 with the pilot sample).
  var simulations: Double
  /// Time spent summarising (the rest of the run is simulation).
  var summarySeconds: Double
}

func summarizeCohort(_ request: CohortRequest, streamed: Bool? = nil, batchSize: Int? = nil) throws -> CohortOutcome {
  let simulation = CohortSimulation(request, batchSize: batchSize)
  let columns = simulation.columns
  let stream = streamed ?? (request.patients.count * columns > Workload.inMemoryValues)
  if stream {
    let counter = PassCounter(simulation)
    let summaries = try StreamingSummary.summarize(counter)
    return CohortOutcome(
      summaries: summaries, streamed: true, simulations: Double(simulation.simulatedRows) / Double(Swift.max(1, simulation.rows)),
      summarySeconds: counter.summarySeconds)
  }
  if streamed == nil && !stream {
    let (summaries, summarySeconds) = try simulation.summarize(clock: seconds)
    return CohortOutcome(summaries: summaries, streamed: false, simulations: 1, summarySeconds: summarySeconds)
  }
  let matrix = CohortMatrix(rows: request.patients.count, columns: columns, threads: request.threads)
  try simulation.forEachBatch(pass: 1) { first, count, values in
    matrix.values.withUnsafeMutableBufferPointer { dst in
      (dst.baseAddress! + first * columns).update(from: values.baseAddress!, count: count * columns)
    }
  }
  let start = seconds()
  let summaries = matrix.summarizeBySelection()  // as `CohortSimulation.summarize()` does in memory
  return CohortOutcome(summaries: summaries, streamed: false, simulations: 1, summarySeconds: seconds() - start)
}

struct Scenario {
  var name: String
  /// Long scenarios (1,000,000 patients) run only with `--long`.
  var long = false
  var run: () throws -> Void
}

/// Runs the scenarios and files their figures in the report.
final class Bench {
  let options: BenchOptions
  let report: Report
  let workload: Workload
  let cores: Int

  init(options: BenchOptions, report: Report, workload: Workload) {
    self.options = options
    self.report = report
    self.workload = workload
    cores = options.threads ?? ProcessInfo.processInfo.activeProcessorCount
  }

  var repetitions: Int { options.smoke ? 1 : options.repetitions }
  var warmup: Int { options.smoke ? 0 : 1 }
  var cohortSizes: [Int] { options.smoke ? [200, 1000] : [1000, 10_000, 100_000] }
  var threadCounts: [Int] { Array(1...cores) + [2 * cores] }

  func scenarios() -> [Scenario] {
    var list: [Scenario] = []
    for name in Workload.models {
      list.append(Scenario(name: "typical/\(name)") { try self.typical(name) })
    }
    for name in [workload.defaultModel, "kovalenko2016"] {
      for n in cohortSizes { list.append(Scenario(name: "cohort/\(name)/\(n)") { try self.cohort(name, subjects: n) }) }
      if !options.smoke {
        list.append(Scenario(name: "cohort/\(name)/1000000", long: true) { try self.cohort(name, subjects: 1_000_000) })
      }
    }
    // The per-patient-year target covers every shipped model: the remaining ones at one size.
    for name in Workload.models where name != workload.defaultModel && name != "kovalenko2016" {
      let n = cohortSizes[1]
      list.append(Scenario(name: "cohort/\(name)/\(n)") { try self.cohort(name, subjects: n) })
    }
    list.append(Scenario(name: "determinism/\(workload.defaultModel)") { try self.determinism(self.workload.defaultModel) })
    let scalingSubjects = options.smoke ? 200 : 10_000
    list.append(Scenario(name: "threads/\(workload.defaultModel)/\(scalingSubjects)") { try self.threads(self.workload.defaultModel, subjects: scalingSubjects) })
    list.append(Scenario(name: "process/kovalenko2016/\(options.smoke ? 200 : 20_000)") { try self.process(subjects: self.options.smoke ? 200 : 20_000) })
    for name in Workload.models {
      list.append(Scenario(name: "accuracy/\(name)") { try WorkPrecision(bench: self).run(name) })
    }
    return list
  }

  // MARK: - Typical patient

  /// One typical patient (75 kg, no random effects): time per patient, solver work per patient.
  func typical(_ name: String) throws {
    let model = try workload.model(name)
    let p = model.individual(weight: Workload.weight, eta: nil)
    let simulator = SubjectSimulator()
    // `concentrations` is the library's entry point for one curve (the path cohorts take too).
    let once = { blackHole(try simulator.concentrations(p, doses: self.workload.doses, grid: self.workload.grid, scale: model.outputScale)) }
    try once()
    let work = simulator.statistics
    // Each sample repeats the patient often enough to last ≥ 20 ms.
    let single = try measure(warmup: 0, repetitions: 1, once)[0]
    let inner = options.smoke ? 1 : max(1, Int(0.02 / max(single, 1e-9)))
    let samples = try measure(warmup: warmup, repetitions: repetitions) { for _ in 0..<inner { try once() } }
    let parameters = [("model", name), ("weight_kg", "75"), ("rtol", "\(simulator.options.relativeTolerance)"), ("atol", "\(simulator.options.absoluteTolerance)"), ("method", simulator.options.method.rawValue)]
    let perPatient = Stats(samples).scaled(1e6 / Double(inner))
    report.add("typical", "typical/\(name)", "per_patient", "µs", perPatient, parameters)
    report.add("typical", "typical/\(name)", "per_patient_year", "µs", perPatient.scaled(1 / Workload.years), parameters)
    report.add("typical", "typical/\(name)", "steps", "", Stats(single: Double(work.acceptedSteps)), parameters)
    report.add("typical", "typical/\(name)", "rejected", "", Stats(single: Double(work.rejectedSteps)), parameters)
    report.add("typical", "typical/\(name)", "f_evals", "", Stats(single: Double(work.functionEvaluations)), parameters)
    report.add("typical", "typical/\(name)", "jacobians", "", Stats(single: Double(work.jacobianEvaluations)), parameters)
  }

  // MARK: - Cohorts

  /// `subjects` patients (75 kg, with random effects) on all cores, percentile summary included.
  func cohort(_ name: String, subjects: Int) throws {
    let model = try workload.model(name)
    let request = workload.request(model, subjects: subjects, threads: cores)
    let runs = subjects >= 1_000_000 && !options.repetitionsGiven ? 1 : repetitions
    let warm = subjects > 10_000 ? 0 : warmup
    var outcome: CohortOutcome?
    var peaks: [Double] = [], summaryTimes: [Double] = [], cpu: [Double] = []
    for _ in 0..<warm { blackHole(try summarizeCohort(request)) }
    var samples: [Double] = []
    for _ in 0..<runs {
      PeakMemory.reset()
      let start = seconds(), cpuStart = cpuSeconds()
      outcome = try summarizeCohort(request)
      samples.append(seconds() - start)
      cpu.append(cpuSeconds() - cpuStart)
      blackHole(outcome)
      summaryTimes.append(outcome!.summarySeconds)
      peaks.append(Double(PeakMemory.bytes()) / 1048576)
    }
    guard let outcome else { return }
    let wall = Stats(samples)
    let parameters = [("model", name), ("subjects", "\(subjects)"), ("threads", "\(cores)"), ("summary", outcome.streamed ? "multi-pass" : "in-memory"), ("simulations_per_patient", "\(outcome.simulations)")]
    let scenario = "cohort/\(name)/\(subjects)"
    report.add("cohort", scenario, "wall", "s", wall, parameters)
    report.add("cohort", scenario, "per_patient_year_core", "µs", wall.scaled(1e6 * Double(cores) / (Double(subjects) * Workload.years)), parameters)
    // CPU time counts only the cores this run got, so it is the fairer figure on a shared machine.
    report.add("cohort", scenario, "cpu_per_patient_year", "µs", Stats(cpu).scaled(1e6 / (Double(subjects) * Workload.years)), parameters)
    report.add("cohort", scenario, "summary_part", "s", Stats(summaryTimes), parameters)
    report.add("cohort", scenario, "peak_rss", "MiB", Stats(peaks), parameters)
    report.add("cohort", scenario, "simulations_per_patient", "", Stats(single: outcome.simulations), parameters)
    checkSummaries(outcome.summaries, scenario)
  }

  /// Every summary finite, percentiles in order, drug present after day 0.
  func checkSummaries(_ summaries: [ColumnSummary], _ scenario: String) {
    var problem: String?
    for (k, s) in summaries.enumerated() {
      let values = [s.mean, s.sd] + s.percentiles
      if !values.allSatisfy(\.isFinite) { problem = "non-finite summary at day \(k)"; break }
      if zip(s.percentiles, s.percentiles.dropFirst()).contains(where: { $0 > $1 }) { problem = "percentiles out of order at day \(k)"; break }
      if k > 0 && !(s.percentiles[2] > 0) { problem = "no drug at day \(k)"; break }
    }
    report.check("\(scenario): summary finite and ordered", problem == nil, problem ?? "ok")
  }

  /// The summary does not depend on threads, batch size or the in-memory / multi-pass choice.
  func determinism(_ name: String) throws {
    let model = try workload.model(name)
    let n = options.smoke ? 100 : 1000
    let reference = try summarizeCohort(workload.request(model, subjects: n, threads: 1), streamed: false)
    let variants: [(String, CohortOutcome)] = [
      ("\(cores) threads, in memory", try summarizeCohort(workload.request(model, subjects: n, threads: cores), streamed: false)),
      ("\(cores) threads, as the CLI", try summarizeCohort(workload.request(model, subjects: n, threads: cores))),
      ("\(cores) threads, multi-pass, batches of 37", try summarizeCohort(workload.request(model, subjects: n, threads: cores), streamed: true, batchSize: 37)),
      ("1 thread, multi-pass", try summarizeCohort(workload.request(model, subjects: n, threads: 1), streamed: true)),
    ]
    for (what, outcome) in variants {
      let same = outcome.summaries == reference.summaries
      report.check("determinism/\(name)/\(n): \(what) equals 1 thread in memory", same, same ? "identical" : "summaries differ")
    }
  }

  // MARK: - Thread scaling

  /// Speed-up from 1 to k threads: runs with 1 and k threads alternated (the order flipped every
  /// pair), the median of the pairs' ratios. Each pair is followed by a control pair: a fixed
  /// amount of pure arithmetic split over 1 and k threads (`spin`), whose speed-up is what the
  /// machine offers at that moment (other work on a shared machine takes cores away).
  func threads(_ name: String, subjects: Int) throws {
    let model = try workload.model(name)
    let run = { (t: Int) throws -> Double in
      let request = self.workload.request(model, subjects: subjects, threads: t)
      let start = seconds()
      blackHole(try summarizeCohort(request))
      return seconds() - start
    }
    // Control work: about as long on one thread as the cohort run (at least 50 ms).
    let unit = 1 << 20
    let oneUnit = { let s = seconds(); blackHole(spin(unit)); return seconds() - s }()
    let total = max(1, Int(max(0.05, try run(1)) / max(oneUnit, 1e-6))) * unit
    let control = { (t: Int) -> Double in
      let start = seconds()
      DispatchQueue.concurrentPerform(iterations: t) { _ in blackHole(spin(total / t)) }
      return seconds() - start
    }
    if warmup > 0 { _ = try run(cores) }
    let pairs = max(repetitions, options.smoke ? 1 : 5)
    var single: [Double] = []
    var rows: [(Int, [Double], [Double], [Double])] = []
    for k in threadCounts where k > 1 {
      var ratios: [Double] = [], times: [Double] = [], machine: [Double] = []
      for i in 0..<pairs {
        var a = 0.0, b = 0.0, c1 = 0.0, ck = 0.0
        if i % 2 == 0 { a = try run(1); b = try run(k); c1 = control(1); ck = control(k) } else { ck = control(k); c1 = control(1); b = try run(k); a = try run(1) }
        single.append(a); times.append(b); ratios.append(a / b); machine.append(c1 / ck)
      }
      rows.append((k, times, ratios, machine))
    }
    let cpus = ProcessInfo.processInfo.activeProcessorCount
    report.add("threads", "threads/\(name)/\(subjects)/t=1", "wall", "s", Stats(single), [("model", name), ("subjects", "\(subjects)"), ("threads", "1")])
    for (k, times, ratios, machine) in rows {
      let scenario = "threads/\(name)/\(subjects)/t=\(k)"
      let parameters = [("model", name), ("subjects", "\(subjects)"), ("threads", "\(k)"), ("cores", "\(cpus)")]
      report.add("threads", scenario, "wall", "s", Stats(times), parameters)
      report.add("threads", scenario, "speedup_vs_1", "×", Stats(ratios), parameters)
      report.add("threads", scenario, "control_speedup", "×", Stats(machine), parameters)
    }
  }

  // MARK: - Whole process against the C probe

  /// `posology simulate --model kovalenko2016 --subjects N --threads t -o FILE` as a child
  /// process, alternated with `dopri_probe N 1e-6 1e-9` (when `--probe` is given): one probe run
  /// per round, between Posology's 1-thread and all-core runs, the order rotated every round;
  /// ratio = Posology's wall time / the same round's probe wall time.
  func process(subjects: Int) throws {
    guard let posology = options.posologyPath ?? Self.siblingPosology() else {
      report.note("process/kovalenko2016: no posology executable beside posology-bench (build it with `swift build -c release --scratch-path .build-bench`, or pass --posology PATH); skipped")
      if options.probe != nil { report.check("process: posology executable found", false, "not found; give --posology PATH") }
      return
    }
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("posology-bench-\(getpid()).csv").path
    defer { unlink(output) }
    let threadList = Array(Set([1, cores])).sorted()
    let posologyRun = { (t: Int) throws -> ChildRun in
      let run = try runChild([posology, "simulate", "--model", "kovalenko2016", "--subjects", "\(subjects)", "--threads", "\(t)", "-o", output])
      if run.exitStatus != 0 { throw ChildError(description: "posology exited with \(run.exitStatus): \(run.stderr.prefix(300))") }
      return run
    }
    let probeRun = { () throws -> ChildRun in
      let run = try runChild([self.options.probe!, "\(subjects)", "1e-6", "1e-9"])
      if run.exitStatus != 0 { throw ChildError(description: "the probe exited with \(run.exitStatus)") }
      return run
    }
    if warmup > 0 { _ = try posologyRun(cores) }
    let rounds = max(repetitions, options.smoke ? 1 : 5)
    var runs: [Int: [ChildRun]] = [:], probes: [ChildRun] = [], ratios: [Int: [Double]] = [:]
    for round in 0..<rounds {
      // The round's jobs: Posology at each thread count and the probe, rotated.
      var jobs: [Int] = threadList + (options.probe == nil ? [] : [0])
      jobs = Array(jobs[(round % jobs.count)...] + jobs[..<(round % jobs.count)])
      var this: [Int: ChildRun] = [:]
      for job in jobs { this[job] = try job == 0 ? probeRun() : posologyRun(job) }
      for t in threadList {
        runs[t, default: []].append(this[t]!)
        if let probe = this[0] { ratios[t, default: []].append(this[t]!.wall / probe.wall) }
      }
      if let probe = this[0] { probes.append(probe) }
    }
    report.check("process/kovalenko2016/\(subjects): posology exit status 0", true, "\(rounds * threadList.count) runs")
    for t in threadList {
      let list = runs[t]!
      let scenario = "process/kovalenko2016/\(subjects)/t=\(t)"
      let parameters = [("model", "kovalenko2016"), ("subjects", "\(subjects)"), ("threads", "\(t)"), ("command", "posology simulate --model kovalenko2016 --subjects \(subjects) --threads \(t) -o FILE")]
      report.add("process", scenario, "posology_wall", "s", Stats(list.map(\.wall)), parameters)
      report.add("process", scenario, "posology_cpu", "s", Stats(list.map { $0.user + $0.system }), parameters)
      report.add("process", scenario, "posology_peak_rss", "MiB", Stats(list.map { Double($0.peakBytes) / 1048576 }), parameters)
      report.add("process", scenario, "per_patient_year_core", "µs", Stats(list.map { $0.wall * Double(t) * 1e6 / (Double(subjects) * Workload.years) }), parameters)
      if let r = ratios[t] { report.add("process", scenario, "ratio_to_probe", "×", Stats(r), parameters) }
    }
    if !probes.isEmpty {
      let scenario = "process/dopri_probe/\(subjects)"
      let parameters = [("command", "\(options.probe!) \(subjects) 1e-6 1e-9")]
      report.add("process", scenario, "probe_wall", "s", Stats(probes.map(\.wall)), parameters)
      report.add("process", scenario, "probe_peak_rss", "MiB", Stats(probes.map { Double($0.peakBytes) / 1048576 }), parameters)
      let printed = probes.compactMap { Self.probePerSubject($0.stdout) }
      if !printed.isEmpty { report.add("process", scenario, "probe_printed_per_subject", "µs", Stats(printed), parameters) }
    }
  }

  /// The `per_subject_us=…` figure the probe prints.
  static func probePerSubject(_ text: String) -> Double? {
    guard let range = text.range(of: "per_subject_us=") else { return nil }
    return Double(text[range.upperBound...].prefix { !$0.isWhitespace })
  }

  /// `posology` in the same build folder as this executable.
  static func siblingPosology() -> String? {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let path = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("posology").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
  }
}
