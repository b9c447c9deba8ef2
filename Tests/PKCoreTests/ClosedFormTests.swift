import PKCore
import PKNumerics
import Testing

/// The ODE solution of linear models against their closed forms (superposition over doses).
@Suite("Solver vs closed form (linear models)")
struct ClosedFormTests {
  static let oneCompartment = PKParameters(ka: 0.8, F: 0.7, Vc: 5, ke: 0.1)
  static let twoCompartment = PKParameters(ka: 0.3, F: 0.6, Vc: 3, ke: 0.05, k12: 0.2, k21: 0.3)

  static let doses: [Dose] = {
    var d: [Dose] = []
    for k in 0..<20 { d.append(Dose(time: Double(k) * 7.5, amount: k == 0 ? 500 : 250, route: .sc)) }
    d.append(Dose(time: 30, amount: 100, route: .iv))
    d.append(Dose(time: 30, amount: 50, route: .sc))
    d.append(Dose(time: 100.25, amount: 75, route: .iv))
    return d.sorted { $0.time < $1.time }
  }()

  @Test("max relative error ≤ 1e-6 at rtol 1e-8, 1- and 2-compartment, many doses", arguments: [oneCompartment, twoCompartment])
  func matchesClosedForm(parameters: PKParameters) throws {
    let grid = try OutputGrid(step: 0.25, horizon: 200)
    let simulator = SubjectSimulator(options: ODEOptions(relativeTolerance: 1e-8, absoluteTolerance: 1e-12))
    let numeric = try simulator.concentrations(parameters, doses: Self.doses, grid: grid)
    let exact = try LinearClosedForm(parameters: parameters)
    var worst = 0.0
    for (k, c) in numeric.enumerated() {
      let e = exact.concentration(at: grid.time(k), doses: Self.doses)
      if e > 1e-6 { worst = max(worst, abs(c - e) / e) } else { #expect(abs(c - e) < 1e-9) }
    }
    #expect(worst <= 1e-6, "worst relative error \(worst)")
  }

  @Test("the default tolerances meet the DESIGN accuracy target on linear models", arguments: [oneCompartment, twoCompartment])
  func defaultTolerances(parameters: PKParameters) throws {
    let grid = try OutputGrid(step: 1, horizon: 364)
    let numeric = try SubjectSimulator().concentrations(parameters, doses: Self.doses, grid: grid)
    let exact = try LinearClosedForm(parameters: parameters)
    for (k, c) in numeric.enumerated() {
      let e = exact.concentration(at: grid.time(k), doses: Self.doses)
      if e > 0.01 { expectClose(c, e, rel: 1e-5, "t=\(grid.time(k))") } else { expectClose(c, e, abs: 1e-6, "t=\(grid.time(k))") }
    }
  }

  @Test("closed form: one compartment, single IV bolus, is D/V·e^{−kt}")
  func ivBolusFormula() throws {
    let p = PKParameters(ka: 0, F: 1, Vc: 10, ke: 0.2)
    let cf = try LinearClosedForm(parameters: p)
    expectClose(cf.concentration(at: 3, doses: [Dose(time: 0, amount: 100, route: .iv)]), 10 * exp(-0.6), rel: 1e-15)
    // At a dose time the value is the one just before the dose.
    #expect(cf.concentration(at: 0, doses: [Dose(time: 0, amount: 100, route: .iv)]) == 0)
  }

  @Test("closed form: two-compartment macro constants satisfy α+β = k10+k12+k21 and αβ = k10·k21")
  func macroConstants() throws {
    let p = Self.twoCompartment
    let (a, b) = try LinearClosedForm(parameters: p).rates
    expectClose(a + b, p.ke + p.k12 + p.k21, rel: 1e-14)
    expectClose(a * b, p.ke * p.k21, rel: 1e-14)
  }

  @Test("Rosenbrock (RODAS4) agrees with the closed form too")
  func rosenbrockMatches() throws {
    let grid = try OutputGrid(step: 1, horizon: 120)
    let simulator = SubjectSimulator(options: ODEOptions(relativeTolerance: 1e-8, absoluteTolerance: 1e-12, method: .rodas4))
    let p = Self.twoCompartment
    let numeric = try simulator.concentrations(p, doses: Self.doses, grid: grid)
    let exact = try LinearClosedForm(parameters: p)
    for (k, c) in numeric.enumerated() where grid.time(k) > 0 {
      expectClose(c, exact.concentration(at: grid.time(k), doses: Self.doses), rel: 1e-6)
    }
  }
}
