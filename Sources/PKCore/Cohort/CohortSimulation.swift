import Dispatch
import PKNumerics

/// A cohort run: which patients, which regimens (all on the same patients: common random
/// numbers), which grid, and how (threads, solver, residual error, adherence).
public struct CohortRequest: Sendable {
  public var model: PopulationModel
  public var weights: BodyWeights
  /// Size of the whole cohort; patients are numbered 0..<subjects (1… in output).
  public var subjects: Int
  /// The patients this run simulates (a shard's slice, or all).
  public var patients: Range<Int>
  public var seed: UInt64
  public var threads: Int
  /// One schedule per regimen; adherence and delays are applied per patient.
  public var regimens: [[Dose]]
  public var grid: OutputGrid
  public var solver: ODEOptions
  /// Add the model's residual error (`--observed`); values below `lloq` become 0 (BLQ).
  public var observed: Bool = false
  public var lloq: Double = 0.078
  /// Probability that each dose is taken (`--adherence`).
  public var adherence: Double = 1
  /// Random delay of each dose taken (`--delay-dist`), none by default.
  public var delay: DelayDistribution? = nil

  /// Whether patients take their doses other than as scheduled.
  public var variesDosing: Bool { adherence < 1 || delay != nil }

  public init(model: PopulationModel, weights: BodyWeights, subjects: Int, seed: UInt64, threads: Int, regimens: [[Dose]], grid: OutputGrid, solver: ODEOptions) {
    self.model = model; self.weights = weights; self.subjects = subjects; self.patients = 0..<subjects
    self.seed = seed; self.threads = Swift.max(1, threads); self.regimens = regimens; self.grid = grid; self.solver = solver
  }

  /// The contiguous slice of patients for shard `k` of `n` (1-based k): `[⌊(k−1)N/n⌋, ⌊kN/n⌋)`.
  public static func shard(_ k: Int, of n: Int, subjects: Int) -> Range<Int> {
    let lo = Int((Int128(k - 1) * Int128(subjects)) / Int128(n))
    let hi = Int((Int128(k) * Int128(subjects)) / Int128(n))
    return lo..<hi
  }
}

/// Simulates a cohort in parallel batches; a replayable `CohortValueSource` (each pass simulates
/// again, bit-identically), so summaries never need every curve in memory.
///
/// Parallelism: `threads` workers (`forEachItem`) take the batch's chunks of 16–256 patients
/// (`chunkSize`) one after another as they finish, and write each patient's values into its own
/// row or its own places in the column-major storage; a patient's values do not depend on the
/// worker or on the other patients of its chunk or group, so the output does not depend on
/// scheduling or on the thread count.
public final class CohortSimulation: CohortValueSource, @unchecked Sendable {  // immutable after init except the `simulatedRows` counter (driver thread only); per-worker simulators are used by one worker at a time
  public let request: CohortRequest
  public let sampler: PatientSampler
  public var rows: Int { request.patients.count }
  public var columns: Int { request.regimens.count * request.grid.count }
  /// Patients per batch (bounded so a batch buffer stays ≤ ~32 MB).
  public let batchSize: Int
  private let simulators: [SubjectSimulator]
  /// Called once per batch on the first pass, in patient order: (first patient index, count,
  /// row-major values, the batch's patients).
  public var onFirstPass: ((Int, Int, UnsafeBufferPointer<Double>, [VirtualPatient]) throws -> Void)?
  /// Called once per batch on the first pass with the batch's row count (progress), after
  /// `onFirstPass`; unlike it, needs no row-major copy of the values.
  public var onFirstPassProgress: ((Int) -> Void)?

