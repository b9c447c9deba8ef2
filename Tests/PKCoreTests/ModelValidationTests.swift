import PKCore
import PKNumerics
import PKReport
import Testing

/// Records the full state at requested times (from the dense output), and the doses given.
struct StateRecorder: SimulationObserver {
  var times: [Double]
  var states: [[Double]] = []
  var next = 0
  var dosedSC = 0.0, dosedIV = 0.0
  var F: Double
  mutating func doseGiven(_ dose: Dose, at time: Double, state: UnsafePointer<Double>, layout: StateLayout) {
    if dose.route == .sc { dosedSC += dose.amount } else { dosedIV += dose.amount }
  }
  mutating func observe(_ step: DenseStep) {
    while next < times.count && times[next] <= step.end {
      if times[next] > step.start {
        var s = [Double](repeating: 0, count: 16)
        s.withUnsafeMutableBufferPointer { step.state(at: times[next], into: $0.baseAddress!) }
        states.append(s)
      }
      next += 1
    }
  }
}

@Suite("Published dupilumab models")
struct ModelValidationTests {
  static let models = ["kovalenko2020", "kovalenko2016", "zhang2021"]

  @Test("reference curves (independent solver, rtol 1e-11) are matched at default tolerances", arguments: [
    ("kovalenko2016", 75.0, "kovalenko2016_75kg_600mg_then_300mg_q2w.csv", 600.0, 300.0),
    ("kovalenko2020", 75.0, "kovalenko2020_75kg_600mg_then_300mg_q2w.csv", 600.0, 300.0),
    ("zhang2021", 78.0, "zhang2021_78kg_400mg_then_200mg_q2w.csv", 400.0, 200.0),
  ])
  func referenceCurves(model: String, weight: Double, file: String, loading: Double, maintenance: Double) throws {
    let reference = try Fixtures.curve(file)
    let grid = try OutputGrid(step: 1, horizon: 364)
    let p = Fixtures.model(model).individual(weight: weight, eta: nil)
    let c = try SubjectSimulator().concentrations(p, doses: labelDoses(loading: loading, maintenance: maintenance), grid: grid)
    #expect(c.count == reference.count)
    for (k, (t, expected)) in reference.enumerated() {
      #expect(grid.time(k) == t)
      // DESIGN §4: ≤ 1e-5 relative where C > 0.01 mg/L, 1e-6 mg/L absolute below.
      if expected > 0.01 { expectClose(c[k], expected, rel: 1e-5, "\(model) t=\(t)") } else { expectClose(c[k], expected, abs: 1e-6, "\(model) t=\(t)") }
    }
  }

