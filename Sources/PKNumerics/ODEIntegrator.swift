/// An adaptive ODE integrator that advances a state exactly to given stop times.
///
/// Give it the segments between discontinuities (doses): `advance(_:state:from:to:observer:)`
/// lands on `to` exactly (the last step is clamped; a step within 1 % of the stop is stretched to
/// it, so no sliver steps), evaluates `f` afresh at the start of every call (so a state jump
/// between calls is seen, and the FSAL stage is never stale) and resets the step-size
/// controller's error history. Each accepted step is handed to an observer with its continuous
/// extension, so output grids are sampled without shortening steps.
///
/// One integrator owns a fixed workspace, allocated once; reuse it across segments and subjects.
/// It is not thread-safe: give each worker its own.
public final class ODEIntegrator {
  public let dimension: Int
  public var options: ODEOptions
  public private(set) var statistics = ODEStatistics()

  private let erk = ExplicitRungeKuttaTableau.dormandPrince54
  private let ros = RosenbrockTableau.rodas4
  private let stages: Int
  private let storage: UnsafeMutablePointer<Double>
  private let pivots: UnsafeMutablePointer<Int>
  private let y0, y1, yStage, scratch, k, jacobian, matrix, denseU, denseV, erkDense, weights:
    UnsafeMutablePointer<Double>
  /// The tableaus' coefficients, copied into the workspace so the step loops read raw memory
  /// (no array bounds checks or reference counting in the hot path).
  private let erkA, erkE, rosA, rosC, rosM, rosE, rosD1, rosD2: UnsafeMutablePointer<Double>
  private let erkStages, rosStages: Int

  /// Steps per segment after which `.auto` takes a segment to be stiff and switches to RODAS4.
  public static let autoExplicitBudget = 20_000

  /// Whether `.auto` has met a stiff segment (and now uses RODAS4).
  public var stiffnessDetected = false

  /// Lets `.auto` start again with the explicit method (call before each new subject).
  public func resetMethodChoice() { stiffnessDetected = false }

  public init(dimension: Int, options: ODEOptions = ODEOptions()) {
    precondition(dimension > 0, "an ODE system needs at least one state")
    self.dimension = dimension
    self.options = options
    let n = dimension
    stages = max(erk.stages, ros.stages)
    let es = erk.stages, rs = ros.stages
    let sizes = [n, n, n, n, stages * n, n * n, n * n, n, n, es * erk.denseDegree, stages,
                 es * es, es, rs * rs, rs * rs, rs, rs, rs, rs]
    let total = sizes.reduce(0, +)
    let block = UnsafeMutablePointer<Double>.allocate(capacity: total)
    block.initialize(repeating: 0, count: total)
    storage = block
    var offsets = [Int]()
    var running = 0
    for size in sizes { offsets.append(running); running += size }
    y0 = block + offsets[0]; y1 = block + offsets[1]; yStage = block + offsets[2]
    scratch = block + offsets[3]; k = block + offsets[4]; jacobian = block + offsets[5]
    matrix = block + offsets[6]; denseU = block + offsets[7]; denseV = block + offsets[8]
    erkDense = block + offsets[9]; weights = block + offsets[10]
    erkA = block + offsets[11]; erkE = block + offsets[12]; rosA = block + offsets[13]
    rosC = block + offsets[14]; rosM = block + offsets[15]; rosE = block + offsets[16]
    rosD1 = block + offsets[17]; rosD2 = block + offsets[18]
    erkStages = es; rosStages = rs
    for (i, v) in erk.a.enumerated() { erkA[i] = v }
    for (i, v) in erk.e.enumerated() { erkE[i] = v }
    for (i, v) in ros.a.enumerated() { rosA[i] = v }
    for (i, v) in ros.c.enumerated() { rosC[i] = v }
    for (i, v) in ros.m.enumerated() { rosM[i] = v }
    for (i, v) in ros.e.enumerated() { rosE[i] = v }
    for (i, v) in ros.dense1.enumerated() { rosD1[i] = v }
    for (i, v) in ros.dense2.enumerated() { rosD2[i] = v }
    for (i, v) in erk.dense.enumerated() { erkDense[i] = v }
    pivots = .allocate(capacity: n)
    pivots.initialize(repeating: 0, count: n)
  }