  /// Patients per chunk: at most 64, at least 16, and otherwise small enough for four chunks per
  /// thread (a chunk is a run of the batch's `similarityOrder`, so its size does not change the
  /// groups). The last chunks decide how long one worker waits for the other: with chunks of 256,
  /// the two workers of a 10,000-patient kovalenko2020 cohort finished 0.2–2.3 ms apart (of
  /// ~45 ms), with 64 within 0.3 ms; instructions +0.1 %.
  func chunkSize(patients count: Int) -> Int {
    Swift.min(64, Swift.max(16, count / (4 * request.threads) / 8 * 8))
  }

  public init(_ request: CohortRequest, batchSize: Int? = nil) {
    self.request = request
    sampler = PatientSampler(model: request.model, weights: request.weights, seed: request.seed)
    let columns = Swift.max(1, request.regimens.count * request.grid.count)
    self.batchSize = Swift.max(1, Swift.min(batchSize ?? 4096, (32 << 20) / (8 * columns)))
    simulators = (0..<request.threads).map { _ in SubjectSimulator(options: request.solver) }
  }

  public func parallelColumns(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
    forEachItem(count, threads: request.threads) { _, c in work(c) }
  }

  /// The patients `members` (already drawn), all given the regimens' scheduled doses, side by
  /// side; writes `columns` values per patient into its row `rows[i]`, `stride` apart.
  func simulateGroup(_ members: [VirtualPatient], simulator: SubjectSimulator, rows: [UnsafeMutablePointer<Double>], stride: Int) throws {
    let g = request.grid.count
    for (r, schedule) in request.regimens.enumerated() {
      let outputs = rows.map { $0 + r * g * stride }
      try simulator.sample(
        members.map(\.parameters), doses: schedule, grid: request.grid, scale: request.model.outputScale, outputs: outputs, outputStride: stride)
      if request.observed {
        for i in members.indices {
          applyResidualError(outputs[i], count: g, stride: stride, streams: PatientStreams(seed: request.seed, patient: members[i].index))
        }
      }
    }
  }

  /// One patient: parameters, then every regimen on them; writes `columns` values, `stride` apart.
  func simulatePatient(_ index: Int, simulator: SubjectSimulator, into out: UnsafeMutablePointer<Double>, stride: Int) throws -> VirtualPatient {
    let patient = sampler.patient(index)
    let streams = PatientStreams(seed: request.seed, patient: index)
    let g = request.grid.count
    for (r, schedule) in request.regimens.enumerated() {
      let doses = request.variesDosing ? Self.taken(schedule, probability: request.adherence, delay: request.delay, streams: streams) : schedule
      let row = out + r * g * stride
      try simulator.sample([patient.parameters], doses: doses, grid: request.grid, scale: request.model.outputScale, outputs: [row], outputStride: stride)
      if request.observed { applyResidualError(row, count: g, stride: stride, streams: streams) }
    }
    return patient
  }

  /// The doses a patient takes when each is taken with probability `p`, each taken one late by a
  /// random delay. Two uniforms per scheduled dose from the patient's adherence stream (drawn
  /// whether used or not, so the draws line up across regimens and options): the first decides
  /// whether it is taken, the second its delay. Delayed doses keep their order of equal times.
  public static func taken(_ doses: [Dose], probability p: Double, delay: DelayDistribution? = nil, streams: PatientStreams) -> [Dose] {
    var u = streams.uniforms(.adherence)
    var out: [Dose] = []
    out.reserveCapacity(doses.count)
    for dose in doses {
      let take = u.uniform(), late = u.uniformOpenClosed()
      guard take < p else { continue }
      var d = dose
      if let delay { d.time += delay.quantile(late) }
      out.append(d)
    }
    return delay == nil ? out : DoseAdjustments.sortedStable(out)
  }

