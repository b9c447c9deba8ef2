import PKNumerics

/// Simulates one subject: integrates the model piecewise between doses (each dose a stop time the
/// solver lands on exactly, then the state jumps) and samples the output grid from the solver's
/// dense output. A grid time equal to a dose time gets the value just before that dose.
///
/// Owns its integrator workspace; reuse one per worker thread across many subjects.
public final class SubjectSimulator {
  public var options: ODEOptions
  private var integrator: ODEIntegrator?
  private var state: [Double] = []
  private var window: WindowIntegrator?
  private var firstDoseWindow: WindowIntegrator?
  /// The absorption chain's exponentials, shared by the patients this simulator runs.
  private let chainExponentials = ChainExponentials()

  /// Default solver settings: chosen by measurement so curves agree with an rtol 1e-11 reference
  /// to ≤ 1e-5 relative where C > 0.01 mg/L and ≤ 1e-6 mg/L absolute below (see README,
  /// "Accuracy", and `ReferenceCurveTests`).
  public static let defaultOptions = ODEOptions(relativeTolerance: 1e-7, absoluteTolerance: 1e-9)

  /// The smallest relative tolerance for which `.auto` uses the exponential fast path.
  public static let fastPathTolerance = 1e-8

  public init(options: ODEOptions = SubjectSimulator.defaultOptions) {
    self.options = options
  }

  /// Work counters of the last integrator used.
  public var statistics: ODEStatistics { integrator?.statistics ?? ODEStatistics() }

  private func integrator(for dimension: Int) -> ODEIntegrator {
    if let existing = integrator, existing.dimension == dimension, existing.options == options {
      return existing
    }
    let made = ODEIntegrator(dimension: dimension, options: options)
    integrator = made
    return made
  }

  /// The doses as they enter the model: SC doses shifted by the absorption lag, in time order.
  public static func effectiveDoses(_ doses: [Dose], parameters: PKParameters) -> [Dose] {
    guard parameters.tlag > 0 else { return doses }
    let shifted = doses.map { d in
      d.route == .sc ? Dose(time: d.time + parameters.tlag, amount: d.amount, route: d.route) : d
    }
    return DoseAdjustments.sortedStable(shifted)
  }

  /// Runs the subject to `end` (at least the grid's last time), writing `scale · A_c/Vc` at every
  /// grid time into `output` (`grid.count` elements), handing every accepted step to `observer`,
  /// and returning the final state.
  /// `initialState` (default: no drug) is the state at t = 0 before any dose; the run ends early
  /// when the observer asks to stop.
  @discardableResult
  public func simulate<Observer: SimulationObserver>(
    _ parameters: PKParameters, doses: [Dose], grid: OutputGrid?, end: Double? = nil,
    scale: Double = 1, output: UnsafeMutablePointer<Double>?, observer: inout Observer,
    initialState: [Double]? = nil
  ) throws -> [Double] {
    let system = CompartmentSystem(parameters: parameters)
    let layout = system.layout
    let integrator = integrator(for: layout.dimension)
    integrator.resetMethodChoice()
    if state.count != layout.dimension { state = [Double](repeating: 0, count: layout.dimension) }
    for i in state.indices { state[i] = initialState?[i] ?? 0 }
    let finalTime = Swift.max(end ?? 0, grid?.lastTime ?? 0)
    var sampler = GridSampler(
      grid: grid, output: output, central: layout.central, factor: scale / parameters.Vc, inner: observer)
    let doses = Self.effectiveDoses(doses, parameters: parameters)
    try state.withUnsafeMutableBufferPointer { buffer in
      let y = buffer.baseAddress!
      var t = 0.0
      sampler.sampleUpTo(0, state: y)
      for dose in doses {
        if dose.time > t {
          if sampler.stopRequested { return }
          t = try integrator.advance(system, state: y, from: t, to: dose.time, observer: &sampler)
          if t < dose.time { return }  // the observer stopped the run inside the segment
        }
        sampler.inner.doseGiven(dose, at: t, state: UnsafePointer(y), layout: layout)
        switch dose.route {
        case .sc: y[layout.depot] += parameters.F * dose.amount
        case .iv: y[layout.central] += dose.amount
        }
      }
      if finalTime > t && !sampler.stopRequested {
        try integrator.advance(system, state: y, from: t, to: finalTime, observer: &sampler)
      }
    }
    observer = sampler.inner
    return state
  }

