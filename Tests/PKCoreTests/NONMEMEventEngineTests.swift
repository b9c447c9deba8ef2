import PKCore
import PKNumerics
import Testing

/// The dataset engine against closed forms written out by hand, and its steady state against the
/// superposition of a long transient history: independent of the NONMEM reference runs.
@Suite("NONMEM datasets: event engine and one-compartment solutions")
struct NONMEMEventEngineTests {
  /// The nmtests model: KA 1.5, K = 1.1/20, V 20, output 1000·A₂/V.
  static let nmModel = OneCompartmentDepotModel(ka: 1.5, k: 1.1 / 20, volume: 20, outputScale: 1000)
  static let header = "ID,TIME,EVID,AMT,CMT,RATE,II,ADDL,SS,LAGT,BIOAV,DUR2"

  /// Outputs after every record.
  static func outputs(_ rows: [String], model: OneCompartmentDepotModel = nmModel) throws -> [Double] {
    try result(rows, model: model).outputs
  }

  static func result(_ rows: [String], model: OneCompartmentDepotModel = nmModel) throws -> NMSimulationResult {
    let dataset = try NMDatasetParser.parse(([header] + rows).joined(separator: "\n"), source: "test")
    return try NMDatasetSimulator.simulate(dataset, model: model)
  }

  /// Observation rows `ID,t,0,0,2,0,0,0,0,0,1,0` for each time.
  static func observations(_ times: [Double], id: Int = 1) -> [String] {
    times.map { "\(id),\($0),0,0,2,0,0,0,0,0,1,0" }
  }

  static func close(_ a: Double, _ b: Double, rel: Double = 1e-12, abs: Double = 1e-12) -> Bool {
    Swift.abs(a - b) <= Swift.max(abs, rel * Swift.max(Swift.abs(a), Swift.abs(b)))
  }

  static let k = 1.1 / 20, ka = 1.5

  @Test("bolus into the central compartment: CP = 1000·AMT/V·e^{−kt}")
  func centralBolus() throws {
    let times = [0.0, 0.5, 1, 10, 100]
    let out = try Self.outputs(["1,0,1,100,2,0,0,0,0,0,1,0"] + Self.observations(times))
    #expect(out[0] == 5000)
    for (t, v) in zip(times, out.dropFirst()) {
      #expect(Self.close(v, 5000 * exp(-Self.k * t)), "t = \(t): \(v)")
    }
  }

  @Test("bolus into the depot: CP = 1000/V·AMT·ka/(ka − k)·(e^{−kt} − e^{−ka t})")
  func depotBolus() throws {
    let times = [0.0, 0.25, 1, 3, 24, 130]
    let out = try Self.outputs(["1,0,1,100,1,0,0,0,0,0,1,0"] + Self.observations(times))
    for (t, v) in zip(times, out.dropFirst()) {
      let expected = 1000.0 / 20 * 100 * Self.ka / (Self.ka - Self.k) * (exp(-Self.k * t) - exp(-Self.ka * t))
      #expect(Self.close(v, expected), "t = \(t): \(v) vs \(expected)")
    }
  }

  @Test("F changes an infusion's duration, not its rate: 480 mg at 10/h with F2 0.5 runs 24 h")
  func bioavailabilityScalesDuration() throws {
    let times = [12.0, 24, 36]
    let out = try Self.outputs(["1,0,1,480,2,10,0,0,0,0,0.5,0"] + Self.observations(times))
    let plateau = { (t: Double) in 1000.0 / 20 * 10 / Self.k * (1 - exp(-Self.k * t)) }
    #expect(Self.close(out[1], plateau(12)))
    #expect(Self.close(out[2], plateau(24)))
    #expect(Self.close(out[3], plateau(24) * exp(-Self.k * 12)))
  }

  @Test("RATE −2: the dose F2·AMT runs over D2 at F2·AMT/D2")
  func modeledDuration() throws {
    let out = try Self.outputs(["1,0,1,480,2,-2,0,0,0,0,0.5,48", "1,48,0,0,2,0,0,0,0,0,0.5,48"])
    #expect(Self.close(out[1], 1000.0 / 20 * 5 / Self.k * (1 - exp(-Self.k * 48))))
  }