  /// `C_obs = C·(1 + ε₁) + ε₂`; below the LLOQ the value is reported as 0 (censored, never negative).
  /// A sample with no drug at all (C = 0, before the first dose) is reported as BLQ: the additive
  /// term models assay noise around a drug level, not a signal from a drug-free sample.
  /// The two draws per sample are taken even then, so later samples' noise does not shift.
  func applyResidualError(_ row: UnsafeMutablePointer<Double>, count: Int, stride: Int = 1, streams: PatientStreams) {
    guard let e = request.model.residualError else { return }
    var normals = streams.normals(.residual)
    for k in 0..<count {
      let value = row[k * stride]
      let observed = value * (1 + e.proportional * normals.next()) + e.additive * normals.next()
      row[k * stride] = observed < request.lloq || value <= 0 ? 0 : observed
    }
  }

  /// Patient simulations run so far by `forEachBatch` and `forEachSampledRow` (each row once per
  /// pass or sample): what a summary cost. Updated on the calling thread.
  public private(set) var simulatedRows = 0

  public func forEachBatch(pass: Int, _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    try simulateBatches(pass: pass, columnMajor: { _ in nil }) { first, count, values in try body(first, count, values) }
  }

  /// The batches column-major, written by the workers (straight from the lanes as they simulate,
  /// a batch's patients in the lanes' order, or transposed in parallel from the rows where
  /// `onFirstPass` wants the rows too; `simulateRows(_:into:columnMajor:rowMajor:)`): the summary
  /// then reads each column contiguously.
  public func forEachColumnBatch(pass: Int, _ body: (ColumnBatch) throws -> Void) throws {
    let stride = ColumnBatch.stride(rows: batchSize)
    let storage = LargeBuffer.allocate(stride * columns)
    defer { LargeBuffer.deallocate(storage, count: stride * columns) }
    try simulateBatches(pass: pass, columnMajor: { _ in ColumnBatch.Target(base: storage, stride: stride) }) { first, count, _ in
      try body(ColumnBatch(firstRow: first, rows: count, stride: stride, base: storage))
    }
  }

  /// Simulates the patients batch by batch, column-major where `columnMajor(first row of the
  /// batch)` gives a target, and into one row-major buffer where there is none or `onFirstPass`
  /// wants the rows (pass 1); then calls `body(first row, rows, row-major values)`, rows counted
  /// from the run's first patient. With a target and no row-major copy, `body` gets no values
  /// (an empty buffer): read the target.
  func simulateBatches(
    pass: Int, columnMajor: (Int) -> ColumnBatch.Target?, _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void
  ) throws {
    var buffer: UnsafeMutablePointer<Double>? = nil
    defer { buffer?.deallocate() }
    var first = request.patients.lowerBound
    while first < request.patients.upperBound {
      let count = Swift.min(batchSize, request.patients.upperBound - first)
      let row = first - request.patients.lowerBound
      let target = columnMajor(row)
      let rowMajor = target == nil || (pass == 1 && onFirstPass != nil)
      if rowMajor && buffer == nil { buffer = .allocate(capacity: batchSize * columns) }
      let destination = rowMajor ? buffer! : target!.base
      let patients = try simulateRows(Array(first..<(first + count)), into: destination, columnMajor: target, rowMajor: rowMajor)
      simulatedRows += count
      let view = UnsafeBufferPointer(start: rowMajor ? UnsafePointer(destination) : nil, count: rowMajor ? count * columns : 0)
      if pass == 1, let onFirstPass { try onFirstPass(first, count, view, patients) }
      if pass == 1 { onFirstPassProgress?(count) }
      try body(row, count, view)
      first += count
    }
  }
}

extension CohortSimulation {
  /// Simulates the patient at position `k` (patient `indices[k]`) alone into `destination`
  /// (values `stride` apart), recording it in `slots[k]`, or its error in `failure`.
  func simulateAlone(
    _ k: Int, _ indices: [Int], simulator: SubjectSimulator, slots: UnsafeMutablePointer<VirtualPatient?>,
    destination: UnsafeMutablePointer<Double>, stride: Int, failure: FailureBox
  ) {
    do {
      slots[k] = try simulatePatient(indices[k], simulator: simulator, into: destination, stride: stride)
    } catch {
      failure.record(error, patient: indices[k])
    }
  }
}

