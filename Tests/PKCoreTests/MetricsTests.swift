import PKCore
import PKNumerics
import Testing

/// Exposure metrics against closed forms on linear models, and the direct steady state against
/// long simulations (issue 4).
@Suite("Exposure metrics and steady state")
struct MetricsTests {
  static let tight = ODEOptions(relativeTolerance: 1e-10, absoluteTolerance: 1e-13)
  // One compartment, first-order absorption: ka, F, V, k.
  static let oral = PKParameters(ka: 0.9, F: 0.7, Vc: 5, ke: 0.12)

  func calculator(threshold: Double? = nil) -> MetricsCalculator {
    MetricsCalculator(simulator: SubjectSimulator(options: Self.tight), threshold: threshold)
  }

  @Test("steady-state AUCτ = F·D/CL, Cavg = F·D/(CL·τ), trough and accumulation ratio as closed forms")
  func steadyStateLinear() throws {
    let p = Self.oral, d = 100.0, tau = 7.0
    let doses = try Regimen.flags(loading: nil, dose: d, interval: tau, doses: nil).doses(horizon: 70)
    let m = try calculator().metrics(p, doses: doses, horizon: 70, scale: 1, maintenance: (d, tau, .sc))
    let cl = p.ke * p.Vc, k = p.ke, ka = p.ka
    expectClose(m.aucTauSS!, p.F * d / cl, rel: 1e-6)
    expectClose(m.cavgSS!, p.F * d / (cl * tau), rel: 1e-6)
    // C_ss(τ) = F·D·ka/(V(ka−k))·[e^{−kτ}/(1−e^{−kτ}) − e^{−kaτ}/(1−e^{−kaτ})]
    let trough = p.F * d * ka / (p.Vc * (ka - k)) * (exp(-k * tau) / (1 - exp(-k * tau)) - exp(-ka * tau) / (1 - exp(-ka * tau)))
    expectClose(m.cminSS!, trough, rel: 1e-6)
    // First-interval AUC: F·D/CL·[1 − (ka e^{−kτ} − k e^{−ka τ})/(ka − k)].
    let firstAUC = p.F * d / cl * (1 - (ka * exp(-k * tau) - k * exp(-ka * tau)) / (ka - k))
    expectClose(m.intervals[0].auc, firstAUC, rel: 1e-6)
    expectClose(m.accumulationRatio!, (p.F * d / cl) / firstAUC, rel: 1e-6)
    expectClose(m.intervals[0].cavg, firstAUC / tau, rel: 1e-6)
  }

  @Test("Cmax and Tmax of the first dose from the dense output: tmax = ln(ka/k)/(ka−k)")
  func firstPeak() throws {
    let p = Self.oral, d = 250.0
    let m = try calculator().metrics(p, doses: [Dose(time: 0, amount: d)], horizon: 60, scale: 1, maintenance: nil)
    let tmax = log(p.ka / p.ke) / (p.ka - p.ke)
    let cmax = p.F * d * p.ka / (p.Vc * (p.ka - p.ke)) * (exp(-p.ke * tmax) - exp(-p.ka * tmax))
    expectClose(m.tmaxFirst, tmax, rel: 1e-6)
    expectClose(m.cmaxFirst, cmax, rel: 1e-9)
    #expect(m.cmaxSS == nil && m.accumulationRatio == nil)
  }

  @Test("time above a threshold and washout to the LLOQ: IV bolus, t* = ln(C0/c)/k")
  func thresholdAndWashout() throws {
    let p = PKParameters(ka: 0, F: 1, Vc: 10, ke: 0.1)
    let m = try calculator(threshold: 2).metrics(p, doses: [Dose(time: 0, amount: 100, route: .iv)], horizon: 50, scale: 1, maintenance: nil)
    expectClose(m.timeAboveThresholdPercent!, 100 * log(10.0 / 2) / 0.1 / 50, rel: 1e-8)
    expectClose(m.washout!, log(10 / 0.078) / 0.1, rel: 1e-8)
  }

  @Test("time to steady state: the first trough ≥ 90 % of the steady-state trough")
  func timeToSteadyState() throws {
    let p = PKParameters(ka: 0, F: 1, Vc: 10, ke: 0.05)
    let tau = 7.0
    let doses = try Regimen.flags(loading: nil, dose: 100, interval: tau, doses: nil, route: .iv).doses(horizon: 200)
    let m = try calculator().metrics(p, doses: doses, horizon: 200, scale: 1, maintenance: (100, tau, .iv))
    // Trough before dose n+1: C0 e^{−kτ}(1 − e^{−nkτ})/(1 − e^{−kτ}) ≥ 0.9·C_ss ⇔ n ≥ ln 10/(kτ).
    let n = (log(10.0) / (0.05 * tau)).rounded(.up)
    #expect(m.timeToSS == n * tau)
  }

  @Test("direct steady state equals a long simulation to 1e-6, on every shipped model", arguments: ["kovalenko2020", "kovalenko2016", "zhang2021"])
  func steadyStateVsLongRun(model: String) throws {
    let p = Fixtures.model(model).individual(weight: 75, eta: nil)
    let ss = try SteadyState(simulator: SubjectSimulator(options: Self.tight)).solve(p, amount: 300, interval: 14, route: .sc, scale: 1)
    let horizon = 14.0 * 150
    let doses = try Regimen.flags(loading: nil, dose: 300, interval: 14, doses: nil).doses(horizon: horizon + 1)
    let grid = try OutputGrid(step: 14, horizon: horizon)
    let long = try SubjectSimulator(options: Self.tight).concentrations(p, doses: doses, grid: grid)
    expectClose(ss.cmin, long.last!, rel: 1e-6, "\(model) trough")
    #expect(ss.newtonIterations < 20)
  }

  @Test("a patient who took no dose: zero exposure, no first-dose time, no steady state")
  func noDoses() throws {
    let m = try calculator(threshold: 1).metrics(Self.oral, doses: [], horizon: 30, scale: 1, maintenance: (100, 7, .sc))
    #expect(m.cmaxFirst == 0 && m.tmaxFirst.isNaN && m.cmaxSS == nil && m.washout == nil && m.timeAboveThresholdPercent == 0)
    #expect(m.intervals.isEmpty)
  }

  @Test("per-interval metrics: troughs are the values just before each dose")
  func intervalTroughs() throws {
    let p = Fixtures.model("kovalenko2016").individual(weight: 75, eta: nil)
    let doses = labelDoses(horizon: 100)
    let m = try calculator().metrics(p, doses: doses, horizon: 100, scale: 1, maintenance: (300, 14, .sc))
    let grid = try OutputGrid(step: 14, horizon: 98)
    let c = try SubjectSimulator(options: Self.tight).concentrations(p, doses: doses, grid: grid)
    #expect(m.intervals.count == doses.count)
    for (i, iv) in m.intervals.dropLast().enumerated() {
      expectClose(iv.cmin, c[i + 1], rel: 1e-8)
      #expect(iv.cmax >= max(iv.cmin, c[i]))
    }
  }
}
