import PKCore
import PKNumerics
import Testing

/// Stiff corners: the Rosenbrock method with the right-hand Jacobian of the saturable term, and
/// `.auto` handing stiff segments to it.
@Suite("Stiff parameters")
struct StiffFallbackTests {
  @Test("RODAS4 finishes Vm = 1e6, Km = 1e-9 (drug gone in minutes) in few steps, mass conserved")
  func rosenbrockSaturable() throws {
    var p = Fixtures.model("kovalenko2016").individual(weight: 75, eta: nil)
    p.Vm = 1e6
    p.Km = 1e-9
    let simulator = SubjectSimulator(options: ODEOptions(method: .rodas4))
    var recorder = StateRecorder(times: [30], F: p.F)
    let end = try simulator.simulate(p, doses: [Dose(time: 0, amount: 300, route: .iv)], grid: nil, end: 30, output: nil, observer: &recorder)
    let layout = StateLayout(transits: 0)
    let held = layout.drugCompartments.reduce(0.0) { $0 + end[$1] }
    expectClose(held + end[layout.eliminatedLinear] + end[layout.eliminatedSaturable], 300, rel: 1e-6)
    #expect(simulator.statistics.acceptedSteps + simulator.statistics.rejectedSteps < 2000, "\(simulator.statistics)")
  }

  @Test("auto: a stiff segment is redone by RODAS4, which stays in use; results match rodas4 alone")
  func autoSwitches() throws {
    var p = Fixtures.model("kovalenko2016").individual(weight: 75, eta: nil)
    p.ka = 2e4
    let doses = labelDoses(horizon: 120)
    let calc = MetricsCalculator(simulator: SubjectSimulator(options: ODEOptions(relativeTolerance: 1e-7, absoluteTolerance: 1e-9, method: .auto)))
    let auto = try calc.metrics(p, doses: doses, horizon: 120, scale: 1, maintenance: (300, 14, .sc))
    let implicit = try MetricsCalculator(simulator: SubjectSimulator(options: ODEOptions(relativeTolerance: 1e-7, absoluteTolerance: 1e-9, method: .rodas4)))
      .metrics(p, doses: doses, horizon: 120, scale: 1, maintenance: (300, 14, .sc))
    #expect(calc.simulator.statistics.jacobianEvaluations > 0)
    expectClose(auto.cmaxFirst, implicit.cmaxFirst, rel: 1e-5)
    expectClose(auto.intervals[3].auc, implicit.intervals[3].auc, rel: 1e-5)
    expectClose(auto.washout!, implicit.washout!, rel: 1e-4)
  }
}