  @Test("depot infusion: A₂ = R·ka·[(1 − e^{−kt})/k − (1 − e^{−ka t})/ka]/(ka − k)")
  func depotInfusion() throws {
    let times = [0.5, 2, 12]
    let out = try Self.outputs(["1,0,1,120,1,10,0,0,0,0,1,0"] + Self.observations(times))
    for (t, v) in zip(times, out.dropFirst()) {
      let a2 = 10 * Self.ka * ((1 - exp(-Self.k * t)) / Self.k - (1 - exp(-Self.ka * t)) / Self.ka) / (Self.ka - Self.k)
      #expect(Self.close(v, 1000 * a2 / 20), "t = \(t)")
    }
  }

  @Test("records at equal times act in file order: an observation before a dose sees the trough")
  func fileOrderAtEqualTimes() throws {
    let out = try Self.outputs(["1,0,1,100,2,0,0,0,0,0,1,0", "1,24,0,0,2,0,0,0,0,0,1,0", "1,24,1,100,2,0,0,0,0,0,1,0", "1,24,0,0,2,0,0,0,0,0,1,0"])
    let trough = 5000 * exp(-Self.k * 24)
    #expect(Self.close(out[1], trough))
    #expect(Self.close(out[2], trough + 5000))
    #expect(out[3] == out[2])
  }

  @Test("a lagged dose and an additional dose due at a record's time enter before it")
  func dueDosesBeforeRecord() throws {
    let out = try Self.outputs(["1,0,1,100,2,0,24,1,0,4,1,0"] + Self.observations([3, 4, 27, 28]))
    #expect(out[1] == 0)
    #expect(out[2] == 5000)
    #expect(Self.close(out[4], 5000 * exp(-Self.k * 24) + 5000))
  }

  @Test("EVID 3 zeroes the amounts and drops running infusions and pending doses; EVID 4 then doses")
  func resets() throws {
    let out = try Self.outputs([
      "1,0,1,100,2,1,12,3,0,0,1,0",  // 100 h infusions every 12 h
      "1,5,0,0,2,0,0,0,0,0,1,0",
      "1,6,3,0,2,0,0,0,0,10,1,0",  // reset (its lag column is not applied to it)
      "1,6,0,0,2,0,0,0,0,0,1,0",
      "1,50,0,0,2,0,0,0,0,0,1,0",
      "1,60,4,100,2,0,0,0,0,0,1,0",
      "1,61,0,0,2,0,0,0,0,0,1,0",
    ])
    #expect(out[1] > 0)
    #expect(out[2] == 0 && out[3] == 0 && out[4] == 0)
    #expect(out[5] == 5000)
    #expect(Self.close(out[6], 5000 * exp(-Self.k)))
  }

  /// A steady-state record versus the same dose given every II for 400 intervals before it.
  struct SteadyStateCase: CustomTestStringConvertible, Sendable {
    var label: String
    var amount: Double, compartment: Int, rate: Double, interval: Double, lag: Double, fraction: Double
    var testDescription: String { label }
  }

  static let steadyStateCases: [SteadyStateCase] = [
    .init(label: "bolus into the depot", amount: 100, compartment: 1, rate: 0, interval: 12, lag: 0, fraction: 1),
    .init(label: "bolus into central, lag 4, F 0.412", amount: 100, compartment: 2, rate: 0, interval: 24, lag: 4, fraction: 0.412),
    .init(label: "infusion into central shorter than II, lag 3.16", amount: 100, compartment: 2, rate: 10, interval: 24, lag: 3.16, fraction: 0.412),
    .init(label: "infusion into central 50 h, II 12, lag 5 (five running at once)", amount: 100, compartment: 2, rate: 2, interval: 12, lag: 5, fraction: 1),
    .init(label: "infusion into central with duration = II", amount: 100, compartment: 2, rate: 10, interval: 10, lag: 0, fraction: 1),
    .init(label: "infusion into the depot 30 h, II 8, lag 2", amount: 90, compartment: 1, rate: 3, interval: 8, lag: 2, fraction: 1),
    .init(label: "bolus into central, lag 30 ≥ II 24 (periodic steady state)", amount: 100, compartment: 2, rate: 0, interval: 24, lag: 30, fraction: 1),
    .init(label: "infusion into central, lag 17 ≥ II 12, 40.6 h", amount: 100, compartment: 2, rate: 2, interval: 12, lag: 17, fraction: 0.812),
  ]

