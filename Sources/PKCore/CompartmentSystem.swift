import PKNumerics

/// Where each quantity lives in the state vector of `CompartmentSystem`.
public struct StateLayout: Sendable, Equatable {
  public let transits: Int
  public var depot: Int { 0 }
  public var central: Int { transits + 1 }
  public var peripheral: Int { transits + 2 }
  /// Cumulative amount eliminated by the linear pathway (mg).
  public var eliminatedLinear: Int { transits + 3 }
  /// Cumulative amount eliminated by the Michaelis–Menten pathway (mg).
  public var eliminatedSaturable: Int { transits + 4 }
  /// Area under the concentration curve, ∫ C dt (mg·day/L).
  public var auc: Int { transits + 5 }
  public var dimension: Int { transits + 6 }
  /// Indices of the compartments that hold drug (depot, transits, central, peripheral).
  public var drugCompartments: Range<Int> { 0..<(transits + 3) }
  public init(transits: Int) { self.transits = transits }
}

/// The general dupilumab-type model as an ODE system, with eliminated amounts and AUC tracked as
/// extra states so mass balance and exposure are exact to the solver's tolerance:
///
/// `d(elim_lin)/dt = ke·A_c`, `d(elim_MM)/dt = Vm·Vc·C⁺/(Km + C⁺)`, `d(AUC)/dt = C`, with
/// `C⁺ = max(C, 0)` so the saturable term can never create drug from round-off.
public struct CompartmentSystem: ODESystem, Sendable {
  public let parameters: PKParameters
  public let layout: StateLayout
  public var dimension: Int { layout.dimension }
  @usableFromInline let ktr, ka, ke, k12, k21, vmax, km, invVc: Double

  public init(parameters: PKParameters) {
    self.parameters = parameters
    layout = StateLayout(transits: parameters.ntr)
    ktr = parameters.ktr
    ka = parameters.ka; ke = parameters.ke; k12 = parameters.k12; k21 = parameters.k21
    vmax = parameters.Vm * parameters.Vc  // mg/day
    km = parameters.Km
    invVc = 1 / parameters.Vc
  }

  @inlinable
  public func derivatives(_ y: UnsafePointer<Double>, into d: UnsafeMutablePointer<Double>) {
    let n = layout.transits
    let c = n + 1
    var absorbed: Double
    if n == 0 {
      absorbed = ka * y[0]
      d[0] = -absorbed
    } else {
      var inflow = 0.0
      for i in 0..<n {
        let out = ktr * y[i]
        d[i] = inflow - out
        inflow = out
      }
      absorbed = ka * y[n]
      d[n] = inflow - absorbed
    }
    let central = y[c], peripheral = y[c + 1]
    let conc = central * invVc
    let positive = Swift.max(conc, 0)
    let saturable = vmax * positive / (km + positive)
    let linear = ke * central
    d[c] = absorbed - linear - k12 * central + k21 * peripheral - saturable
    d[c + 1] = k12 * central - k21 * peripheral
    d[c + 2] = linear
    d[c + 3] = saturable
    d[c + 4] = conc
  }

  @inlinable
  public func jacobian(_ y: UnsafePointer<Double>, into J: UnsafeMutablePointer<Double>) {
    let dim = layout.dimension, n = layout.transits, c = n + 1
    for i in 0..<(dim * dim) { J[i] = 0 }
    if n == 0 {
      J[0] = -ka
    } else {
      for i in 0..<n {
        J[i * dim + i] = -ktr
        J[(i + 1) * dim + i] = ktr
      }
      J[n * dim + n] = -ka
    }
    // ∂/∂A_c of Vm·Vc·C⁺/(Km+C⁺) = Vm·Km/(Km+C⁺)², taking the right-hand derivative at C ≤ 0:
    // dropping it there (0) hid the Vm/Km stiffness just above 0 from the Rosenbrock method, which
    // then needed ~100k steps for Vm 1e6, Km 1e-9 instead of ~350.
    let conc = Swift.max(y[c] * invVc, 0)
    let dSat = vmax * km * invVc / ((km + conc) * (km + conc))
    J[c * dim + n] += ka
    J[c * dim + c] = -ke - k12 - dSat
    J[c * dim + c + 1] = k21
    J[(c + 1) * dim + c] = k12
    J[(c + 1) * dim + c + 1] = -k21
    J[(c + 2) * dim + c] = ke
    J[(c + 3) * dim + c] = dSat
    J[(c + 4) * dim + c] = invVc
  }
}