  deinit {
    storage.deallocate()
    pivots.deallocate()
  }

  /// Zeroes the work counters.
  public func resetStatistics() { statistics = ODEStatistics() }

  /// Advances `state` (`dimension` elements) from `t0` to exactly `t1 ≥ t0`, or to the end of
  /// the step after which the observer asked to stop.
  ///
  /// - Returns: the time reached (`t1` unless the observer stopped the run).
  /// - Throws: `ODEError` when the step size underflows, the step budget
  ///   (`options.maxSteps`) runs out, or the solution stops being finite.
  @discardableResult
  public func advance<System: ODESystem, Observer: ODEStepObserver>(
    _ system: System, state: UnsafeMutablePointer<Double>, from t0: Double, to t1: Double,
    observer: inout Observer
  ) throws -> Double {
    precondition(system.dimension == dimension, "system and integrator dimensions differ")
    guard t1 > t0 else { return t0 }
    let n = dimension
    y0.update(from: state, count: n)
    let reached: Double
    switch options.method {
    case .dormandPrince54: reached = try advanceExplicit(system, from: t0, to: t1, observer: &observer, budget: options.maxSteps)
    case .rodas4: reached = try advanceRosenbrock(system, from: t0, to: t1, observer: &observer)
    case .auto:
      // Dormand–Prince first; a segment it cannot finish within `autoExplicitBudget` steps (or at
      // all) is stiff, and is redone from its start by RODAS4, which then stays in use until
      // `resetMethodChoice()`. Observers may see the start of the segment twice; the library's
      // observers are idempotent for that (they track the time reached).
      if stiffnessDetected {
        reached = try advanceRosenbrock(system, from: t0, to: t1, observer: &observer)
      } else {
        do {
          reached = try advanceExplicit(system, from: t0, to: t1, observer: &observer, budget: Swift.min(options.maxSteps, Self.autoExplicitBudget))
        } catch is ODEError {
          stiffnessDetected = true
          y0.update(from: state, count: n)
          reached = try advanceRosenbrock(system, from: t0, to: t1, observer: &observer)
        }
      }
    }
    state.update(from: y0, count: n)
    return reached
  }

  /// Advances without observing steps.
  public func advance<System: ODESystem>(
    _ system: System, state: UnsafeMutablePointer<Double>, from t0: Double, to t1: Double
  ) throws {
    var ignore = IgnoreSteps()
    try advance(system, state: state, from: t0, to: t1, observer: &ignore)
  }

  // MARK: - Error norm and first step

  /// RMS of the error vector scaled by `atol + rtol·max(|y0|, |y1|)` (Hairer's norm).
  @inline(__always)
  private func errorNorm(_ error: UnsafePointer<Double>) -> Double {
    let rtol = options.relativeTolerance, atol = options.absoluteTolerance
    var sum = 0.0
    for i in 0..<dimension {
      let scale = atol + rtol * Swift.max(Swift.abs(y0[i]), Swift.abs(y1[i]))
      let r = error[i] / scale
      sum += r * r
    }
    return (sum / Double(dimension)).squareRoot()
  }

  /// Hairer's starting step (*Solving ODEs I*, §II.4, "Starting step size"): `h0 = 0.01‖y0‖/‖f0‖`,
  /// refined by an explicit-Euler probe of the second derivative. `f0` is at `k[0]`.
  private func initialStep<System: ODESystem>(_ system: System, order: Int, span: Double) -> Double {
    let n = dimension
    let rtol = options.relativeTolerance, atol = options.absoluteTolerance
    var d0 = 0.0, d1 = 0.0
    for i in 0..<n {
      let sc = atol + rtol * Swift.abs(y0[i])
      d0 += (y0[i] / sc) * (y0[i] / sc)
      d1 += (k[i] / sc) * (k[i] / sc)
    }
    d0 = (d0 / Double(n)).squareRoot()
    d1 = (d1 / Double(n)).squareRoot()
    var h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
    h0 = Swift.min(h0, span)
    for i in 0..<n { yStage[i] = y0[i] + h0 * k[i] }
    system.derivatives(yStage, into: scratch)
    statistics.functionEvaluations += 1
    var d2 = 0.0
    for i in 0..<n {
      let sc = atol + rtol * Swift.abs(y0[i])
      let r = (scratch[i] - k[i]) / sc
      d2 += r * r
    }
    d2 = (d2 / Double(n)).squareRoot() / h0
    let dMax = Swift.max(d1, d2)
    let h1 = dMax <= 1e-15 ? Swift.max(1e-6, h0 * 1e-3) : pow(0.01 / dMax, 1.0 / Double(order + 1))
    let h = Swift.min(100 * h0, h1, span, options.maxStepSize)
    return h.isFinite && h > 0 ? h : Swift.min(1e-6, span)
  }