  @Test("SS = 1 equals the superposition of an infinite history of lagged doses", arguments: steadyStateCases)
  func steadyStateIsTheLimit(_ c: SteadyStateCase) throws {
    let cycles = 400
    let t0 = Double(cycles) * c.interval
    let times = stride(from: 0.0, through: 3 * c.interval + c.lag + 60, by: 0.5).map { t0 + $0 }
    func dose(_ t: Double, ss: Int, addl: Int) -> String {
      "1,\(t),1,\(c.amount),\(c.compartment),\(c.rate),\(c.interval),\(addl),\(ss),\(c.lag),\(c.fraction),0"
    }
    let steady = try Self.outputs([dose(t0, ss: 1, addl: 3)] + Self.observations(times))
    let history = try Self.outputs([dose(0, ss: 0, addl: cycles + 3)] + Self.observations(times))
    #expect(steady.count == history.count)
    let scale = history.max() ?? 1
    for i in 1..<steady.count {
      #expect(Self.close(steady[i], history[i], rel: 1e-10, abs: 1e-11 * scale), "t = \(times[i - 1] - t0) after the SS record: \(steady[i]) vs \(history[i])")
    }
    let flagged = try Self.result([dose(t0, ss: 1, addl: 3)]).lagAtLeastIntervalRecords.count
    #expect(flagged == (c.lag >= c.interval ? 1 : 0))
  }

  @Test("SS = 2 adds the steady state to the current state and keeps pending doses")
  func steadyStateTwoAdds() throws {
    let times = [12.0, 13, 20, 30, 36, 37, 60]
    let first = "1,0,1,50,1,0,24,3,0,0,1,0"
    let second = { (ss: Int) in "1,12,1,100,2,10,24,2,\(ss),2,0.8,0" }
    let both = try Self.outputs([first, second(2)] + Self.observations(times))
    let onlyFirst = try Self.outputs([first, "1,12,0,0,2,0,0,0,0,0,1,0"] + Self.observations(times))
    let onlySecond = try Self.outputs(["1,12,0,0,2,0,0,0,0,0,1,0", second(1)] + Self.observations(times))
    for i in 2..<both.count {
      #expect(Self.close(both[i], onlyFirst[i] + onlySecond[i], rel: 1e-12, abs: 1e-9), "t = \(times[i - 2])")
    }
    // SS = 1 instead replaces what the first record left.
    let replaced = try Self.outputs([first, second(1)] + Self.observations(times))
    #expect(zip(replaced.dropFirst(2), onlySecond.dropFirst(2)).allSatisfy { $0 == $1 })
  }

  @Test("steady-state constant infusion: amounts R/ka and R/k, no F, no lag, stopped at the record")
  func constantInfusion() throws {
    for compartment in [1, 2] {
      let out = try Self.outputs(["1,0,1,0,\(compartment),100,0,0,1,5,0.3,0"] + Self.observations([0, 10]))
      #expect(Self.close(out[0], 1000 * 100 / Self.k / 20))
      let decayed = compartment == 2
        ? out[0] * exp(-Self.k * 10)
        : 1000.0 / 20 * (100 / Self.k * exp(-Self.k * 10) + 100 / Self.ka * Self.ka * (exp(-Self.k * 10) - exp(-Self.ka * 10)) / (Self.ka - Self.k))
      #expect(Self.close(out[2], decayed), "compartment \(compartment)")
    }
  }

  @Test("model F and tlag act on depot doses only; columns override them per record")
  func depotDefaults() throws {
    let model = OneCompartmentDepotModel(ka: 1.5, k: 0.055, volume: 20, outputScale: 1000, depotBioavailability: 0.5, depotLag: 2)
    let depot = try Self.outputs(["1,0,1,100,1,0,0,0,0,0,1,0"] + Self.observations([2, 5]), model: model)
    let reference = try Self.outputs(["1,2,1,50,1,0,0,0,0,0,1,0", "1,5,0,0,2,0,0,0,0,0,1,0"])
    #expect(depot[1] == 0)
    #expect(Self.close(depot[2], reference[1]))
    let central = try Self.outputs(["1,0,1,100,2,0,0,0,0,0,1,0"], model: model)
    #expect(central[0] == 5000)
    let header = "ID,TIME,AMT,CMT,ALAG1,F1"
    let overridden = try NMDatasetSimulator.simulate(
      try NMDatasetParser.parse(header + "\n1,0,100,1,0,1\n1,5,0,2,0,1\n", source: "test"), model: model)
    let plain = try Self.outputs(["1,0,1,100,1,0,0,0,0,0,1,0", "1,5,0,0,2,0,0,0,0,0,1,0"])
    #expect(Self.close(overridden.outputs[1], plain[1]))
  }

