import PKCore
import PKNumerics
import Testing

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fixed-seed generator for property tests.
struct PropertyRandom {
  var generator: SplitMix64
  init(seed: UInt64) { generator = SplitMix64(state: seed) }
  mutating func next() -> UInt64 { generator.next() }
  /// Uniform in [a, b).
  mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(next() >> 11) * 0x1p-53 }
  /// Log-uniform in [a, b).
  mutating func logUniform(_ a: Double, _ b: Double) -> Double { exp(uniform(log(a), log(b))) }
  mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
  mutating func bool() -> Bool { next() & 1 == 1 }
}

/// One random case: parameters, doses and the horizon.
struct PropertyCase: CustomStringConvertible {
  var parameters: PKParameters
  var doses: [Dose]
  var horizon: Double
  var description: String { "\(parameters) doses \(doses.map { "\($0.amount)mg \($0.route) @\($0.time)" })" }

  /// A linear one- or two-compartment model (Vm = 0), SC and/or IV doses.
  static func linear(_ r: inout PropertyRandom, route: Route? = nil, twoCompartments: Bool? = nil, maxDoses: Int = 6) -> PropertyCase {
    var p = PKParameters(ka: r.logUniform(0.05, 5), F: r.uniform(0.3, 1), Vc: r.logUniform(1, 20), ke: r.logUniform(0.01, 0.5))
    if twoCompartments ?? r.bool() {
      p.k12 = r.logUniform(0.01, 1)
      p.k21 = r.logUniform(0.01, 1)
    }
    return PropertyCase(parameters: p, doses: randomDoses(&r, route: route, maxDoses: maxDoses), horizon: 90)
  }

  /// A shipped Michaelis–Menten model at a random weight, with Vm and Km scaled by up to 10×.
  static func nonlinear(_ r: inout PropertyRandom, route: Route? = nil, maxDoses: Int = 6) -> PropertyCase {
    let name = ["kovalenko2020", "kovalenko2016", "zhang2021"][r.int(0...2)]
    var p = Fixtures.model(name).individual(weight: r.uniform(40, 140), eta: nil)
    p.Vm *= r.logUniform(0.1, 10)
    p.Km *= r.logUniform(0.1, 10)
    return PropertyCase(parameters: p, doses: randomDoses(&r, route: route, maxDoses: maxDoses), horizon: 90)
  }

  static func randomDoses(_ r: inout PropertyRandom, route: Route?, maxDoses: Int) -> [Dose] {
    let n = r.int(1...maxDoses)
    var times = (0..<n).map { _ in (r.uniform(0, 60) * 4).rounded() / 4 }
    times[0] = 0
    times.sort()
    return times.map { Dose(time: $0, amount: r.logUniform(10, 1000), route: route ?? (r.bool() ? .sc : .iv)) }
  }
}

/// Tolerances derived from the solver's own.
/// - Curves: DESIGN §4 asks the default tolerances (rtol 1e-7) to give curves within 1e-5
///   relative of a tight reference, a factor 100 between the local error the solver controls
///   (`rtol·|y| + atol` per step) and the global error it delivers. Curve comparisons allow that
///   factor: |ΔC| ≤ 100·(rtol·|C| + atol/Vc).
/// - Non-negativity: the true amounts are ≥ 0, so a negative value is a global error and gets
///   the same allowance: −100·atol (amounts), −100·atol/Vc (concentrations).
/// - Mass balance: total drug (held + eliminated) is a linear invariant of the model, which
///   Runge–Kutta and Rosenbrock methods (with the exact Jacobian) conserve step by step, so it
///   must hold to one local tolerance, not a global one. The controller bounds the RMS over the
///   n states of error/(atol + rtol·|y|) by 1, so one component may carry √n of it: the
///   allowance is √n·(rtol·|A| + atol).
enum SolverBound {
  static let globalFactor = 100.0

  static func concentration(_ c: Double, _ options: ODEOptions, vc: Double) -> Double {
    globalFactor * (options.relativeTolerance * Swift.abs(c) + options.absoluteTolerance / vc)
  }

  static func amount(_ a: Double, _ options: ODEOptions) -> Double {
    globalFactor * (options.relativeTolerance * Swift.abs(a) + options.absoluteTolerance)
  }

  static func localAmount(_ a: Double, _ options: ODEOptions, states n: Int) -> Double {
    Double(n).squareRoot() * (options.relativeTolerance * Swift.abs(a) + options.absoluteTolerance)
  }
}

@Suite("Properties of the simulation (seeded random models and regimens)")
struct PropertyTests {
  static let methods: [ODEMethod] = [.auto, .dormandPrince54, .rodas4]
  static let grid = try! OutputGrid(step: 0.25, horizon: 90)

  static func options(_ method: ODEMethod) -> ODEOptions {
    var o = SubjectSimulator.defaultOptions
    o.method = method
    return o
  }

