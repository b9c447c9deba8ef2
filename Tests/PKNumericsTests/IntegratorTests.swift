import PKNumerics
import Testing

@Suite("ODE integrators")
struct IntegratorTests {
  static let methods: [ODEMethod] = [.dormandPrince54, .rodas4]

  @Test("observed convergence order is within ±0.3 of theory", arguments: [
    (ODEMethod.dormandPrince54, 5.0), (ODEMethod.rodas4, 4.0),
  ])
  func convergenceOrder(method: ODEMethod, expected: Double) throws {
    let y0 = 0.1, end = 4.0
    var errors: [Double] = []
    for h in [0.2, 0.1] {
      let (y, _) = try integrate(Logistic(), [y0], to: end, options: fixedStep(h, method))
      errors.append(abs(y[0] - Logistic.exact(end, y0: y0)))
    }
    let observed = log2(errors[0] / errors[1])
    #expect(abs(observed - expected) <= 0.3, "observed order \(observed), errors \(errors)")
  }

  @Test("adaptive solutions meet their tolerance on a smooth nonlinear problem", arguments: methods)
  func adaptiveAccuracy(method: ODEMethod) throws {
    for rtol in [1e-6, 1e-8, 1e-10] {
      let options = ODEOptions(relativeTolerance: rtol, absoluteTolerance: rtol * 1e-3, method: method)
      let (y, _) = try integrate(Logistic(), [0.01], to: 10, options: options)
      let exact = Logistic.exact(10, y0: 0.01)
      // Global error of a local-error-controlled method: a small multiple of rtol.
      #expect(abs(y[0] - exact) / exact <= 20 * rtol, "rtol \(rtol): \(y[0]) vs \(exact)")
    }
  }

  @Test("dense output tracks the exact solution between steps", arguments: methods)
  func denseOutputAccuracy(method: ODEMethod) throws {
    let integrator = ODEIntegrator(
      dimension: 1, options: ODEOptions(relativeTolerance: 1e-9, absoluteTolerance: 1e-12, method: method))
    var recorder = Recorder()
    recorder.sampleTimes = stride(from: 0.05, through: 8, by: 0.05).map { $0 }
    var y = [0.01]
    try y.withUnsafeMutableBufferPointer {
      try integrator.advance(Logistic(), state: $0.baseAddress!, from: 0, to: 8, observer: &recorder)
    }
    #expect(recorder.samples.count == recorder.sampleTimes.count)
    for (t, v) in recorder.samples {
      let exact = Logistic.exact(t, y0: 0.01)
      #expect(abs(v - exact) <= 1e-7 * exact, "t = \(t)")
    }
  }

  @Test("stiff linear problem (eigenvalues −1, −1e4): Rosenbrock needs far fewer steps, both accurate")
  func stiffProblem() throws {
    // A = [[-5000.5, 4999.5], [4999.5, -5000.5]]: y = e^{-t}(1,1) + e^{-1e4 t}(1,-1) from y0 = (2, 0).
    let system = LinearSystem(matrix: [-5000.5, 4999.5, 4999.5, -5000.5], dimension: 2)
    var steps: [ODEMethod: Int] = [:]
    for method in Self.methods {
      let options = ODEOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-9, maxSteps: 1_000_000, method: method)
      let (y, stats) = try integrate(system, [2, 0], to: 10, options: options)
      let exact = exp(-10.0)
      for v in y { #expect(abs(v - exact) <= 1e-4 * exact + 1e-9, "\(method): \(y)") }
      steps[method] = stats.acceptedSteps + stats.rejectedSteps
    }
    let explicit = steps[.dormandPrince54]!, implicit = steps[.rodas4]!
    #expect(implicit * 50 < explicit, "steps: rodas4 \(implicit), dopri5 \(explicit)")
  }

  @Test("every segment ends exactly on its stop time, bit for bit", arguments: methods)
  func landsOnStopTimes(method: ODEMethod) throws {
    let integrator = ODEIntegrator(dimension: 1, options: ODEOptions(method: method))
    var y = [0.2]
    let stops = [0.0, 0.1, 1.0 / 3, 2.7, 2.7000000001, 14.0, 14.5]
    for (a, b) in zip(stops, stops.dropFirst()) {
      var recorder = Recorder()
      try y.withUnsafeMutableBufferPointer {
        try integrator.advance(Logistic(), state: $0.baseAddress!, from: a, to: b, observer: &recorder)
      }
      #expect(recorder.ends.last == b)
      #expect(recorder.ends == recorder.ends.sorted())
    }
    #expect(abs(y[0] - Logistic.exact(14.5, y0: 0.2)) <= 1e-6)
  }

  @Test("loosening the tolerance reduces the work", arguments: methods)
  func workShrinksWithTolerance(method: ODEMethod) throws {
    let tight = try integrate(Logistic(), [0.01], to: 10, options: ODEOptions(relativeTolerance: 1e-10, method: method)).1
    let loose = try integrate(Logistic(), [0.01], to: 10, options: ODEOptions(relativeTolerance: 1e-5, method: method)).1
    #expect(loose.functionEvaluations < tight.functionEvaluations)
    #expect(tight.rejectedSteps <= tight.acceptedSteps / 4 + 3)
  }

  @Test("a finite-time blow-up stops with an error naming the time reached", arguments: methods)
  func blowUpThrows(method: ODEMethod) {
    do {
      _ = try integrate(BlowUp(), [1], to: 2, options: ODEOptions(method: method))
      Issue.record("expected an error")
    } catch let error as ODEError {
      #expect(error.timeReached > 0.99 && error.timeReached < 1.0 + 1e-9, "\(error)")
      #expect(error.description.contains("t = "))
    } catch { Issue.record("unexpected \(error)") }
  }

  @Test("the step budget is enforced", arguments: methods)
  func stepBudget(method: ODEMethod) {
    let options = ODEOptions(relativeTolerance: 1e-12, maxSteps: 5, method: method)
    #expect(throws: ODEError.self) { _ = try integrate(Logistic(), [0.01], to: 100, options: options) }
  }
}