  /// Clamps a proposed step so the step lands on `t1` exactly and no sliver step remains.
  @inline(__always)
  private func clampedStep(_ h: Double, at t: Double, stop t1: Double) -> (Double, Bool) {
    let h = Swift.min(h, options.maxStepSize)
    if t + 1.01 * h >= t1 { return (t1 - t, true) }
    return (h, false)
  }

  @inline(__always)
  private func checkStepSize(_ h: Double, at t: Double) throws {
    if !(h > 10 * t.ulp) || !(h > 4 * Double.leastNormalMagnitude) {
      throw ODEError.stepSizeTooSmall(t: t, stepSize: h)
    }
  }

  private func allFinite(_ y: UnsafePointer<Double>) -> Bool {
    var s = 0.0
    for i in 0..<dimension { s += y[i] * 0 }
    return s == 0
  }

  // MARK: - Dormand–Prince 5(4)

  private func advanceExplicit<System: ODESystem, Observer: ODEStepObserver>(
    _ system: System, from t0: Double, to t1: Double, observer: inout Observer, budget: Int
  ) throws -> Double {
    let n = dimension, s = erkStages
    var controller = StepSizeController(errorOrder: erk.errorOrder)
    system.derivatives(y0, into: k)
    statistics.functionEvaluations += 1
    guard allFinite(k) && allFinite(y0) else { throw ODEError.nonFiniteState(t: t0) }
    var h = initialStep(system, order: erk.order, span: t1 - t0)
    var t = t0
    var steps = 0
    while true {
      let (hStep, lands) = clampedStep(h, at: t, stop: t1)
      steps += 1
      if steps > budget { throw ODEError.tooManySteps(limit: budget, t: t) }
      // Stages 2…s; the last stage's input is y1 (FSAL: a[s-1] = b).
      for stage in 1..<s {
        let input = stage == s - 1 ? y1 : yStage
        for i in 0..<n {
          var sum = 0.0
          for j in 0..<stage { sum += erkA[stage * s + j] * k[j * n + i] }
          input[i] = y0[i] + hStep * sum
        }
        system.derivatives(input, into: k + stage * n)
      }
      statistics.functionEvaluations += s - 1
      for i in 0..<n {
        var sum = 0.0
        for j in 0..<s { sum += erkE[j] * k[j * n + i] }
        scratch[i] = hStep * sum
      }
      var error = errorNorm(scratch)
      if !allFinite(y1) || !allFinite(k + (s - 1) * n) { error = .nan }
      if error <= 1 {
        let tNew = lands ? t1 : t + hStep
        statistics.acceptedSteps += 1
        observer.observe(
          DenseStep(
            start: t, end: tNew, h: hStep, n: n, y0: y0, y1: y1,
            interpolant: .rungeKutta(
              k: k, stages: s, coefficients: erkDense, degree: erk.denseDegree, weights: weights)))
        y0.update(from: y1, count: n)
        k.update(from: k + (s - 1) * n, count: n)
        t = tNew
        if lands || observer.stopRequested { return t }
        h = controller.accepted(stepSize: hStep, error: error)
      } else {
        statistics.rejectedSteps += 1
        h = controller.rejected(stepSize: hStep, error: error)
        if !error.isFinite && h < 10 * t.ulp { throw ODEError.nonFiniteState(t: t) }
        try checkStepSize(h, at: t)
      }
    }
  }

  // MARK: - RODAS4