  @Test("concentrations and amounts are never negative (beyond the solver's tolerance)", arguments: methods)
  func nonNegative(method: ODEMethod) throws {
    var r = PropertyRandom(seed: 0x5EED_0001)
    let options = Self.options(method)
    let simulator = SubjectSimulator(options: options)
    for i in 0..<60 {
      let c = i % 2 == 0 ? PropertyCase.linear(&r) : PropertyCase.nonlinear(&r)
      let curve = try simulator.concentrations(c.parameters, doses: c.doses, grid: Self.grid)
      for (k, v) in curve.enumerated() {
        #expect(v.isFinite && v >= -SolverBound.concentration(0, options, vc: c.parameters.Vc), "case \(i) t=\(Self.grid.time(k)): \(v); \(c)")
      }
      var recorder = StateRecorder(times: Self.grid.times.filter { $0 > 0 }, F: c.parameters.F)
      _ = try simulator.simulate(c.parameters, doses: c.doses, grid: nil, end: c.horizon, output: nil, observer: &recorder)
      let layout = StateLayout(transits: c.parameters.ntr)
      for s in recorder.states {
        for j in 0..<layout.dimension { #expect(s[j] >= -SolverBound.amount(0, options), "case \(i) state \(j): \(s[j]); \(c)") }
      }
    }
  }

  @Test("mass balance: F·SC + IV given = drug held + eliminated, at every output time", arguments: methods)
  func massBalance(method: ODEMethod) throws {
    var r = PropertyRandom(seed: 0x5EED_0002)
    let options = Self.options(method)
    let simulator = SubjectSimulator(options: options)
    for i in 0..<60 {
      let c = i % 2 == 0 ? PropertyCase.linear(&r) : PropertyCase.nonlinear(&r)
      let times = Self.grid.times.filter { $0 > 0 }
      var recorder = StateRecorder(times: times, F: c.parameters.F)
      _ = try simulator.simulate(c.parameters, doses: c.doses, grid: nil, end: c.horizon, output: nil, observer: &recorder)
      #expect(recorder.states.count == times.count)
      let layout = StateLayout(transits: c.parameters.ntr)
      for (t, s) in zip(times, recorder.states) {
        // A dose at exactly t is given after the sample (the value just before the dose).
        let given = c.doses.filter { $0.time < t }.reduce(0.0) { $0 + ($1.route == .sc ? c.parameters.F * $1.amount : $1.amount) }
        let held = layout.drugCompartments.reduce(0.0) { $0 + s[$1] }
        let gone = s[layout.eliminatedLinear] + s[layout.eliminatedSaturable]
        #expect(Swift.abs(held + gone - given) <= SolverBound.localAmount(given, options, states: layout.dimension), "case \(i) t=\(t): \(held) + \(gone) vs \(given); \(c)")
        #expect(s[layout.eliminatedLinear] >= -SolverBound.amount(0, options) && s[layout.eliminatedSaturable] >= -SolverBound.amount(0, options))
      }
    }
  }

  /// Whether `values` rise (within `slack`) to their maximum and then fall (within `slack`).
  static func isUnimodal(_ values: [Double], slack: (Double) -> Double) -> (Bool, Int) {
    guard let peak = values.indices.max(by: { values[$0] < values[$1] }) else { return (true, 0) }
    for k in 0..<peak where values[k + 1] < values[k] - slack(values[k]) { return (false, k) }
    for k in peak..<(values.count - 1) where values[k + 1] > values[k] + slack(values[k]) { return (false, k) }
    return (true, peak)
  }

  @Test("after the last dose the curve only declines: at once for IV bolus, after the absorption peak for SC", arguments: methods)
  func declineAfterLastDose(method: ODEMethod) throws {
    var r = PropertyRandom(seed: 0x5EED_0003)
    let options = Self.options(method)
    let simulator = SubjectSimulator(options: options)
    var cases: [(PropertyCase, mustFallAtOnce: Bool)] = []
    // IV bolus only, linear one or two compartments: C = a·e^{−αt} + b·e^{−βt} with a, b > 0.
    for _ in 0..<15 { cases.append((PropertyCase.linear(&r, route: .iv), true)) }
    // IV bolus only, Michaelis–Menten one compartment: dC/dt = −ke·C − Vm·C/(Km + C) < 0.
    for _ in 0..<10 {
      var c = PropertyCase.nonlinear(&r, route: .iv)
      c.parameters.k12 = 0
      c.parameters.k21 = 0
      cases.append((c, true))
    }
    // SC, linear one compartment: a·e^{−kt} − b·e^{−ka·t} changes direction at most once.
    for _ in 0..<15 { cases.append((PropertyCase.linear(&r, route: .sc, twoCompartments: false), false)) }
    // The shipped models after a year of the label regimen (600 mg, then 300 mg q2w).
    for name in ModelValidationTests.models {
      cases.append((PropertyCase(parameters: Fixtures.model(name).individual(weight: 75, eta: nil), doses: labelDoses(horizon: 60), horizon: 90), false))
    }
    for (i, (c, atOnce)) in cases.enumerated() {
      let curve = try simulator.concentrations(c.parameters, doses: c.doses, grid: Self.grid)
      let last = c.doses.map(\.time).max()!
      // Grid rows strictly after the last dose (a row at the dose time holds the value before it).
      let after = (0..<Self.grid.count).filter { Self.grid.time($0) > last + c.parameters.tlag }.map { curve[$0] }
      let slack = { (v: Double) in SolverBound.concentration(v, options, vc: c.parameters.Vc) }
      let (unimodal, k) = Self.isUnimodal(after, slack: slack)
      #expect(unimodal, "case \(i): turns at row \(k) after the last dose; \(c)")
      if atOnce {
        for k in 0..<(after.count - 1) {
          #expect(after[k + 1] <= after[k] + slack(after[k]), "case \(i): rises at row \(k) after an IV bolus; \(c)")
        }
      }
    }
  }

  @Test("linearity on a linear model: dose × 2^k with atol × 2^k gives exactly C × 2^k", arguments: [ODEMethod.dormandPrince54, .rodas4])
  func exactScaling(method: ODEMethod) throws {
    // Scaling every state and atol by a power of two is exact in floating point, so a solver with
    // no hidden nonlinearity takes the very same steps: the curves must agree to the last bit.
    var r = PropertyRandom(seed: 0x5EED_0004)
    for i in 0..<30 {
      let c = PropertyCase.linear(&r)
      let power = Double(sign: .plus, exponent: r.int(-20...20), significand: 1)
      var options = Self.options(method)
      let base = try SubjectSimulator(options: options).concentrations(c.parameters, doses: c.doses, grid: Self.grid)
      options.absoluteTolerance *= power
      let scaledDoses = c.doses.map { Dose(time: $0.time, amount: $0.amount * power, route: $0.route) }
      let scaled = try SubjectSimulator(options: options).concentrations(c.parameters, doses: scaledDoses, grid: Self.grid)
      for k in 0..<Self.grid.count where scaled[k] != base[k] * power {
        Issue.record("case \(i) ×\(power) t=\(Self.grid.time(k)): \(scaled[k]) vs \(base[k] * power); \(c)")
        break
      }
    }
  }

  @Test("linearity on a linear model: dose × a gives C × a, and both match the closed form", arguments: methods)
  func linearity(method: ODEMethod) throws {
    var r = PropertyRandom(seed: 0x5EED_0005)
    let options = Self.options(method)
    let simulator = SubjectSimulator(options: options)
    for i in 0..<40 {
      let c = PropertyCase.linear(&r)
      let a = r.logUniform(0.01, 1000)
      let closed = try LinearClosedForm(parameters: c.parameters)
      let base = try simulator.concentrations(c.parameters, doses: c.doses, grid: Self.grid)
      let scaledDoses = c.doses.map { Dose(time: $0.time, amount: $0.amount * a, route: $0.route) }
      let scaled = try simulator.concentrations(c.parameters, doses: scaledDoses, grid: Self.grid)
      for k in 0..<Self.grid.count {
        let t = Self.grid.time(k)
        let exact = closed.concentration(at: t, doses: c.doses)
        let bound = SolverBound.concentration(exact, options, vc: c.parameters.Vc)
        #expect(Swift.abs(base[k] - exact) <= bound, "case \(i) t=\(t): \(base[k]) vs closed form \(exact); \(c)")
        #expect(
          Swift.abs(scaled[k] - a * base[k]) <= a * bound + SolverBound.concentration(a * exact, options, vc: c.parameters.Vc),
          "case \(i) ×\(a) t=\(t): \(scaled[k]) vs \(a * base[k]); \(c)")
      }
    }
  }