  @Test("mass balance: F·SC + IV = compartments + eliminated, to 1e-8 relative at every output time", arguments: models)
  func massBalance(model: String) throws {
    let p = Fixtures.model(model).individual(weight: 75, eta: nil)
    var doses = labelDoses()
    doses.append(Dose(time: 100.5, amount: 150, route: .iv))
    doses.sort { $0.time < $1.time }
    let times = stride(from: 0.5, through: 400, by: 0.5).map { $0 }
    var recorder = StateRecorder(times: times, F: p.F)
    let simulator = SubjectSimulator(options: ODEOptions(relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
    _ = try simulator.simulate(p, doses: doses, grid: nil, end: 400, output: nil, observer: &recorder)
    let layout = StateLayout(transits: p.ntr)
    #expect(recorder.states.count == times.count)
    for (t, s) in zip(times, recorder.states) {
      let given = doses.filter { $0.time < t }.reduce(0.0) { $0 + ($1.route == .sc ? p.F * $1.amount : $1.amount) }
      let held = layout.drugCompartments.reduce(0.0) { $0 + s[$1] }
      let gone = s[layout.eliminatedLinear] + s[layout.eliminatedSaturable]
      expectClose(held + gone, given, rel: 1e-8, "\(model) t=\(t)")
      for i in layout.drugCompartments { #expect(s[i] >= -1e-9, "negative amount in compartment \(i) at t=\(t)") }
    }
  }

  @Test("AUC state equals the integral of the closed-form curve on a linear model")
  func aucState() throws {
    let p = PKParameters(ka: 0.5, F: 0.8, Vc: 4, ke: 0.1)
    var recorder = StateRecorder(times: [1000], F: p.F)
    _ = try SubjectSimulator(options: ODEOptions(relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
      .simulate(p, doses: [Dose(time: 0, amount: 100)], grid: nil, end: 1000, output: nil, observer: &recorder)
    // AUC(0–∞) = F·D/CL for a linear model.
    expectClose(recorder.states[0][StateLayout(transits: 0).auc], 0.8 * 100 / (0.1 * 4), rel: 1e-8)
  }

  // MARK: - Label figures (reference §4.1; US label §12.3)

  static func peak(_ p: PKParameters, dose: Double) throws -> (cmax: Double, tmax: Double) {
    let grid = try OutputGrid(step: 0.01, horizon: 30)
    let c = try SubjectSimulator().concentrations(p, doses: [Dose(time: 0, amount: dose)], grid: grid)
    let k = c.indices.max { c[$0] < c[$1] }!
    return (c[k], grid.time(k))
  }

  static func trough(_ p: PKParameters, _ doses: [Dose], day: Double) throws -> Double {
    let grid = try OutputGrid(step: 1, horizon: day)
    return try SubjectSimulator().concentrations(p, doses: doses, grid: grid).last!
  }

  /// Weeks from the last dose until C < 0.078 mg/L (the assay's LLOQ), after a year of q2w.
  static func washoutWeeks(_ p: PKParameters) throws -> Double {
    let doses = labelDoses()
    let last = doses.last!.time
    let grid = try OutputGrid(step: 0.05, horizon: last + 250)
    let c = try SubjectSimulator().concentrations(p, doses: doses, grid: grid)
    let k = (0..<grid.count).first { grid.time($0) > last && c[$0] < 0.078 }!
    return (grid.time(k) - last) / 7
  }

  @Test("default model, 75 kg: single-dose Cmax within label mean ± SD and Tmax 4–8 days")
  func singleDosePeaks() throws {
    let p = Fixtures.model("kovalenko2020").individual(weight: 75, eta: nil)
    // Label: 600 mg 70.1 ± 24.1, 400 mg 41.8 ± 12.4, 300 mg 30.5 ± 9.39 mg/L, about 1 week post dose.
    for (dose, mean, sd) in [(600.0, 70.1, 24.1), (400.0, 41.8, 12.4), (300.0, 30.5, 9.39)] {
      let (cmax, tmax) = try Self.peak(p, dose: dose)
      #expect(cmax >= mean - sd && cmax <= mean + sd, "\(dose) mg: Cmax \(cmax)")
      #expect(tmax >= 4 && tmax <= 8, "\(dose) mg: Tmax \(tmax)")
    }
  }

  @Test("label troughs and washout hold for every shipped model (75 kg)", arguments: models)
  func labelTroughs(model: String) throws {
    let p = Fixtures.model(model).individual(weight: 75, eta: nil)
    // 600 → 300 mg q2w: trough weeks 16 and 52 in 60–80 mg/L (label 73.3 ± 40.0 to 79.9 ± 41.4).
    for day in [112.0, 364.0] {
      let t = try Self.trough(p, labelDoses(horizon: day + 1), day: day)
      #expect(t >= 60 && t <= 80, "\(model) q2w trough day \(day): \(t)")
    }
    // 600 → 300 mg qw: 170–195 (label 173 ± 75.9 to 193 ± 77.0).
    let qw = try Self.trough(p, labelDoses(interval: 7, horizon: 365), day: 364)
    #expect(qw >= 170 && qw <= 195, "\(model) qw trough \(qw)")
    // 400 → 200 mg q2w: 29–42 (label 29.2 ± 18.7 to 36.5 ± 22.2).
    let low = try Self.trough(p, labelDoses(loading: 400, maintenance: 200, horizon: 365), day: 364)
    #expect(low >= 29 && low <= 42, "\(model) 200 mg q2w trough \(low)")
    // After the last of a year of q2w doses: < 0.078 mg/L after 8.5–12 weeks (label median 10 weeks).
    let weeks = try Self.washoutWeeks(p)
    #expect(weeks >= 8.5 && weeks <= 12, "\(model) washout \(weeks) weeks")
  }
}