  @Test("ka = k (flip-flop limit): A₂ = AMT·k·t·e^{−kt} for a depot bolus, exact and continuous")
  func equalRates() throws {
    let k = 0.2
    let equal = OneCompartmentDepotModel(ka: k, k: k, volume: 1)
    let times = [0.001, 1, 5, 50, 400]
    let bolus = try Self.outputs(["1,0,1,1,1,0,0,0,0,0,1,0"] + Self.observations(times), model: equal)
    for (t, v) in zip(times, bolus.dropFirst()) {
      #expect(Self.close(v, k * t * exp(-k * t), rel: 1e-13), "t = \(t)")
    }
    let infusion = try Self.outputs(["1,0,1,1000,1,1,0,0,0,0,1,0"] + Self.observations(times), model: equal)
    for (t, v) in zip(times, infusion.dropFirst()) {
      #expect(Self.close(v, (1 - exp(-k * t) * (1 + k * t)) / k, rel: 1e-12), "t = \(t)")
    }
    for delta in [1e-9, 1e-6, 1e-3, 0.05] {
      let near = OneCompartmentDepotModel(ka: k * (1 + delta), k: k, volume: 1)
      let v = try Self.outputs(["1,0,1,1000,1,1,0,0,0,0,1,0"] + Self.observations([5]), model: near)
      let a = k * (1 + delta)
      let exact = a * ((1 - exp(-k * 5)) / k - (1 - exp(-a * 5)) / a) / (a - k)
      #expect(Self.close(v[1], exact, rel: delta < 1e-4 ? 1e-7 : 1e-11), "ka = k·(1 + \(delta))")
    }
  }

  @Test("no elimination or no absorption: amounts stay, and steady state is refused")
  func zeroRates() throws {
    let noElimination = OneCompartmentDepotModel(ka: 1, k: 0, volume: 10)
    let kept = try Self.outputs(["1,0,1,10,2,0,0,0,0,0,1,0"] + Self.observations([100]), model: noElimination)
    #expect(kept[1] == 1)
    let noAbsorption = OneCompartmentDepotModel(ka: 0, k: 0.1, volume: 10)
    let never = try Self.outputs(["1,0,1,10,1,0,0,0,0,0,1,0"] + Self.observations([100]), model: noAbsorption)
    #expect(never[1] == 0)
    #expect(throws: DatasetError.self) { try Self.outputs(["1,0,1,10,2,0,12,0,1,0,1,0"], model: noElimination) }
    #expect(throws: DatasetError.self) { try Self.outputs(["1,0,1,10,1,0,12,0,1,0,1,0"], model: noAbsorption) }
    #expect(throws: Never.self) { try Self.outputs(["1,0,1,10,2,0,12,0,1,0,1,0"], model: noAbsorption) }
  }

  @Test("the closed-form model refuses structures it does not solve")
  func refusesOtherModels() {
    let twoCompartment = PKParameters(ka: 0.25, F: 0.6, Vc: 2.7, ke: 0.05, k12: 0.07, k21: 0.13)
    #expect(throws: DatasetError.self) { try OneCompartmentDepotModel(parameters: twoCompartment, outputScale: 1, modelName: "twocmt") }
    let saturable = PKParameters(ka: 0.25, F: 0.6, Vc: 2.7, ke: 0.05, Vm: 1, Km: 0.01)
    #expect(throws: DatasetError.self) { try OneCompartmentDepotModel(parameters: saturable, outputScale: 1, modelName: "mm") }
    let one = PKParameters(ka: 1.5, F: 0.7, Vc: 20, ke: 0.055, tlag: 0.5)
    let model = try? OneCompartmentDepotModel(parameters: one, outputScale: 1000, modelName: "onecmt")
    #expect(model == OneCompartmentDepotModel(ka: 1.5, k: 0.055, volume: 20, outputScale: 1000, depotBioavailability: 0.7, depotLag: 0.5))
  }
}
