import PKNumerics

/// The parameter names every model shares (`--param NAME=VALUE`, profile files, parameter CSVs).
public enum ParameterName: String, CaseIterable, Codable, Sendable, Comparable {
  /// Absorption rate constant into the central compartment (1/day).
  case ka
  /// Bioavailability of subcutaneous/extravascular doses (fraction).
  case F
  /// Central volume (L).
  case Vc
  /// Linear elimination rate constant from the central compartment (1/day).
  case ke
  /// Central → peripheral rate constant (1/day).
  case k12
  /// Peripheral → central rate constant (1/day).
  case k21
  /// Maximum Michaelis–Menten elimination rate, in concentration units (mg/L/day).
  case Vm
  /// Michaelis–Menten constant (mg/L).
  case Km
  /// Mean transit time of the absorption chain (day).
  case mtt
  /// Number of transit compartments between the depot and the absorption step.
  case ntr
  /// Absorption lag time of extravascular doses (day).
  case tlag

  public static func < (a: Self, b: Self) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// Parameters of the general model: SC depot (optional transit chain), two compartments,
/// parallel linear and Michaelis–Menten elimination. Time in days, amounts in mg, volumes in L.
///
/// ```
/// depot:       dA_d/dt = −k_out·A_d        (k_out = ktr with transits, else ka)
/// transit i:   dT_i/dt = ktr·T_{i−1} − k_i·T_i   (ktr = (n+1)/MTT; the last one empties at ka)
/// central:     dA_c/dt = ka·A_last − ke·A_c − k12·A_c + k21·A_p − Vm·Vc·C/(Km + C),  C = A_c/Vc
/// peripheral:  dA_p/dt = k12·A_c − k21·A_p
/// ```
/// Source: DESIGN §3; Kovalenko et al. 2016 (doi:10.1002/psp4.12136), Kovalenko et al. 2020
/// (doi:10.1002/cpdd.780), Zhang et al. 2021 (doi:10.1002/psp4.12667), as transcribed in
/// `reference/dupilumab-pk.md` Appendix A.
public struct PKParameters: Sendable, Equatable, Codable {
  public var ka: Double
  public var F: Double
  public var Vc: Double
  public var ke: Double
  public var k12: Double = 0
  public var k21: Double = 0
  public var Vm: Double = 0
  public var Km: Double = 1
  public var mtt: Double = 0
  public var ntr: Int = 0
  public var tlag: Double = 0

  public init(
    ka: Double, F: Double, Vc: Double, ke: Double, k12: Double = 0, k21: Double = 0,
    Vm: Double = 0, Km: Double = 1, mtt: Double = 0, ntr: Int = 0, tlag: Double = 0
  ) {
    self.ka = ka; self.F = F; self.Vc = Vc; self.ke = ke; self.k12 = k12; self.k21 = k21
    self.Vm = Vm; self.Km = Km; self.mtt = mtt; self.ntr = ntr; self.tlag = tlag
  }

  public subscript(name: ParameterName) -> Double {
    get {
      switch name {
      case .ka: ka
      case .F: F
      case .Vc: Vc
      case .ke: ke
      case .k12: k12
      case .k21: k21
      case .Vm: Vm
      case .Km: Km
      case .mtt: mtt
      case .ntr: Double(ntr)
      case .tlag: tlag
      }
    }
    set {
      switch name {
      case .ka: ka = newValue
      case .F: F = newValue
      case .Vc: Vc = newValue
      case .ke: ke = newValue
      case .k12: k12 = newValue
      case .k21: k21 = newValue
      case .Vm: Vm = newValue
      case .Km: Km = newValue
      case .mtt: mtt = newValue
      case .ntr: ntr = newValue >= -1 && newValue <= 1000 ? Int(newValue) : -1  // out of range: problems() reports it
      case .tlag: tlag = newValue
      }
    }
  }

  /// Transit rate constant `ktr = (n+1)/MTT` (0 without transits).
  public var ktr: Double { ntr > 0 ? Double(ntr + 1) / mtt : 0 }
  /// Linear clearance `CL = ke·Vc` (L/day).
  public var clearance: Double { ke * Vc }
  /// Peripheral volume `Vp = Vc·k12/k21` (L), 0 for one compartment.
  public var peripheralVolume: Double { k21 > 0 ? Vc * k12 / k21 : 0 }
  /// Whether the model is linear (no Michaelis–Menten term).
  public var isLinear: Bool { Vm == 0 }

  /// Every reason these values cannot be simulated, empty when they can.
  public func problems() -> [String] {
    var out: [String] = []
    func check(_ name: String, _ v: Double, positive: Bool) {
      if !v.isFinite { out.append("\(name) = \(v) is not a finite number") }
      else if positive ? !(v > 0) : v < 0 {
        out.append("\(name) = \(v) must be \(positive ? "greater than 0" : "0 or more")")
      }
    }
    check("ka", ka, positive: false); check("F", F, positive: false); check("Vc", Vc, positive: true)
    check("ke", ke, positive: false); check("k12", k12, positive: false); check("k21", k21, positive: false)
    check("Vm", Vm, positive: false); check("Km", Km, positive: true); check("tlag", tlag, positive: false)
    check("mtt", mtt, positive: ntr > 0)
    if ntr < 0 || ntr > 20 { out.append("ntr = \(ntr) must be between 0 and 20") }
    if k12 > 0 && k21 == 0 { out.append("k21 must be greater than 0 when k12 is") }
    if ka == 0 && (ntr > 0 || F > 0) { out.append("ka = 0: subcutaneous doses would never be absorbed") }
    return out
  }
}
