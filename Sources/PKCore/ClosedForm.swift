import PKNumerics

/// Closed-form solutions of the linear one- and two-compartment models with first-order
/// absorption or IV bolus, by superposition over doses. The oracle for solver tests, and a fast
/// path for linear models.
///
/// One compartment, SC dose D at t = 0 (Gibaldi & Perrier, *Pharmacokinetics*, 2nd ed., eq. 1.44):
/// `A_c(t) = F·D·ka/(ka − k)·(e^{−kt} − e^{−ka t})`.
/// Two compartments, with `α, β` the roots of `λ² − (k10 + k12 + k21)λ + k10·k21 = 0`
/// (Gibaldi & Perrier, ch. 2; Rowland & Tozer, *Clinical Pharmacokinetics*, App. E):
/// IV: `A_c(t) = D[(α − k21)/(α − β)·e^{−αt} + (k21 − β)/(α − β)·e^{−βt}]`;
/// SC: `A_c(t) = F·D·ka·Σ_{λ∈{α,β,ka}} (k21 − λ)/Π_{μ≠λ}(μ − λ)·e^{−λt}`.
/// Requires distinct `ka`, `α`, `β` (to working precision).
public struct LinearClosedForm: Sendable {
  public let parameters: PKParameters

  public init(parameters: PKParameters) throws(RegimenError) {
    guard parameters.isLinear, parameters.ntr == 0 else {
      throw RegimenError(
        "the closed form covers linear models without transit compartments only",
        fix: "set Vm = 0 and ntr = 0, or use an ODE solver")
    }
    self.parameters = parameters
  }

  /// Macro rate constants `(α, β)` with α ≥ β (β = 0 for one compartment).
  public var rates: (alpha: Double, beta: Double) {
    let p = parameters
    if p.k12 == 0 { return (p.ke, 0) }
    let sum = p.ke + p.k12 + p.k21
    let root = (sum * sum - 4 * p.ke * p.k21).squareRoot()
    let alpha = (sum + root) / 2
    return (alpha, p.ke * p.k21 / alpha)  // β = k10·k21/α avoids cancellation
  }

  /// Central amount (mg) at time `t` after one dose given at 0 (0 for t ≤ 0).
  public func centralAmount(afterDose dose: Dose, elapsed t: Double) -> Double {
    guard t > 0 else { return 0 }
    let p = parameters
    let (alpha, beta) = rates
    switch (dose.route, p.k12 == 0) {
    case (.iv, true):
      return dose.amount * exp(-p.ke * t)
    case (.iv, false):
      let fast: Double = (alpha - p.k21) * exp(-alpha * t)
      let slow: Double = (p.k21 - beta) * exp(-beta * t)
      return dose.amount * (fast + slow) / (alpha - beta)
    case (.sc, true):
      let k = p.ke, ka = p.ka
      // (e^{−kt} − e^{−ka t})/(ka − k), written with expm1 for nearby rates.
      let decay: Double = exp(-k * t)
      let diff: Double = decay * -expm1(-(ka - k) * t) / (ka - k)
      return p.F * dose.amount * ka * diff
    case (.sc, false):
      let ka = p.ka, k21 = p.k21
      let a: Double = (k21 - alpha) / ((ka - alpha) * (beta - alpha)) * exp(-alpha * t)
      let b: Double = (k21 - beta) / ((ka - beta) * (alpha - beta)) * exp(-beta * t)
      let c: Double = (k21 - ka) / ((alpha - ka) * (beta - ka)) * exp(-ka * t)
      let terms = a + b + c
      return p.F * dose.amount * ka * terms
    }
  }

  /// Concentration `A_c/Vc` at `t`, from every dose given strictly before `t` (so at a dose time,
  /// the value just before that dose).
  public func concentration(at t: Double, doses: [Dose]) -> Double {
    var amount = 0.0
    for dose in doses where dose.time + (dose.route == .sc ? parameters.tlag : 0) < t {
      let start = dose.time + (dose.route == .sc ? parameters.tlag : 0)
      amount += centralAmount(afterDose: dose, elapsed: t - start)
    }
    return amount / parameters.Vc
  }
}