  /// Concentrations on the grid (convenience for one subject).
  public func concentrations(_ parameters: PKParameters, doses: [Dose], grid: OutputGrid, scale: Double = 1) throws
    -> [Double]
  {
    var out = [Double](repeating: 0, count: grid.count)
    try out.withUnsafeMutableBufferPointer { try sample(parameters, doses: doses, grid: grid, scale: scale, output: $0.baseAddress!) }
    return out
  }

  /// Samples `scale·A_c/Vc` on the grid into `output`: by the exponential fast path when the
  /// method is `.auto` and the tolerance asked for is one it meets (rtol ≥ 1e-8; its error is
  /// ≲ 3e-7 relative on the label regimens and ≲ 2e-6 through washouts, see `ExponentialPath`), otherwise by the adaptive integrator.
  public func sample(_ parameters: PKParameters, doses: [Dose], grid: OutputGrid, scale: Double = 1, output: UnsafeMutablePointer<Double>) throws {
    try sample([parameters], doses: doses, grid: grid, scale: scale, outputs: [output])
  }

  /// The largest group `sample(_:doses:grid:scale:outputs:)` runs side by side.
  public static let groupSize = ExponentialLanes.width

  /// `sample` for a group of patients given the same doses (up to `groupSize` side by side on the
  /// fast path, `ExponentialLanes`; more are taken in groups). Each patient's values are the same
  /// as when sampled alone. Grid time k of patient i goes to `outputs[i][k·outputStride]` (a
  /// stride above 1 writes straight into a column-major batch).
  public func sample(
    _ group: [PKParameters], doses: [Dose], grid: OutputGrid, scale: Double = 1, outputs: [UnsafeMutablePointer<Double>], outputStride: Int = 1
  ) throws {
    precondition(group.count == outputs.count && outputStride >= 1)
    if group.count > Self.groupSize {
      var first = 0
      while first < group.count {
        let slice = first..<Swift.min(group.count, first + Self.groupSize)
        try sample(Array(group[slice]), doses: doses, grid: grid, scale: scale, outputs: Array(outputs[slice]), outputStride: outputStride)
        first = slice.upperBound
      }
      return
    }
    var adaptively = Array(group.indices)
    let sameChain = group.allSatisfy { $0.ntr == group[0].ntr && $0.tlag == group[0].tlag }
    if options.method == .auto && options.relativeTolerance >= Self.fastPathTolerance && !group.isEmpty && sameChain {
      let systems = group.map { CompartmentSystem(parameters: $0) }
      let integrator = integrator(for: systems[0].dimension)
      var full = [Double](repeating: 0, count: systems[0].dimension)
      // Per patient: whether a window was too stiff for the compact integrator (then RODAS4 takes
      // this patient's later windows too, as `.auto` would; never shared between lanes).
      var stiff = [Bool](repeating: false, count: group.count)
      var lanes = ExponentialLanes(parameters: group, chainExponentials: chainExponentials)
      let drug = lanes.paths[0].n
      // The windows run at the tolerance asked for, except those that start with no drug in
      // circulation (the first dose): those run at 10× it. The first-dose window is the transit
      // model's main cost (1.6× the steps at 1×), and its error is not what limits the curve
      // (label regimen: errors unchanged at 10× and 100×); a window at a washout cliff is (300 mg
      // q4w: 8e-6 relative at 10×, 1.2e-6 at 1×).
      let windowTolerance = (relative: options.relativeTolerance, absolute: options.absoluteTolerance)
      if window == nil || window!.rtol != windowTolerance.relative || window!.atol != windowTolerance.absolute {
        window = WindowIntegrator(relativeTolerance: windowTolerance.relative, absoluteTolerance: windowTolerance.absolute)
        firstDoseWindow = WindowIntegrator(relativeTolerance: 10 * windowTolerance.relative, absoluteTolerance: 10 * windowTolerance.absolute)
      }
      let careful = window!, firstDose = firstDoseWindow!
      let central = lanes.paths[0].central
      /// The integrator for a window from amounts `y` (one patient's): `firstDose` where the
      /// central and peripheral compartments hold no drug.
      func compact(_ y: UnsafeMutablePointer<Double>) -> WindowIntegrator {
        y[central] == 0 && y[central + 1] == 0 ? firstDose : careful
      }
      let models = lanes.paths.map { WindowIntegrator.Model($0.parameters, $0.N) }
      let paths = lanes.paths
      let laneModel = WindowIntegrator.Model<SIMD8<Double>>(chain: paths[0].central) { (paths[$0].parameters, paths[$0].N) }
      let ok = try lanes.sample(
        doses: Self.effectiveDoses(doses, parameters: group[0]), grid: grid, factors: group.map { scale / $0.Vc }, outputs: outputs,
        outputStride: outputStride
      ) { l, y, t0, t1 in
        if !stiff[l], compact(y).advance(models[l], y, from: t0, to: t1) { return }
        // Stiff (or not finite): RODAS4, from here on for this patient.
        stiff[l] = true
        // Only the drug amounts matter here; the tracking states restart from 0.
        for i in 0..<full.count { full[i] = i < drug ? y[i] : 0 }
        var none = IgnoreSteps()
        integrator.stiffnessDetected = true
        try full.withUnsafeMutableBufferPointer {
          _ = try integrator.advance(systems[l], state: $0.baseAddress!, from: t0, to: t1, observer: &none)
        }
        for i in 0..<drug { y[i] = full[i] }
      } adaptiveLanes: { taking, y, t0, t1 in
        // Lanes already on RODAS4 go alone (not done).
        let lanes = taking.indices.map { taking[$0] && !stiff[$0] }
        // Side by side only where every lane taking part uses the same integrator.
        var fresh = 0, used = 0
        for l in lanes.indices where lanes[l] {
          used += 1
          if y[central][l] == 0 && y[central + 1][l] == 0 { fresh += 1 }
        }
        guard fresh == 0 || fresh == used else { return [Bool](repeating: false, count: lanes.count) }
        let compact = fresh > 0 ? firstDose : careful
        return compact.advance(laneModel, y, from: t0, to: t1, lanes: lanes)
      }
      adaptively = group.indices.filter { !ok[$0] }
    }
    for i in adaptively {
      var none = NoSimulationObserver()
      guard outputStride != 1 else {
        _ = try simulate(group[i], doses: doses, grid: grid, scale: scale, output: outputs[i], observer: &none)
        continue
      }
      var row = [Double](repeating: 0, count: grid.count)
      try row.withUnsafeMutableBufferPointer {
        _ = try simulate(group[i], doses: doses, grid: grid, scale: scale, output: $0.baseAddress!, observer: &none)
      }
      for k in 0..<grid.count { outputs[i][k * outputStride] = row[k] }
    }
  }
}

