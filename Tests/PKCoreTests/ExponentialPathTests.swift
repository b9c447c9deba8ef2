import PKCore
import PKNumerics
import Testing

/// The exponential fast path (`.auto`, grid sampling) against the adaptive integrator at rtol
/// 1e-11, on many virtual patients, regimens and grids: DESIGN §4 accuracy (≤ 1e-5 relative where
/// C > 0.01 mg/L, ≤ 1e-6 mg/L below).
@Suite("Exponential fast path")
struct ExponentialPathTests {
  static let reference = ODEOptions(relativeTolerance: 1e-11, absoluteTolerance: 1e-14, method: .dormandPrince54)

  static func check(_ p: PKParameters, _ doses: [Dose], _ grid: OutputGrid, _ what: String) throws {
    let fast = try SubjectSimulator().concentrations(p, doses: doses, grid: grid)
    let exact = try SubjectSimulator(options: reference).concentrations(p, doses: doses, grid: grid)
    for k in 0..<grid.count {
      if exact[k] > 0.01 { expectClose(fast[k], exact[k], rel: 1e-5, "\(what) t=\(grid.time(k))") }
      else { expectClose(fast[k], exact[k], abs: 1e-6, "\(what) t=\(grid.time(k))") }
    }
  }

  @Test("random patients of every model, label regimens, daily grid", arguments: ["kovalenko2020", "kovalenko2016", "zhang2021"])
  func randomPatients(model name: String) throws {
    let model = Fixtures.model(name)
    let sampler = PatientSampler(model: model, weights: try BodyWeights.parse("normal:70,20,10,150"), seed: 77)
    let grid = try OutputGrid(step: 1, horizon: 364)
    let regimens = ["600mg then 300mg q2w", "400mg then 200mg q2w", "300mg q4w", "600mg then 300mg qw", "200mg q4w x3"]
    for i in 0..<10 {
      let p = sampler.patient(i).parameters
      let doses = try RegimenText.parse(regimens[i % regimens.count]).doses(horizon: 364)
      try Self.check(p, doses, grid, "\(name) patient \(i)")
    }
  }

  @Test("washout cliffs: Km 0.01 mg/L after 300 mg q4w ×3, where earlier absolute errors become large relative ones", arguments: ["kovalenko2020", "kovalenko2016"])
  func washoutCliffs(model name: String) throws {
    // Once the doses stop, C falls nearly linearly (saturated elimination) and then drops off a
    // cliff near Km (1 → 0.08 mg/L in a day). Without the capped step check and with the windows
    // at 10× tolerance, these patients were off by up to 8e-5 relative there.
    let model = Fixtures.model(name)
    let sampler = PatientSampler(model: model, weights: try BodyWeights.parse("normal:75,15,40,150"), seed: 7)
    let grid = try OutputGrid(step: 1, horizon: 280)
    let doses = try RegimenText.parse("300mg q4w x3").doses(horizon: 280)
    for i in 0..<48 {
      try Self.check(sampler.patient(i).parameters, doses, grid, "\(name) patient \(i)")
    }
  }

  @Test("fractional dose times, IV doses, a fine grid and a long washout (adaptive windows)")
  func irregular() throws {
    let p = Fixtures.model("kovalenko2020").individual(weight: 40, eta: nil)
    let doses = [Dose(time: 0.3, amount: 600), Dose(time: 10.75, amount: 200, route: .iv), Dose(time: 10.75, amount: 100),
                 Dose(time: 31.1, amount: 300)]
    try Self.check(p, doses, try OutputGrid(step: 0.25, horizon: 60), "irregular")
    try Self.check(p, doses, try OutputGrid(step: 1, horizon: 500), "washout")
  }

  @Test("linear models and extreme absorption rates", arguments: [0.05, 5.0, 500.0])
  func linearAndFast(ka: Double) throws {
    let p = PKParameters(ka: ka, F: 0.7, Vc: 3, ke: 0.05, k12: 0.2, k21: 0.3)
    try Self.check(p, labelDoses(horizon: 200), try OutputGrid(step: 1, horizon: 200), "ka \(ka)")
  }
}