extension CohortSimulation {
  /// Simulates only the given rows (the summary's pilot sample), in parallel batches; never calls
  /// `onFirstPass`. The rows share lanes as in `simulateBatches` (`similarityOrder`).
  public func forEachSampledRow(_ rows: [Int], _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    let buffer = UnsafeMutablePointer<Double>.allocate(capacity: batchSize * columns)
    defer { buffer.deallocate() }
    var start = 0
    while start < rows.count {
      let count = Swift.min(batchSize, rows.count - start)
      try simulateRows(rows[start..<(start + count)].map { request.patients.lowerBound + $0 }, into: buffer)
      simulatedRows += count
      try body(start, count, UnsafeBufferPointer(start: buffer, count: count * columns))
      start += count
    }
  }

  /// Simulates the patients `indices` into consecutive rows of `out`, in chunks
  /// (`chunkSize`) taken by the workers as they finish (`forEachItem`). Patients given the same
  /// doses run side by side (`SubjectSimulator.groupSize` lanes), grouped in the batch's
  /// `similarityOrder`; each patient's values do not depend on its group, so neither does the
  /// output. With a `columnMajor` target the values also go there (rows `0 ..< indices.count` of
  /// the target): without `rowMajor`, straight from the simulation at the target's stride, and
  /// where patients run side by side in the batch's similarity order rather than in patient order
  /// (the summaries read each column as a multiset; `out` is then left untouched); with it, in
  /// patient order, copied there chunk by chunk of consecutive rows once all are simulated.
  /// Returns the patients.
  @discardableResult
  func simulateRows(
    _ indices: [Int], into out: UnsafeMutablePointer<Double>, columnMajor: ColumnBatch.Target? = nil, rowMajor: Bool = true
  ) throws -> [VirtualPatient] {
    let count = indices.count
    let chunk = chunkSize(patients: count)
    let chunks = (count + chunk - 1) / chunk
    let patients = UnsafeMutablePointer<VirtualPatient?>.allocate(capacity: count)
    patients.initialize(repeating: nil, count: count)
    defer { patients.deinitialize(count: count); patients.deallocate() }
    let failure = FailureBox()
    nonisolated(unsafe) let slots = patients
    let t = request.threads
    // Where position k's values go: its row of `out`, or straight into the column-major target
    // (`stride` apart) when no row-major copy is wanted.
    let direct = rowMajor ? nil : columnMajor
    let stride = direct?.stride ?? 1
    nonisolated(unsafe) let destination = direct?.base ?? out
    nonisolated(unsafe) let base = out
    let rowStep = direct == nil ? columns : 1
    if request.variesDosing || count < 2 {
      // Patients given different doses (adherence, delays) run alone, chunk by chunk in order.
      forEachItem(chunks, threads: t) { w, c in
        let simulator = self.simulators[w]
        for k in (c * chunk)..<Swift.min(count, (c + 1) * chunk) {
          self.simulateAlone(k, indices, simulator: simulator, slots: slots, destination: destination + k * rowStep, stride: stride, failure: failure)
        }
      }
    } else {
      simulateSideBySide(
        indices, chunk: chunk, slots: slots, destination: destination, rowStep: rowStep, stride: stride, patientOrder: direct == nil,
        failure: failure)
    }
    // Rows wanted too: the rows go to the columns afterwards, chunk by chunk of consecutive rows
    // (a worker transposing its own patients' rows, scattered over the batch, would share cache
    // lines of the columns with the other worker: about 10 % slower with per-subject output).
    if direct == nil, let columnMajor {
      let columns = self.columns
      forEachItem(chunks, threads: t) { _, c in
        let start = c * chunk, end = Swift.min(count, (c + 1) * chunk)
        columnMajor.write(rows: base + start * columns, first: start, count: end - start, columns: columns)
      }
    }
    if let (error, _) = failure.first { throw error }
    return (0..<count).map { patients[$0]! }
  }

