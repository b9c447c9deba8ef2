import PKNumerics

/// The linear one-compartment model with a first-order absorption depot: NONMEM's ADVAN2 with
/// TRANS2 (CL, V, KA; K = CL/V). Compartment 1 is the depot, 2 the central compartment.
///
/// ```
/// dA₁/dt = −ka·A₁ + R₁(t)
/// dA₂/dt =  ka·A₁ − k·A₂ + R₂(t)          output = outputScale·A₂/V
/// ```
/// with R₁, R₂ the total zero-order infusion rates into each compartment, constant between events.
/// Over an interval of length t with constant rates the exact solution is (ExponentialIntegrals)
/// ```
/// A₁(t) = A₁·e^{−ka t} + R₁·accumulation(ka, t)
/// A₂(t) = A₂·e^{−k t} + ka·A₁·transfer(k, ka, t) + R₂·accumulation(k, t) + ka·R₁·transferAccumulation(k, ka, t)
/// ```
/// (variation of constants for the linear system; model as nmhelp ADVAN2 and TRANS2 define it, the
/// bolus case is Gibaldi & Perrier, *Pharmacokinetics*, 2nd ed., eq. 1.44). Rates are per the
/// dataset's time unit.
public struct OneCompartmentDepotModel: Sendable, Equatable {
  /// Absorption rate constant KA (1/time).
  public var ka: Double
  /// Elimination rate constant K = CL/V (1/time).
  public var k: Double
  /// Central volume V.
  public var volume: Double
  /// Output = outputScale·A₂/V (1000 for the nmtests model's µg/L from mg and L).
  public var outputScale: Double
  /// F1: bioavailability of depot doses when no column supplies it.
  public var depotBioavailability: Double
  /// ALAG1: lag of depot doses when no column supplies it.
  public var depotLag: Double

  public init(ka: Double, k: Double, volume: Double, outputScale: Double = 1, depotBioavailability: Double = 1, depotLag: Double = 0) {
    self.ka = ka; self.k = k; self.volume = volume; self.outputScale = outputScale
    self.depotBioavailability = depotBioavailability; self.depotLag = depotLag
  }

  /// The model of a profile's parameters: ka, ke, Vc, F (→ F1), tlag (→ ALAG1). Refuses anything
  /// that is not a linear one-compartment model (peripheral compartment, saturable elimination,
  /// transit chain), for which no closed form is implemented here.
  public init(parameters p: PKParameters, outputScale: Double, modelName: String) throws(DatasetError) {
    var reasons: [String] = []
    if p.k12 != 0 || p.k21 != 0 { reasons.append("a peripheral compartment (k12, k21)") }
    if p.Vm != 0 { reasons.append("saturable elimination (Vm)") }
    if p.ntr != 0 { reasons.append("transit compartments (ntr)") }
    guard reasons.isEmpty else {
      let list = reasons.count == 1 ? reasons[0] : reasons.dropLast().joined(separator: ", ") + " and " + reasons[reasons.count - 1]
      throw DatasetError(
        "the model '\(modelName)' has \(list); datasets are simulated with the exact one-compartment solution only",
        fix: "use --model onecmt (or a profile with k12 = k21 = 0, Vm = 0, ntr = 0)", origin: .request)
    }
    let values = [("ka", p.ka), ("ke", p.ke), ("Vc", p.Vc), ("F", p.F), ("tlag", p.tlag), ("outputScale", outputScale)]
    if let (name, value) = values.first(where: { !$0.1.isFinite || $0.1 < 0 }) {
      throw DatasetError("the model parameter \(name) = \(value) is not usable", fix: "give \(name) as a finite number of 0 or more", origin: .request)
    }
    guard p.Vc > 0 else { throw DatasetError("the model's volume Vc is 0", fix: "give Vc > 0", origin: .request) }
    self.init(ka: p.ka, k: p.ke, volume: p.Vc, outputScale: outputScale, depotBioavailability: p.F, depotLag: p.tlag)
  }

  /// The model's output for the amounts `x`: `outputScale·A₂/V`.
  public func output(_ x: OneCompartmentAmounts) -> Double { outputScale * x.central / volume }

  /// Free evolution (no input) over `t`: the exact propagator `exp(A·t)`.
  func propagator(_ t: Double) -> OneCompartmentPropagator {
    OneCompartmentPropagator(
      depot: ExponentialIntegrals.decay(ka, t),
      depotToCentral: ka * ExponentialIntegrals.transfer(k, ka, t),
      central: ExponentialIntegrals.decay(k, t))
  }

  /// OneCompartmentAmounts after `t` of constant infusion at `depotRate` into the depot and `centralRate` into
  /// the central compartment, starting from empty compartments.
  func infusionResponse(depotRate: Double, centralRate: Double, over t: Double) -> OneCompartmentAmounts {
    var x = OneCompartmentAmounts()
    if depotRate != 0 {
      x.depot = depotRate * ExponentialIntegrals.accumulation(ka, t)
      x.central = ka * depotRate * ExponentialIntegrals.transferAccumulation(k, ka, t)
    }
    if centralRate != 0 { x.central += centralRate * ExponentialIntegrals.accumulation(k, t) }
    return x
  }

  /// The exact state after `t` from `x`, with constant infusion rates.
  func advance(_ x: OneCompartmentAmounts, by t: Double, depotRate: Double, centralRate: Double) -> OneCompartmentAmounts {
    guard t > 0 else { return x }
    var y = propagator(t).apply(x)
    if depotRate != 0 || centralRate != 0 { y += infusionResponse(depotRate: depotRate, centralRate: centralRate, over: t) }
    return y
  }
}

/// Drug amounts in the depot (compartment 1) and the central compartment (2).
public struct OneCompartmentAmounts: Sendable, Equatable {
  public var depot: Double = 0
  public var central: Double = 0

  public init(depot: Double = 0, central: Double = 0) {
    self.depot = depot
    self.central = central
  }

  /// `amount` placed in compartment 1 (depot) or 2 (central).
  init(_ amount: Double, inCompartment compartment: Int) {
    if compartment == 1 { depot = amount } else { central = amount }
  }

  static func += (a: inout OneCompartmentAmounts, b: OneCompartmentAmounts) {
    a.depot += b.depot
    a.central += b.central
  }
}

/// The lower-triangular 2×2 matrix `[[depot, 0], [depotToCentral, central]]` acting on
/// (A₁, A₂): the one-compartment model's `exp(A·t)`.
struct OneCompartmentPropagator {
  var depot: Double
  var depotToCentral: Double
  var central: Double

  func apply(_ x: OneCompartmentAmounts) -> OneCompartmentAmounts {
    OneCompartmentAmounts(depot: depot * x.depot, central: depotToCentral * x.depot + central * x.central)
  }
}