/// Sees a subject's simulation as it runs: every dose (with the state just before it) and every
/// accepted solver step (with its continuous extension).
public protocol SimulationObserver {
  mutating func doseGiven(_ dose: Dose, at time: Double, state: UnsafePointer<Double>, layout: StateLayout)
  mutating func observe(_ step: DenseStep)
  /// When true, the simulation ends after the current step.
  var stopRequested: Bool { get }
}

extension SimulationObserver {
  public var stopRequested: Bool { false }
  public mutating func doseGiven(_ dose: Dose, at time: Double, state: UnsafePointer<Double>, layout: StateLayout) {}
  public mutating func observe(_ step: DenseStep) {}
}

public struct NoSimulationObserver: SimulationObserver {
  public init() {}
}

/// Samples `factor · y[central]` at each grid time in `(step.start, step.end]` and forwards the
/// step to an inner observer.
struct GridSampler<Inner: SimulationObserver>: ODEStepObserver {
  let grid: OutputGrid?
  let output: UnsafeMutablePointer<Double>?
  let central: Int
  let factor: Double
  var inner: Inner
  var next = 0

  init(grid: OutputGrid?, output: UnsafeMutablePointer<Double>?, central: Int, factor: Double, inner: Inner) {
    self.grid = grid
    self.output = output
    self.central = central
    self.factor = factor
    self.inner = inner
  }

  /// Samples grid times ≤ `t` from a state (the initial state, before any dose).
  mutating func sampleUpTo(_ t: Double, state: UnsafePointer<Double>) {
    guard let grid, let output else { return }
    while next < grid.count && grid.time(next) <= t {
      output[next] = factor * state[central]
      next += 1
    }
  }

  var stopRequested: Bool { inner.stopRequested }

  mutating func observe(_ step: DenseStep) {
    if let grid, let output {
      while next < grid.count {
        let t = grid.time(next)
        guard t <= step.end else { break }
        output[next] = factor * step.value(central, at: t)
        next += 1
      }
    }
    inner.observe(step)
  }
}