  @Test("time-shift invariance on a linear model: doses later by s give the same curve later by s", arguments: methods)
  func timeShift(method: ODEMethod) throws {
    var r = PropertyRandom(seed: 0x5EED_0006)
    let options = Self.options(method)
    let simulator = SubjectSimulator(options: options)
    let grid = try OutputGrid(step: 0.25, horizon: 150)
    for i in 0..<40 {
      let c = PropertyCase.linear(&r)
      let rows = r.int(1...240)  // shift by rows·step ≤ 60 days (exact in binary: step = 1/4)
      let shift = Double(rows) * grid.step
      let base = try simulator.concentrations(c.parameters, doses: c.doses, grid: grid)
      let shifted = try simulator.concentrations(c.parameters, doses: c.doses.map { Dose(time: $0.time + shift, amount: $0.amount, route: $0.route) }, grid: grid)
      for k in 0...rows { #expect(shifted[k] == 0, "case \(i): drug before the first dose at row \(k)") }
      for k in 0..<(grid.count - rows) {
        let bound = SolverBound.concentration(base[k], options, vc: c.parameters.Vc)
        #expect(Swift.abs(shifted[k + rows] - base[k]) <= bound, "case \(i) shift \(shift) t=\(grid.time(k)): \(shifted[k + rows]) vs \(base[k]); \(c)")
      }
    }
  }
}