  /// `simulateRows`' patients given the same doses, side by side (`SubjectSimulator.groupSize`
  /// lanes) in groups of similar patients: a group takes careful substeps when any of its lanes
  /// needs them, and similar patients need them on the same days. The whole batch is ordered by
  /// similarity (`similarityOrder`) and cut into groups and chunks in that order, so a group's
  /// patients are the batch's most alike, not only its chunk's. Patients are sampled first, in
  /// parallel; chunks are handed out from the end of the order, where the patients needing the
  /// most care are, so the workers finish together. Position k's values go to
  /// `destination + k·rowStep` with `patientOrder`, else to the row of its place in the order.
  private func simulateSideBySide(
    _ indices: [Int], chunk: Int, slots: UnsafeMutablePointer<VirtualPatient?>, destination: UnsafeMutablePointer<Double>,
    rowStep: Int, stride: Int, patientOrder: Bool, failure: FailureBox
  ) {
    let count = indices.count, chunks = (count + chunk - 1) / chunk, t = request.threads
    nonisolated(unsafe) let slots = slots, destination = destination
    let keys = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
    defer { keys.deallocate() }
    nonisolated(unsafe) let sortKeys = keys
    let rate = dosingRate
    forEachItem(chunks, threads: t) { _, c in
      for k in (c * chunk)..<Swift.min(count, (c + 1) * chunk) {
        let patient = self.sampler.patient(indices[k])
        slots[k] = patient
        sortKeys[k] = Self.similarityKey(patient, dosingRate: rate)
      }
    }
    let order = Self.similarityOrder(keys: UnsafeBufferPointer(keys))
    forEachItem(chunks, threads: t) { w, item in
      let simulator = self.simulators[w]
      let c = chunks - 1 - item
      let part = order[(c * chunk)..<Swift.min(count, (c + 1) * chunk)]
      var first = part.startIndex
      while first < part.endIndex {
        let places = first..<Swift.min(part.endIndex, first + SubjectSimulator.groupSize)
        let members = Array(part[places])
        first = places.upperBound
        // Straight into the columns, patients go in the similarity order (a group's eight values
        // of a day fill one cache line; the summaries do not depend on the order within a
        // column); rows go in patient order.
        let rows = patientOrder ? members : Array(places)
        do {
          try self.simulateGroup(
            members.map { slots[$0]! }, simulator: simulator, rows: rows.map { destination + $0 * rowStep }, stride: stride)
        } catch {
          for (k, row) in zip(members, rows) {
            self.simulateAlone(k, indices, simulator: simulator, slots: slots, destination: destination + row * rowStep, stride: stride, failure: failure)
          }
        }
      }
    }
  }
}

/// The first error of a parallel batch, by patient index (so which one is reported is deterministic).
final class FailureBox: @unchecked Sendable {  // guarded by its own lock
  private var stored: (Error, Int)?
  private let lock = DispatchSemaphore(value: 1)
  func record(_ error: Error, patient: Int) {
    lock.wait()
    if stored == nil || patient < stored!.1 { stored = (error, patient) }
    lock.signal()
  }
  var first: (Error, Int)? { stored }
}

/// A cohort held in memory (`rows × columns`, row-major), summarised without re-simulating.
public final class CohortMatrix: CohortValueSource, @unchecked Sendable {  // immutable after filling
  public let rows: Int
  public let columns: Int
  public let threads: Int
  public var values: [Double]

  public init(rows: Int, columns: Int, threads: Int) {
    self.rows = rows; self.columns = columns; self.threads = Swift.max(1, threads)
    values = [Double](repeating: 0, count: rows * columns)
  }

  public func forEachBatch(pass: Int, _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    try values.withUnsafeBufferPointer { try body(0, rows, $0) }
  }

  public func forEachSampledRow(_ rows: [Int], _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    var sample = [Double]()
    sample.reserveCapacity(rows.count * columns)
    for r in rows { sample.append(contentsOf: values[(r * columns)..<((r + 1) * columns)]) }
    try sample.withUnsafeBufferPointer { try body(0, rows.count, $0) }
  }

