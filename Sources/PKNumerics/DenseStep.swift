/// One accepted step `[start, end]` and its continuous extension, handed to an observer.
///
/// It points into the integrator's workspace and is valid only during the observer call.
public struct DenseStep {
  /// Start and end time of the step.
  public let start: Double
  public let end: Double
  @usableFromInline let h: Double
  @usableFromInline let n: Int
  @usableFromInline let y0: UnsafePointer<Double>
  @usableFromInline let y1: UnsafePointer<Double>
  @usableFromInline let interpolant: Interpolant

  @usableFromInline
  enum Interpolant {
    /// `y0 + h Σ_i k_i P_i(θ)`: stages `k` (`stages × n`), polynomial coefficients (`stages × degree`),
    /// and scratch for the `stages` weights.
    case rungeKutta(k: UnsafePointer<Double>, stages: Int, coefficients: UnsafePointer<Double>,
                    degree: Int, weights: UnsafeMutablePointer<Double>)
    /// `(1−θ) y0 + θ (y1 + (1−θ)(u + θ v))`.
    case rosenbrock(u: UnsafePointer<Double>, v: UnsafePointer<Double>)
  }

  /// State component `i` at the step's start.
  @inlinable public func startValue(_ i: Int) -> Double { y0[i] }
  /// State component `i` at the step's end.
  @inlinable public func endValue(_ i: Int) -> Double { y1[i] }

  /// Component `i` of the continuous extension at time `t` in `[start, end]`.
  @inlinable
  public func value(_ i: Int, at t: Double) -> Double {
    if t == end { return y1[i] }
    if t == start { return y0[i] }
    let theta = (t - start) / h
    switch interpolant {
    case .rungeKutta(let k, let stages, let coefficients, let degree, _):
      var sum = 0.0
      for s in 0..<stages {
        var w = 0.0
        var p = degree - 1
        while p >= 0 { w = w * theta + coefficients[s * degree + p]; p -= 1 }
        sum += w * theta * k[s * n + i]
      }
      return y0[i] + h * sum
    case .rosenbrock(let u, let v):
      let one = 1 - theta
      return one * y0[i] + theta * (y1[i] + one * (u[i] + theta * v[i]))
    }
  }

  /// The whole state at time `t` in `[start, end]`, written to `out` (`n` elements).
  @inlinable
  public func state(at t: Double, into out: UnsafeMutablePointer<Double>) {
    if case .rungeKutta(let k, let stages, let coefficients, let degree, let weights) = interpolant,
      t != end, t != start
    {
      let theta = (t - start) / h
      for s in 0..<stages {
        var w = 0.0
        var p = degree - 1
        while p >= 0 { w = w * theta + coefficients[s * degree + p]; p -= 1 }
        weights[s] = w * theta * h
      }
      for i in 0..<n {
        var sum = 0.0
        for s in 0..<stages { sum += weights[s] * k[s * n + i] }
        out[i] = y0[i] + sum
      }
      return
    }
    for i in 0..<n { out[i] = value(i, at: t) }
  }
}

/// Receives every accepted step of an integration, in time order.
public protocol ODEStepObserver {
  mutating func observe(_ step: DenseStep)
  /// When true after a step, the integration ends there (the state is that step's end).
  var stopRequested: Bool { get }
}

extension ODEStepObserver {
  public var stopRequested: Bool { false }
}

/// An observer that ignores every step.
public struct IgnoreSteps: ODEStepObserver {
  public init() {}
  @inlinable public mutating func observe(_ step: DenseStep) {}
}
