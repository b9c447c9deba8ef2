import PKCore
import PKNumerics
import Testing

/// Extreme but legal parameters over 50 years of the label regimen: each run either finishes
/// with non-negative, mass-conserving results, or stops with a solver error that names the time
/// reached. Nothing hangs: every run is bounded by the per-segment step budget.
struct ExtremeCase: Sendable, CustomTestStringConvertible {
  var name: String
  var overrides: [(ParameterName, Double)]
  var route: Route = .sc
  var method: ODEMethod
  /// Whether the run must finish (false: a clean solver error is acceptable too).
  var mustFinish: Bool

  var testDescription: String { "\(name), \(method.rawValue)" }

  static let all: [ExtremeCase] = [ODEMethod.dormandPrince54, .rodas4].flatMap { m in
    [
      ExtremeCase(name: "ka = 1000/day", overrides: [(.ka, 1000)], method: m, mustFinish: true),
      ExtremeCase(name: "ka = 1e-4/day", overrides: [(.ka, 1e-4)], method: m, mustFinish: true),
      ExtremeCase(name: "Km = 1e-9 mg/L", overrides: [(.Km, 1e-9)], method: m, mustFinish: m == .rodas4),
      ExtremeCase(name: "Vm = 1e4 mg/L/day, IV: gone within the hour", overrides: [(.Vm, 1e4)], route: .iv, method: m, mustFinish: m == .rodas4),
      ExtremeCase(name: "Vm = 1e6 mg/L/day", overrides: [(.Vm, 1e6)], method: m, mustFinish: m == .rodas4),
      ExtremeCase(name: "Vm = 1e6, Km = 1e-9", overrides: [(.Vm, 1e6), (.Km, 1e-9)], method: m, mustFinish: false),
    ]
  }
}

@Suite("Extreme but legal parameters, 50-year horizons")
struct PropertyExtremesTests {
  static let years = 50.0
  static let horizon = years * 365.25

  @Test("finish with non-negative, mass-conserving results, or stop cleanly naming the time reached", arguments: ExtremeCase.all)
  func extremes(_ c: ExtremeCase) throws {
    var p = Fixtures.model("kovalenko2020").individual(weight: 75, eta: nil)
    for (name, value) in c.overrides { p[name] = value }
    #expect(p.problems().isEmpty)
    var options = SubjectSimulator.defaultOptions
    options.method = c.method
    let doses = try Regimen(phases: [Regimen.Phase(amount: 600), Regimen.Phase(amount: 300, interval: 14)], route: c.route).doses(horizon: Self.horizon)
    let times = stride(from: 7.0, through: Self.horizon, by: 7).map { $0 }
    var recorder = StateRecorder(times: times, F: p.F)
    let simulator = SubjectSimulator(options: options)
    let clock = ContinuousClock()
    let start = clock.now
    do {
      _ = try simulator.simulate(p, doses: doses, grid: nil, end: Self.horizon, output: nil, observer: &recorder)
    } catch let error as ODEError {
      let t = error.timeReached
      #expect(!c.mustFinish, "\(c.testDescription) gave up: \(error)")
      #expect(t.isFinite && t >= 0 && t <= Self.horizon, "\(error)")
      #expect(error.description.contains("t = "), "\(error)")
      return
    }
    let elapsed = clock.now - start
    // Bounded: 1,305 dose segments of at most `maxSteps` steps each; in practice a few seconds.
    #expect(elapsed < .seconds(60), "\(c.testDescription) took \(elapsed)")
    #expect(recorder.states.count == times.count)
    let layout = StateLayout(transits: p.ntr)
    for (t, s) in zip(times, recorder.states) {
      let given = doses.filter { $0.time < t }.reduce(0.0) { $0 + ($1.route == .sc ? p.F * $1.amount : $1.amount) }
      let held = layout.drugCompartments.reduce(0.0) { $0 + s[$1] }
      let gone = s[layout.eliminatedLinear] + s[layout.eliminatedSaturable]
      #expect(Swift.abs(held + gone - given) <= SolverBound.localAmount(given, options, states: layout.dimension), "\(c.testDescription) t=\(t): \(held) + \(gone) vs \(given)")
      for j in 0..<layout.dimension {
        #expect(s[j].isFinite && s[j] >= -SolverBound.amount(0, options), "\(c.testDescription) t=\(t) state \(j): \(s[j])")
      }
    }
  }
}
