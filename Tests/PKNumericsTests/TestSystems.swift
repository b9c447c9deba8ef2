import PKNumerics

/// y' = A y for a constant row-major matrix A, with its exact Jacobian.
struct LinearSystem: ODESystem {
  let matrix: [Double]
  let dimension: Int
  func derivatives(_ y: UnsafePointer<Double>, into dydt: UnsafeMutablePointer<Double>) {
    for i in 0..<dimension {
      var s = 0.0
      for j in 0..<dimension { s += matrix[i * dimension + j] * y[j] }
      dydt[i] = s
    }
  }
  func jacobian(_ y: UnsafePointer<Double>, into jacobian: UnsafeMutablePointer<Double>) {
    for i in 0..<(dimension * dimension) { jacobian[i] = matrix[i] }
  }
}

/// Logistic growth y' = y(1 − y): y(t) = 1 / (1 + (1/y0 − 1) e^{−t}).
struct Logistic: ODESystem {
  let dimension = 1
  func derivatives(_ y: UnsafePointer<Double>, into dydt: UnsafeMutablePointer<Double>) {
    dydt[0] = y[0] * (1 - y[0])
  }
  func jacobian(_ y: UnsafePointer<Double>, into jacobian: UnsafeMutablePointer<Double>) {
    jacobian[0] = 1 - 2 * y[0]
  }
  static func exact(_ t: Double, y0: Double) -> Double { 1 / (1 + (1 / y0 - 1) * exp(-t)) }
}

/// y' = y², which blows up at t = 1/y0.
struct BlowUp: ODESystem {
  let dimension = 1
  func derivatives(_ y: UnsafePointer<Double>, into dydt: UnsafeMutablePointer<Double>) {
    dydt[0] = y[0] * y[0]
  }
}

/// Records every accepted step's interval and the value of one component at requested times.
struct Recorder: ODEStepObserver {
  var ends: [Double] = []
  var samples: [(Double, Double)] = []
  var sampleTimes: [Double] = []
  var next = 0
  mutating func observe(_ step: DenseStep) {
    ends.append(step.end)
    while next < sampleTimes.count && sampleTimes[next] <= step.end {
      samples.append((sampleTimes[next], step.value(0, at: sampleTimes[next])))
      next += 1
    }
  }
}

/// Integrates `system` from 0 to `end` and returns the final state.
func integrate<S: ODESystem>(_ system: S, _ y0: [Double], to end: Double, options: ODEOptions) throws -> (
  [Double], ODEStatistics
) {
  let integrator = ODEIntegrator(dimension: system.dimension, options: options)
  var y = y0
  try y.withUnsafeMutableBufferPointer { try integrator.advance(system, state: $0.baseAddress!, from: 0, to: end) }
  return (y, integrator.statistics)
}

/// Fixed-step mode: tolerances so loose every step is accepted, steps capped at `h`.
func fixedStep(_ h: Double, _ method: ODEMethod) -> ODEOptions {
  ODEOptions(relativeTolerance: 1e200, absoluteTolerance: 1e200, maxStepSize: h, method: method)
}
