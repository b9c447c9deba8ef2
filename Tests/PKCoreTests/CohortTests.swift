@testable import PKCore
import PKNumerics
import PKReport
import Testing

@Suite("Cohorts: random streams, variability, summaries")
struct CohortTests {
  @Test("the sample covariance of the random effects recovers Ω (N = 20,000)", arguments: ["kovalenko2020", "kovalenko2016", "zhang2021"])
  func omegaRecovered(model name: String) {
    let model = Fixtures.model(name)
    let sampler = PatientSampler(model: model, weights: .fixed(75), seed: 2026)
    let n = 20_000
    let effects = model.randomEffects!
    let k = effects.parameters.count
    let omega = effects.covariance
    let draws = (0..<n).map { sampler.eta(PatientStreams(seed: 2026, patient: $0)) }
    for i in 0..<k {
      for j in 0...i {
        let mi = draws.reduce(0) { $0 + $1[i] } / Double(n)
        let mj = draws.reduce(0) { $0 + $1[j] } / Double(n)
        let cov = draws.reduce(0) { $0 + ($1[i] - mi) * ($1[j] - mj) } / Double(n - 1)
        // Sampling SE of a covariance: √((Ω_ii Ω_jj + Ω_ij²)/N); allow 4 SE.
        let se = ((omega[i * k + i] * omega[j * k + j] + omega[i * k + j] * omega[i * k + j]) / Double(n)).squareRoot()
        #expect(abs(cov - omega[i * k + j]) <= 4 * se, "\(name) Ω[\(i),\(j)] = \(omega[i * k + j]), sample \(cov)")
        if i == j { #expect(abs(mi) <= 4 * (omega[i * k + i] / Double(n)).squareRoot()) }
      }
    }
    // Kovalenko 2020 publishes corr(ke, Vc) = −0.373: the sample correlation, within 4 SE (1−ρ²)/√N.
    if name == "kovalenko2020" {
      let a = draws.map { $0[0] }, b = draws.map { $0[1] }
      let r = correlation(a, b)
      #expect(abs(r - (-0.373)) <= 4 * (1 - 0.373 * 0.373) / Double(n).squareRoot(), "correlation \(r)")
    }
  }

  func correlation(_ a: [Double], _ b: [Double]) -> Double {
    let n = Double(a.count)
    let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
    return sab / (saa * sbb).squareRoot()
  }

  @Test("neighbouring patients' streams are uncorrelated and never repeat each other")
  func neighbouringStreams() {
    let n = 20_000
    let firsts = (0..<n).map { i -> [UInt64] in var g = PatientStreams(seed: 1, patient: i).uniforms(.randomEffects); return (0..<64).map { _ in g.next() } }
    // No value of patient i's first 64 outputs appears in patient i+1's (a shifted copy would).
    for i in 0..<(n - 1) { #expect(Set(firsts[i]).isDisjoint(with: firsts[i + 1]), "patients \(i), \(i + 1) overlap") }
    #expect(Set(firsts.map { $0[0] }).count == n)
    // Correlation of the first normal draw of neighbours: |r| ≤ 4/√N.
    let z = (0..<n).map { i -> Double in var g = PatientStreams(seed: 1, patient: i).normals(.randomEffects); return g.next() }
    let r = correlation(Array(z.dropLast()), Array(z.dropFirst()))
    #expect(abs(r) <= 4 / Double(n).squareRoot(), "lag-1 correlation \(r)")
    // Different seeds give different cohorts.
    #expect(PatientStreams(seed: 1, patient: 0).key != PatientStreams(seed: 2, patient: 0).key)
  }

  @Test("Box–Muller normals: mean 0, variance 1, tails as the normal's")
  func normals() {
    var g = NormalGenerator(source: SplitMix64(state: 42))
    let n = 200_000
    let z = (0..<n).map { _ in g.next() }
    let mean = z.reduce(0, +) / Double(n)
    let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
    #expect(abs(mean) <= 4 / Double(n).squareRoot())
    #expect(abs(variance - 1) <= 4 * (2 / Double(n)).squareRoot())
    let beyond2 = Double(z.filter { abs($0) > 1.959964 }.count) / Double(n)  // 5 %
    #expect(abs(beyond2 - 0.05) <= 4 * (0.05 * 0.95 / Double(n)).squareRoot())
  }

  @Test("weight draws match the truncated normal: within bounds, mean and SD as theory")
  func weights() throws {
    let dist = try BodyWeights.parse("normal:75,15,50,100")
    let n = 20_000
    let w = (0..<n).map { dist.weight(patient: $0, streams: PatientStreams(seed: 7, patient: $0)) }
    #expect(w.allSatisfy { $0 >= 50 && $0 <= 100 })
    // Truncated normal moments (a, b in SD units): mean = μ + σ(φ(a) − φ(b))/Z.
    let a = (50.0 - 75) / 15, b = (100.0 - 75) / 15
    func phi(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
    func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
    let z = cdf(b) - cdf(a)
    let mean = 75 + 15 * (phi(a) - phi(b)) / z
    let variance = 225 * (1 + (a * phi(a) - b * phi(b)) / z - pow((phi(a) - phi(b)) / z, 2))
    let m = w.reduce(0, +) / Double(n)
    let v = w.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
    #expect(abs(m - mean) <= 4 * (variance / Double(n)).squareRoot(), "mean \(m) vs \(mean)")
    #expect(abs(v - variance) <= 4 * variance * (2 / Double(n)).squareRoot(), "variance \(v) vs \(variance)")
    for bad in ["normal:75", "uniform:1,2", "normal:75,15,100,50", "normal:75,1,200,300", "normal:-5,1", "normal:75,nan"] {
      #expect(throws: RegimenError.self) { try BodyWeights.parse(bad) }
    }
  }

  @Test("a bioavailability draw above 1 is capped at 1 (Zhang 2021 puts IIV on F)")
  func bioavailabilityCap() {
    let model = Fixtures.model("zhang2021")
    let fIndex = model.randomEffects!.parameters.firstIndex(of: .F)!
    var eta = [Double](repeating: 0, count: 5)
    eta[fIndex] = 1.0  // 0.609·e¹ = 1.66
    #expect(model.individual(weight: 78, eta: eta).F == 1)
    eta[fIndex] = -0.5
    expectClose(model.individual(weight: 78, eta: eta).F, 0.609 * exp(-0.5), rel: 1e-15)
  }

  @Test("exact sums do not depend on the order of addition")
  func exactSum() {
    var rng = SplitMix64(state: 3)
    let values = (0..<10_000).map { _ in rng.uniform() * pow(10, Double(rng.next() % 12) - 6) }
    var forward = ExactSum(), backward = ExactSum(), halves = ExactSum(), other = ExactSum()
    for v in values { forward.add(v) }
    for v in values.reversed() { backward.add(v) }
    for v in values[..<5000] { halves.add(v) }
    for v in values[5000...] { other.add(v) }
    #expect(forward == backward && forward == halves + other)
    expectClose(forward.value, values.reduce(0, +), rel: 1e-12)
  }

  @Test("R type 7 percentiles")
  func type7() {
    var v: [Double] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
    let s = ColumnSummary.of(&v)
    // R: quantile(c(3,1,4,1,5,9,2,6,5,3,5), c(.05,.25,.5,.75,.95)) = 1.0 2.5 4.0 5.0 7.5
    #expect(s.percentiles == [1.0, 2.5, 4.0, 5.0, 7.5])
    var one: [Double] = [7]
    let single = ColumnSummary.of(&one)
    #expect(single.sd == 0 && single.percentiles == [7, 7, 7, 7, 7] && single.mean == 7)
  }

  @Test("the multi-pass summary equals sorting every column, for any batch size")
  func streamingEqualsSorting() throws {
    var rng = SplitMix64(state: 11)
    let rows = 3001, columns = 7
    var values = [Double](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      values[r * columns + 0] = 0  // all equal
      values[r * columns + 1] = exp(4 * (rng.uniform() - 0.5))  // log-uniform
      values[r * columns + 2] = Double(rng.next() % 5)  // heavy ties
      values[r * columns + 3] = rng.uniform() < 0.5 ? 0 : 1e-30 * rng.uniform()  // tiny and zero
      values[r * columns + 4] = 50 + 1e-9 * rng.uniform()  // a very narrow spread
      values[r * columns + 5] = rng.uniform() - 0.5  // negatives too
      values[r * columns + 6] = 1e20 * rng.uniform()
    }
    var expected: [ColumnSummary] = []
    for c in 0..<columns {
      var col = (0..<rows).map { values[$0 * columns + c] }
      expected.append(ColumnSummary.of(&col))
    }
    for batch in [1, 64, 1000, rows] {
      let got = try StreamingSummary.summarize(ArrayCohortSource(rows: rows, columns: columns, values: values, batch: batch))
      #expect(got == expected, "batch \(batch)")
    }
    // The in-memory path (quickselect) gives the same bytes too.
    let matrix = CohortMatrix(rows: rows, columns: columns, threads: 3)
    matrix.values = values
    #expect(matrix.summarizeBySelection() == expected)
    for n in [1, 2, 3, 7] {
      var small = (0..<n).map { _ in Double(rng.next() % 4) }
      var copy = small
      let viaSort = ColumnSummary.of(&copy)
      #expect(small.withUnsafeMutableBufferPointer { ColumnSummary.bySelection($0) } == viaSort, "n = \(n)")
    }
  }

  @Test("cohort output is bit-identical for 1 and 4 threads and for any batch size")
  func threadIndependence() throws {
    let model = Fixtures.model("kovalenko2020")
    let grid = try OutputGrid(step: 1, horizon: 42)
    func run(threads: Int, batch: Int) throws -> [ColumnSummary] {
      var request = CohortRequest(model: model, weights: try BodyWeights.parse("normal:75,15"), subjects: 300, seed: 9, threads: threads,
        regimens: [labelDoses(horizon: 42)], grid: grid, solver: SubjectSimulator.defaultOptions)
      request.observed = true
      return try StreamingSummary.summarize(CohortSimulation(request, batchSize: batch))
    }
    let one = try run(threads: 1, batch: 4096)
    #expect(try run(threads: 4, batch: 7) == one)
    #expect(try run(threads: 2, batch: 300) == one)
  }

  @Test("each cohort row is the patient's curve simulated alone: grouping similar patients side by side changes only the speed", arguments: ["zhang2021", "kovalenko2020"])
  func groupingIsInvisible(_ name: String) throws {
    let grid = try OutputGrid(step: 1, horizon: 84)
    let doses = labelDoses(horizon: 84)
    let request = CohortRequest(model: Fixtures.model(name), weights: try BodyWeights.parse("normal:75,15"), subjects: 260, seed: 12, threads: 2,
      regimens: [doses], grid: grid, solver: SubjectSimulator.defaultOptions)
    let simulation = CohortSimulation(request)
    // The chunks are regrouped: similar patients are not numbered together.
    let patients = (0..<64).map { simulation.sampler.patient($0) }
    let rate = simulation.dosingRate
    #expect(CohortSimulation.similarityOrder(keys: patients.map { CohortSimulation.similarityKey($0, dosingRate: rate) }) != Array(0..<64))
    // The order is a permutation, sorted by key (to the packed keys' precision), ties by position.
    for keys: [Double] in [[], [3], [2, 1], [1, 1, 1], [.infinity, 0, -0.0, 5e-324, 1, 0.5, 1, 2, 0.25], (0..<4097).map { Double(($0 * 7919) % 1000) }] {
      let order = CohortSimulation.similarityOrder(keys: keys)
      #expect(order.sorted() == Array(keys.indices), "\(keys.count) keys")
      for (x, y) in zip(order, order.dropFirst()) {
        #expect(keys[x] < keys[y] || (keys[x] == keys[y] && x < y) || abs(keys[x] - keys[y]) <= 1e-6 * abs(keys[y]), "\(keys.count) keys: \(x), \(y)")
      }
    }
    var rows: [Double] = []
    try simulation.forEachBatch(pass: 1) { _, _, values in rows.append(contentsOf: values) }
    let simulator = SubjectSimulator()
    for i in 0..<request.patients.count {
      let alone = try simulator.concentrations(simulation.sampler.patient(i).parameters, doses: doses, grid: grid, scale: request.model.outputScale)
      #expect(alone.map(\.bitPattern) == rows[(i * grid.count)..<((i + 1) * grid.count)].map(\.bitPattern), "\(name) patient \(i)")
    }
  }

  @Test("the simulation's column-major batches (written straight from the lanes) hold its row-major batches' rows, in the lanes' order")
  func columnBatchesMatchRows() throws {
    let grid = try OutputGrid(step: 3, horizon: 42)
    for (threads, batch) in [(1, 4096), (2, 37), (3, 100), (2, 8)] {
      // Two regimens; 203 patients: batches and chunks that are not multiples of the 8 × 8 tile.
      var request = CohortRequest(model: Fixtures.model("kovalenko2016"), weights: try BodyWeights.parse("normal:75,15"), subjects: 203, seed: 4,
        threads: threads, regimens: [labelDoses(horizon: 42), labelDoses(horizon: 42).map { var d = $0; d.amount /= 2; return d }],
        grid: grid, solver: SubjectSimulator.defaultOptions)
      // Residual error too, which the column-major path applies at its stride.
      request.observed = threads == 2
      let simulation = CohortSimulation(request, batchSize: batch)
      var rows: [Double] = []
      try simulation.forEachBatch(pass: 1) { _, _, values in rows.append(contentsOf: values) }
      let columns = simulation.columns
      var next = 0
      try simulation.forEachColumnBatch(pass: 2) { b in
        #expect(b.firstRow == next && b.stride >= b.rows)
        // Each row of the batch is one of its patients' whole rows: the patients are in the
        // similarity order the lanes ran them in, which the summaries do not see.
        let written = (0..<b.rows).map { r in (0..<columns).map { b.column($0)[r].bitPattern } }
        let want = (b.firstRow..<(b.firstRow + b.rows)).map { p in (0..<columns).map { rows[p * columns + $0].bitPattern } }
        let order = { (x: [UInt64], y: [UInt64]) in x.lexicographicallyPrecedes(y) }
        #expect(written.sorted(by: order) == want.sorted(by: order), "threads \(threads), batch \(batch)")
        next += b.rows
      }
      #expect(next == 203)
    }
  }

  @Test("column-major batches written at their stride by the other paths (one patient at a time with adherence, the adaptive solver) hold the rows")
  func columnBatchesOtherPaths() throws {
    let grid = try OutputGrid(step: 2, horizon: 56)
    var base = CohortRequest(model: Fixtures.model("zhang2021"), weights: try BodyWeights.parse("normal:75,15"), subjects: 61, seed: 6,
      threads: 2, regimens: [labelDoses(horizon: 56)], grid: grid, solver: SubjectSimulator.defaultOptions)
    base.observed = true
    var adherence = base
    adherence.adherence = 0.7
    var adaptive = base
    adaptive.solver.method = .dormandPrince54
    for (what, request) in [("adherence", adherence), ("dopri5", adaptive)] {
      let simulation = CohortSimulation(request, batchSize: 25)
      var rows: [Double] = []
      try simulation.forEachBatch(pass: 1) { _, _, values in rows.append(contentsOf: values) }
      let columns = simulation.columns
      try simulation.forEachColumnBatch(pass: 2) { b in
        // Each row of the batch is one of its patients' whole rows (side by side in the lanes'
        // order; with adherence, in patient order).
        let written = (0..<b.rows).map { r in (0..<columns).map { b.column($0)[r].bitPattern } }
        let want = (b.firstRow..<(b.firstRow + b.rows)).map { p in (0..<columns).map { rows[p * columns + $0].bitPattern } }
        if what == "adherence" { #expect(written == want, "\(what)") }
        let order = { (x: [UInt64], y: [UInt64]) in x.lexicographicallyPrecedes(y) }
        #expect(written.sorted(by: order) == want.sorted(by: order), "\(what)")
      }
    }
  }

  @Test("the in-memory summary is the same with and without the rows wanted on the first pass (transposed chunks or writes at the stride)")
  func summaryWithAndWithoutRows() throws {
    let request = CohortRequest(model: Fixtures.model("kovalenko2020"), weights: try BodyWeights.parse("normal:75,15"), subjects: 150, seed: 2,
      threads: 2, regimens: [labelDoses(horizon: 70)], grid: try OutputGrid(step: 1, horizon: 70), solver: SubjectSimulator.defaultOptions)
    let direct = try CohortSimulation(request).summarize()
    let withRows = CohortSimulation(request)
    var seen = 0
    withRows.onFirstPass = { _, count, values, _ in
      seen += count
      #expect(values.count == count * withRows.columns)
    }
    #expect(try withRows.summarize() == direct)
    #expect(seen == 150)
  }

  @Test("observed values are censored at the LLOQ: reported as 0, never negative")
  func censoring() throws {
    let model = Fixtures.model("kovalenko2016")
    let grid = try OutputGrid(step: 1, horizon: 200)
    var request = CohortRequest(model: model, weights: .fixed(75), subjects: 50, seed: 3, threads: 1,
      regimens: [[Dose(time: 0, amount: 300)]], grid: grid, solver: SubjectSimulator.defaultOptions)
    request.observed = true
    let sim = CohortSimulation(request)
    var zeros = 0
    try sim.forEachBatch(pass: 1) { _, count, values in
      for v in values {
        #expect(v == 0 || v >= 0.078)
        if v == 0 { zeros += 1 }
      }
    }
    #expect(zeros > 0)  // the pre-dose sample and the washout tail are BLQ
  }

  @Test("adherence and dose delays: reproducible per patient, fractions and means as asked")
  func adherenceAndDelays() throws {
    let schedule = labelDoses(horizon: 364 * 4)
    let n = 2000
    var taken = 0, delays: [Double] = []
    for i in 0..<n {
      let streams = PatientStreams(seed: 5, patient: i)
      let doses = CohortSimulation.taken(schedule, probability: 0.8, delay: .exponential(mean: 2), streams: streams)
      #expect(doses == CohortSimulation.taken(schedule, probability: 0.8, delay: .exponential(mean: 2), streams: streams))
      #expect(doses.map(\.time) == doses.map(\.time).sorted())
      taken += doses.count
      // With adherence 1, every dose is taken, each late by its own draw.
      let all = CohortSimulation.taken(schedule, probability: 1, delay: .uniform(0, 3), streams: streams)
      #expect(all.count == schedule.count)
      delays += zip(all, schedule).map { $0.time - $1.time }
    }
    let total = Double(n * schedule.count)
    let fraction = Double(taken) / total
    #expect(abs(fraction - 0.8) <= 4 * (0.8 * 0.2 / total).squareRoot(), "taken \(fraction)")
    let mean = delays.reduce(0, +) / Double(delays.count)
    #expect(delays.allSatisfy { $0 >= 0 && $0 <= 3 })
    #expect(abs(mean - 1.5) <= 4 * (0.75 / Double(delays.count)).squareRoot(), "mean delay \(mean)")  // var of U(0,3) = 0.75
    #expect(throws: RegimenError.self) { try DelayDistribution.parse("normal:1,2") }
    #expect(try DelayDistribution.parse("Uniform: 1, 2") == .uniform(1, 2))
  }

  @Test("10,000 patients, 600 → 300 mg q2w, default model: steady-state trough compatible with the label (73.3 ± 40.0 mg/L)")
  func labelTroughCohort() throws {
    let model = Fixtures.model("kovalenko2020")
    let grid = try OutputGrid(step: 14, horizon: 364)
    let request = CohortRequest(model: model, weights: .fixed(75), subjects: 10_000, seed: 1, threads: 2,
      regimens: [labelDoses()], grid: grid, solver: SubjectSimulator.defaultOptions)
    let trough = try StreamingSummary.summarize(CohortSimulation(request)).last!
    #expect(trough.mean >= 55 && trough.mean <= 90, "mean \(trough.mean)")
    #expect(trough.sd >= 20 && trough.sd <= 55, "SD \(trough.sd)")
  }
}