  private func advanceRosenbrock<System: ODESystem, Observer: ODEStepObserver>(
    _ system: System, from t0: Double, to t1: Double, observer: inout Observer
  ) throws -> Double {
    let n = dimension, s = rosStages
    var controller = StepSizeController(errorOrder: ros.errorOrder)
    system.derivatives(y0, into: k)
    statistics.functionEvaluations += 1
    guard allFinite(k) && allFinite(y0) else { throw ODEError.nonFiniteState(t: t0) }
    var h = initialStep(system, order: ros.order, span: t1 - t0)
    var t = t0
    var steps = 0
    var jacobianIsCurrent = false
    while true {
      let (hStep, lands) = clampedStep(h, at: t, stop: t1)
      steps += 1
      if steps > options.maxSteps { throw ODEError.tooManySteps(limit: options.maxSteps, t: t) }
      if !jacobianIsCurrent {
        system.jacobian(y0, into: jacobian)
        statistics.jacobianEvaluations += 1
        jacobianIsCurrent = true
      }
      // W = I/(γh) − J, factorised once per step attempt.
      let diagonal = 1 / (ros.gamma * hStep)
      for i in 0..<(n * n) { matrix[i] = -jacobian[i] }
      for i in 0..<n { matrix[i * n + i] += diagonal }
      statistics.luDecompositions += 1
      guard LinearAlgebra.factorize(matrix, n: n, pivots: pivots) else {
        statistics.rejectedSteps += 1
        h = hStep * 0.25
        try checkStepSize(h, at: t)
        continue
      }
      // Stage i: W k_i = f(y0 + Σ a_ij k_j) + Σ (c_ij/h) k_j. Stage 1's f(y0) was kept in k[0].
      let stageRHS = scratch
      for stage in 0..<s {
        let ki = k + stage * n
        if stage == 0 {
          for i in 0..<n { stageRHS[i] = ki[i] }
        } else {
          for i in 0..<n {
            var sum = 0.0
            for j in 0..<stage { sum += rosA[stage * s + j] * k[j * n + i] }
            yStage[i] = y0[i] + sum
          }
          system.derivatives(yStage, into: stageRHS)
          statistics.functionEvaluations += 1
          let invH = 1 / hStep
          for i in 0..<n {
            var sum = 0.0
            for j in 0..<stage { sum += rosC[stage * s + j] * k[j * n + i] }
            stageRHS[i] += sum * invH
          }
        }
        LinearAlgebra.solve(matrix, n: n, pivots: pivots, rhs: stageRHS)
        if stage == 0 {
          // Keep f(y0) for a retry: park it in y1 until the step is decided.
          y1.update(from: ki, count: n)
        }
        ki.update(from: stageRHS, count: n)
      }
      // y1 = y0 + Σ m_i k_i; error = Σ e_i k_i.
      let f0 = denseU
      f0.update(from: y1, count: n)
      for i in 0..<n {
        var sum = 0.0, err = 0.0
        for j in 0..<s {
          sum += rosM[j] * k[j * n + i]
          err += rosE[j] * k[j * n + i]
        }
        y1[i] = y0[i] + sum
        yStage[i] = err
      }
      var error = errorNorm(yStage)
      if !allFinite(y1) { error = .nan }
      if error <= 1 {
        let tNew = lands ? t1 : t + hStep
        statistics.acceptedSteps += 1
        for i in 0..<n {
          var u = 0.0, v = 0.0
          for j in 0..<s {
            u += rosD1[j] * k[j * n + i]
            v += rosD2[j] * k[j * n + i]
          }
          denseU[i] = u
          denseV[i] = v
        }
        observer.observe(
          DenseStep(
            start: t, end: tNew, h: hStep, n: n, y0: y0, y1: y1,
            interpolant: .rosenbrock(u: denseU, v: denseV)))
        y0.update(from: y1, count: n)
        t = tNew
        if lands || observer.stopRequested { return t }
        system.derivatives(y0, into: k)
        statistics.functionEvaluations += 1
        jacobianIsCurrent = false
        h = controller.accepted(stepSize: hStep, error: error)
      } else {
        statistics.rejectedSteps += 1
        k.update(from: f0, count: n)  // restore f(y0) for the retry
        h = controller.rejected(stepSize: hStep, error: error)
        try checkStepSize(h, at: t)
      }
    }
  }
}