  public func parallelColumns(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
    forEachItem(count, threads: threads) { _, c in work(c) }
  }
}

extension CohortSimulation {
  /// Cohorts of up to this many values (patients × regimens × grid times; 512 MiB of doubles) are
  /// simulated once and summarised in memory; larger ones are summarised in passes that simulate
  /// the cohort again, so memory stays bounded whatever the number of patients.
  public static let inMemoryValues = 64 << 20

  /// Whether a cohort of this size is summarised in memory.
  public var fitsInMemory: Bool { Double(rows) * Double(columns) <= Double(Self.inMemoryValues) }

  /// The exact summaries of every column: in memory when the cohort fits (one simulation), else in
  /// passes over the simulation (`StreamingSummary`). Both give the same bytes.
  ///
  /// In memory, the workers write every patient's values into column-major storage for the whole
  /// cohort (`simulateRows(_:into:columnMajor:rowMajor:)`), not zero-filled first (every value is
  /// written), so each column's summary then reads contiguous memory (`ColumnSummary.bySelection`),
  /// columns in parallel.
  public func summarize() throws -> [ColumnSummary] { try summarize(clock: nil).summaries }

  /// `summarize()`, also returning the seconds the in-memory summary took after the simulation by
  /// `clock` (a time in seconds; NaN without one, or beyond memory, where the two interleave).
  public func summarize(clock: (() -> Double)?) throws -> (summaries: [ColumnSummary], summarySeconds: Double) {
    guard fitsInMemory else { return (try StreamingSummary.summarize(self), .nan) }
    let rows = self.rows, columns = self.columns
    // Columns a few cache lines apart, not a multiple of 4 KiB (`ColumnBatch.stride`).
    let stride = ColumnBatch.stride(rows: rows)
    let storage = LargeBuffer.allocate(stride * columns)
    defer { LargeBuffer.deallocate(storage, count: stride * columns) }
    nonisolated(unsafe) let byColumn = storage
    if onFirstPass == nil {
      // No rows wanted: the whole cohort in one batch, straight into the columns, so the workers
      // share out its chunks to the end (batch by batch, each batch's last chunks would leave a
      // worker idle).
      _ = try simulateRows(
        Array(request.patients), into: storage, columnMajor: ColumnBatch.Target(base: storage, stride: stride), rowMajor: false)
      simulatedRows += rows
      onFirstPassProgress?(rows)
    } else {
      try simulateBatches(pass: 1, columnMajor: { first in ColumnBatch.Target(base: storage + first, stride: stride) }) { _, _, _ in }
    }
    let start = clock?() ?? .nan
    let summaries = mapItems(columns, threads: request.threads) { c in
      ColumnSummary.bySelection(UnsafeMutableBufferPointer(start: byColumn + c * stride, count: rows))
    }
    return (summaries, (clock?() ?? .nan) - start)
  }
}

extension CohortMatrix {
  /// Every column's exact summary by selection (`ColumnSummary.bySelection`), columns in parallel:
  /// one pass over memory instead of the multi-pass narrowing, same results.
  public func summarizeBySelection() -> [ColumnSummary] {
    let rows = self.rows, columns = self.columns
    let blocks: [[ColumnSummary]] = values.withUnsafeBufferPointer { all in
      nonisolated(unsafe) let base = all.baseAddress!
      return mapItems(StreamingSummary.blockCount(columns), threads: threads) { block in
        var summaries: [ColumnSummary] = []
        StreamingSummary.forEachColumn(inBlock: block, base: base, rows: rows, columns: columns) { _, column in
          summaries.append(ColumnSummary.bySelection(UnsafeMutableBufferPointer(mutating: column)))
        }
        return summaries
      }
    }
    return blocks.flatMap { $0 }
  }
}
