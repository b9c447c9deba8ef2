import PKNumerics

/// The periodic steady state of a maintenance regimen (dose `D` every `τ`), found directly as the
/// fixed point of the one-interval map instead of by simulating months:
/// `G(x) = Φ_τ(x + Δ) − x = 0`, where `x` holds the drug amounts just before a dose, `Δ` is the
/// dose (F·D into the depot, or D into the central compartment) and `Φ_τ` the flow of the model
/// over one interval. Solved by Newton's method with a finite-difference Jacobian of `Φ_τ`
/// (one interval per column), integrating at rtol 1e-10 so the result is accurate far below 1e-6.
public struct SteadyState {
  public let simulator: SubjectSimulator

  public struct Solution: Sendable {
    /// Drug amounts just before a dose at steady state (depot, transits, central, peripheral).
    public var predose: [Double]
    public var cmax: Double
    public var tmax: Double
    /// The trough: the value just before a dose.
    public var cmin: Double
    /// AUC over one interval (mg·day/L, in output units × day).
    public var auc: Double
    public var newtonIterations: Int
  }

  public init(simulator: SubjectSimulator) {
    self.simulator = simulator
  }

  public func solve(_ p: PKParameters, amount: Double, interval tau: Double, route: Route, scale: Double) throws -> Solution {
    let layout = StateLayout(transits: p.ntr)
    // Compartments that take part (an unused peripheral compartment would make the Jacobian singular).
    let active = layout.drugCompartments.filter { $0 != layout.peripheral || p.k12 > 0 }
    let m = active.count
    let tight = SubjectSimulator(options: ODEOptions(
      relativeTolerance: 1e-10, absoluteTolerance: 1e-13 * Swift.max(amount, 1), maxSteps: simulator.options.maxSteps,
      method: simulator.options.method))
    let dose = [Dose(time: 0, amount: amount, route: route)]
    // One interval from pre-dose drug amounts x.
    func flow(_ x: [Double]) throws -> [Double] {
      var initial = [Double](repeating: 0, count: layout.dimension)
      for (i, c) in active.enumerated() { initial[c] = x[i] }
      var none = NoSimulationObserver()
      var q = p
      q.tlag = 0  // the lag shifts the whole periodic pattern, not its shape
      let end = try tight.simulate(q, doses: dose, grid: nil, end: tau, output: nil, observer: &none, initialState: initial)
      return active.map { end[$0] }
    }
    var x = [Double](repeating: 0, count: m)
    var iterations = 0
    let reference = Swift.max(amount * (route == .sc ? p.F : 1), 1e-12)
    while iterations < 50 {
      iterations += 1
      let fx = try flow(x)
      let g = (0..<m).map { fx[$0] - x[$0] }
      // Converged when one interval changes no amount by more than 1e-12 of the dose.
      if g.allSatisfy({ Swift.abs($0) <= 1e-12 * reference }) { break }
      // Jacobian of G: J = ∂Φ/∂x − I, by forward differences with a step (1e-4 of the amount)
      // large against the integration error (1e-10 relative), so J is good to ~1e-6 and Newton
      // converges at that rate per iteration.
      var jac = [Double](repeating: 0, count: m * m)
      for j in 0..<m {
        var xp = x
        let h = 1e-4 * Swift.max(Swift.abs(x[j]), reference)
        xp[j] += h
        let fp = try flow(xp)
        for i in 0..<m { jac[i * m + j] = (fp[i] - fx[i]) / h - (i == j ? 1 : 0) }
      }
      // Compartments the flow leaves untouched (e.g. the depot when ka = 0 and doses are IV) have
      // a zero row and column in J; they keep their value and are left out of the solve.
      let live = (0..<m).filter { i in (0..<m).contains { jac[i * m + $0] != 0 || jac[$0 * m + i] != 0 } }
      let reducedJ = live.flatMap { i in live.map { jac[i * m + $0] } }
      guard let reducedStep = Self.solveLinear(reducedJ, live.map { -g[$0] }, live.count) else { break }
      for (k, i) in live.enumerated() { x[i] = Swift.max(0, x[i] + reducedStep[k]) }
    }
    // Measure the periodic interval from x.
    var initial = [Double](repeating: 0, count: layout.dimension)
    for (i, c) in active.enumerated() { initial[c] = x[i] }
    var q = p
    q.tlag = 0
    var peak = PeakObserver(central: layout.central, factor: scale / p.Vc)
    let end = try tight.simulate(q, doses: dose, grid: nil, end: tau, output: nil, observer: &peak, initialState: initial)
    let trough = scale * initial[layout.central] / p.Vc
    return Solution(predose: Array(initial[layout.drugCompartments]), cmax: Swift.max(peak.cmax, trough), tmax: peak.tmax, cmin: trough, auc: end[layout.auc] * scale, newtonIterations: iterations)
  }

  /// Gaussian elimination with partial pivoting; nil if singular.
  static func solveLinear(_ a: [Double], _ b: [Double], _ n: Int) -> [Double]? {
    var a = a, b = b
    for col in 0..<n {
      var p = col
      for r in col..<n where Swift.abs(a[r * n + col]) > Swift.abs(a[p * n + col]) { p = r }
      guard Swift.abs(a[p * n + col]) > 0 else { return nil }
      if p != col {
        for j in 0..<n { a.swapAt(col * n + j, p * n + j) }
        b.swapAt(col, p)
      }
      for r in (col + 1)..<n {
        let f = a[r * n + col] / a[col * n + col]
        if f == 0 { continue }
        for j in col..<n { a[r * n + j] -= f * a[col * n + j] }
        b[r] -= f * b[col]
      }
    }
    var x = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
      var s = b[i]
      for j in (i + 1)..<n { s -= a[i * n + j] * x[j] }
      x[i] = s / a[i * n + i]
    }
    return x
  }
}

/// The largest concentration over a run, from the dense output.
struct PeakObserver: SimulationObserver {
  let central: Int
  let factor: Double
  var cmax = -Double.infinity
  var tmax = 0.0
  mutating func observe(_ step: DenseStep) {
    let c = central, k = factor
    let peak = PeakSearch.maximum(on: step.start, step.end) { k * step.value(c, at: $0) }
    if peak.value > cmax { cmax = peak.value; tmax = peak.t }
  }
}
