import PKNumerics

/// A dose as it enters a compartment: the amount after bioavailability, all at once or as a
/// zero-order infusion.
struct NMDoseInput: Sendable, Equatable {
  struct Infusion: Sendable, Equatable {
    var rate: Double
    var duration: Double
  }

  /// 1 depot, 2 central.
  var compartment: Int
  /// F·AMT.
  var amount: Double
  /// `nil` for a bolus.
  var infusion: Infusion?
}

/// The state a steady-state dose record sets (SS = 1) or adds (SS = 2) at its record time.
struct NMSteadyStateContribution {
  var amounts = OneCompartmentAmounts()
  /// Implied infusions still running at the record time: (compartment, rate, time left).
  var runningInfusions: [(compartment: Int, rate: Double, remaining: Double)] = []
  /// Implied doses that start at or after the record time, as offsets from it. Only a lag ≥ II
  /// (outside NONMEM's definition) produces them.
  var pendingOffsets: [Double] = []
}

enum NMSteadyStateProblem: Error {
  /// No steady state exists: nothing is eliminated (k = 0), or a depot dose is never absorbed
  /// (ka = 0).
  case noSteadyState
  /// More implied infusions overlap at the record time than `limit`.
  case tooManyOverlappingInfusions(count: Int)
}

extension OneCompartmentDepotModel {
  /// Most implied infusions that may run at once at a steady-state record (duration/II).
  static let maximumOverlappingInfusions = 100_000

  /// The amounts at the record time of a steady-state dose with interval `ii` and lag `lag`:
  /// the dose is the last of an infinite series II apart, so implied dose k ≥ 1 entered (or began
  /// to enter) at `t + lag − k·II` (nmhelp SS, "Steady state with lag": steady state as if there
  /// were no lag, then advanced by II − lag). With `p` the time since the latest implied dose
  /// that started before the record time (p = II − lag when lag < II):
  /// ```
  /// x = Σ_{j ≥ 0} response(p + j·II)
  ///   = P(p)·(I − P(II))⁻¹·b                                   (bolus b = amount in its compartment)
  ///   = Σ_{j < j₁} u(p + j·II) + P(τ₀)·(I − P(II))⁻¹·u(D)       (infusion of duration D)
  /// ```
  /// where P is the free propagator, u(s) the amounts after s of the infusion alone, j₁ the number
  /// of implied infusions still running (p + j·II < D; several when D > II) and τ₀ = p + j₁·II − D.
  /// For a lower-triangular P(II) = [[d, 0], [c, e]]:
  /// `(I − P(II))⁻¹ v = (v₁/(1 − d), (v₂ + c·v₁/(1 − d))/(1 − e))`, with 1 − e^{−λ·II} from expm1.
  func periodicSteadyState(_ dose: NMDoseInput, interval ii: Double, lag: Double) throws(NMSteadyStateProblem) -> NMSteadyStateContribution {
    var result = NMSteadyStateContribution()
    // Implied doses that have not started at the record time (lag ≥ II only).
    var startedBefore = 1
    while Double(startedBefore) * ii <= lag {
      result.pendingOffsets.append(lag - Double(startedBefore) * ii)
      startedBefore += 1
      if startedBefore > Self.maximumOverlappingInfusions { throw .tooManyOverlappingInfusions(count: startedBefore) }
    }
    let p = Double(startedBefore) * ii - lag  // in (0, II]
    let cycle = propagator(ii)
    let oneMinusDepot = -expm1(-ka * ii)
    let oneMinusCentral = -expm1(-k * ii)
    func sumOverCycles(_ v: OneCompartmentAmounts) throws(NMSteadyStateProblem) -> OneCompartmentAmounts {
      guard oneMinusCentral > 0, v.depot == 0 || oneMinusDepot > 0 else { throw .noSteadyState }
      let depot = v.depot == 0 ? 0 : v.depot / oneMinusDepot
      return OneCompartmentAmounts(depot: depot, central: (v.central + cycle.depotToCentral * depot) / oneMinusCentral)
    }

    guard let infusion = dose.infusion else {
      let single = OneCompartmentAmounts(dose.amount, inCompartment: dose.compartment)
      result.amounts = propagator(p).apply(try sumOverCycles(single))
      return result
    }
    let depotRate = dose.compartment == 1 ? infusion.rate : 0
    let centralRate = dose.compartment == 1 ? 0 : infusion.rate
    var j = 0
    while p + Double(j) * ii < infusion.duration {
      let elapsed = p + Double(j) * ii
      result.amounts += infusionResponse(depotRate: depotRate, centralRate: centralRate, over: elapsed)
      result.runningInfusions.append((dose.compartment, infusion.rate, infusion.duration - elapsed))
      j += 1
      if j > Self.maximumOverlappingInfusions { throw .tooManyOverlappingInfusions(count: j) }
    }
    let sinceEnd = Swift.max(0, p + Double(j) * ii - infusion.duration)
    let completed = infusionResponse(depotRate: depotRate, centralRate: centralRate, over: infusion.duration)
    result.amounts += propagator(sinceEnd).apply(try sumOverCycles(completed))
    return result
  }

  /// The steady state of a constant infusion at `rate` into `compartment` that has run forever
  /// (AMT 0, RATE > 0, II 0, SS ≠ 0): input equals output in every compartment, so
  /// A₁ = rate/ka for a depot infusion (0 otherwise) and A₂ = rate/k.
  func constantInfusionSteadyState(rate: Double, compartment: Int) throws(NMSteadyStateProblem) -> OneCompartmentAmounts {
    guard k > 0, compartment != 1 || ka > 0 else { throw .noSteadyState }
    return OneCompartmentAmounts(depot: compartment == 1 ? rate / ka : 0, central: rate / k)
  }
}
