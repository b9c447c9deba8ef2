import PKNumerics

/// A published population model: typical parameters at a reference weight, body-weight
/// covariate effects, inter-individual variability and residual error, with its citation.
public struct PopulationModel: Codable, Sendable, Equatable {
  /// Short name used on the command line (`--model kovalenko2020`).
  public var name: String
  public var title: String
  /// Full reference of the paper (or the dataset) the numbers come from.
  public var citation: String
  /// Where each number was read (paper table, transcription), free text.
  public var source: String
  /// Population the model was fitted to.
  public var population: String
  public var referenceWeightKg: Double
  /// Typical values at the reference weight.
  public var typical: PKParameters
  /// Power covariate effects of body weight: `P = P_typ · (WT/WT_ref)^θ`.
  public var weightExponents: [ParameterName: Double]
  public var randomEffects: RandomEffects?
  public var residualError: ResidualError?
  /// Output = `outputScale · A_c / Vc` (1 for mg/L; the nmtests model reports 1000·A/V).
  public var outputScale: Double

  public init(
    name: String, title: String, citation: String, source: String, population: String,
    referenceWeightKg: Double, typical: PKParameters, weightExponents: [ParameterName: Double] = [:],
    randomEffects: RandomEffects? = nil, residualError: ResidualError? = nil, outputScale: Double = 1
  ) {
    self.name = name; self.title = title; self.citation = citation; self.source = source
    self.population = population; self.referenceWeightKg = referenceWeightKg; self.typical = typical
    self.weightExponents = weightExponents; self.randomEffects = randomEffects
    self.residualError = residualError; self.outputScale = outputScale
  }

  /// Individual parameters for body weight `weight` (kg) and random effects `eta` (one per
  /// `randomEffects.parameters`, log scale): `P_i = P_typ · (WT/WT_ref)^θ · exp(η)`.
  /// Bioavailability is capped at 1: a log-normal draw above 100 % is not physical.
  public func individual(weight: Double, eta: UnsafeBufferPointer<Double>? = nil) -> PKParameters {
    IndividualParameters(self).parameters(weight: weight, eta: eta)
  }

  public func individual(weight: Double, eta: [Double]) -> PKParameters {
    eta.withUnsafeBufferPointer { individual(weight: weight, eta: $0) }
  }

  /// Every reason the model cannot be used, empty when it can.
  public func problems() -> [String] {
    var out = typical.problems()
    if !(referenceWeightKg > 0 && referenceWeightKg.isFinite) { out.append("referenceWeightKg must be greater than 0") }
    for (name, v) in weightExponents where !v.isFinite || name == .ntr { out.append("weight exponent on \(name.rawValue) is not usable") }
    if let r = randomEffects { out += r.problems() }
    if let e = residualError, !(e.proportional >= 0 && e.additive >= 0 && e.proportional.isFinite && e.additive.isFinite) {
      out.append("residual error SDs must be 0 or more")
    }
    if !(outputScale > 0 && outputScale.isFinite) { out.append("outputScale must be greater than 0") }
    return out
  }

  enum CodingKeys: String, CodingKey {
    case name, title, citation, source, population, referenceWeightKg, typical, weightExponents
    case randomEffects, residualError, outputScale
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    name = try c.decode(String.self, forKey: .name)
    title = try c.decode(String.self, forKey: .title)
    citation = try c.decode(String.self, forKey: .citation)
    source = try c.decodeIfPresent(String.self, forKey: .source) ?? ""
    population = try c.decodeIfPresent(String.self, forKey: .population) ?? ""
    referenceWeightKg = try c.decode(Double.self, forKey: .referenceWeightKg)
    typical = try c.decode(PKParameters.self, forKey: .typical)
    let exponents = try c.decodeIfPresent([String: Double].self, forKey: .weightExponents) ?? [:]
    var mapped: [ParameterName: Double] = [:]
    for (key, value) in exponents {
      guard let name = ParameterName(rawValue: key) else {
        throw DecodingError.dataCorruptedError(
          forKey: .weightExponents, in: c, debugDescription: "unknown parameter '\(key)' in weightExponents")
      }
      mapped[name] = value
    }
    weightExponents = mapped
    randomEffects = try c.decodeIfPresent(RandomEffects.self, forKey: .randomEffects)
    residualError = try c.decodeIfPresent(ResidualError.self, forKey: .residualError)
    outputScale = try c.decodeIfPresent(Double.self, forKey: .outputScale) ?? 1
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .name); try c.encode(title, forKey: .title)
    try c.encode(citation, forKey: .citation); try c.encode(source, forKey: .source)
    try c.encode(population, forKey: .population); try c.encode(referenceWeightKg, forKey: .referenceWeightKg)
    try c.encode(typical, forKey: .typical)
    try c.encode(Dictionary(uniqueKeysWithValues: weightExponents.map { ($0.key.rawValue, $0.value) }), forKey: .weightExponents)
    try c.encodeIfPresent(randomEffects, forKey: .randomEffects)
    try c.encodeIfPresent(residualError, forKey: .residualError)
    try c.encode(outputScale, forKey: .outputScale)
  }
}

/// Log-normal inter-individual variability: `P_i = P · exp(η)`, `η ~ N(0, Ω)`.
///
/// Papers report Ω either as variances (ω², Kovalenko 2016, Zhang 2021) or as SDs (ω, Kovalenko
/// 2020); `scale` says which `omega` holds, and `correlation` (optional) gives the off-diagonal
/// structure: `Ω_ij = ρ_ij ω_i ω_j`.
public struct RandomEffects: Codable, Sendable, Equatable {
  public enum Scale: String, Codable, Sendable { case variance, sd }
  public var parameters: [ParameterName]
  public var scale: Scale
  public var omega: [Double]
  public var correlation: [[Double]]?

  public init(parameters: [ParameterName], scale: Scale, omega: [Double], correlation: [[Double]]? = nil) {
    self.parameters = parameters; self.scale = scale; self.omega = omega; self.correlation = correlation
  }

  /// Standard deviations ω on the log scale.
  public var standardDeviations: [Double] {
    scale == .sd ? omega : omega.map { $0.squareRoot() }
  }

  /// The full covariance matrix Ω (row-major, `k × k`).
  public var covariance: [Double] {
    let sd = standardDeviations, k = sd.count
    var out = [Double](repeating: 0, count: k * k)
    for i in 0..<k {
      for j in 0..<k {
        let rho = correlation?[i][j] ?? (i == j ? 1 : 0)
        out[i * k + j] = rho * sd[i] * sd[j]
      }
    }
    return out
  }

  /// Lower-triangular Cholesky factor L of Ω (Ω = L Lᵀ), row-major; `nil` if Ω is not positive
  /// semi-definite.
  public var choleskyFactor: [Double]? {
    let a = covariance, k = standardDeviations.count
    var l = [Double](repeating: 0, count: k * k)
    for i in 0..<k {
      for j in 0...i {
        var sum = a[i * k + j]
        for p in 0..<j { sum -= l[i * k + p] * l[j * k + p] }
        if i == j {
          guard sum >= -1e-12 else { return nil }
          l[i * k + i] = Swift.max(sum, 0).squareRoot()
        } else {
          l[i * k + j] = l[j * k + j] > 0 ? sum / l[j * k + j] : 0
        }
      }
    }
    return l
  }

  func problems() -> [String] {
    var out: [String] = []
    if parameters.count != omega.count { out.append("randomEffects lists \(parameters.count) parameters but \(omega.count) omega values") }
    if Set(parameters).count != parameters.count { out.append("randomEffects names a parameter twice") }
    if parameters.contains(.ntr) { out.append("ntr cannot carry a random effect") }
    if omega.contains(where: { !($0 >= 0 && $0.isFinite) }) { out.append("omega values must be 0 or more") }
    if let r = correlation {
      if r.count != omega.count || r.contains(where: { $0.count != omega.count }) {
        out.append("the correlation matrix must be \(omega.count) × \(omega.count)")
      } else if (0..<r.count).contains(where: { i in (0..<r.count).contains { j in r[i][j] != r[j][i] || Swift.abs(r[i][j]) > 1 } })
        || (0..<r.count).contains(where: { r[$0][$0] != 1 })
      {
        out.append("the correlation matrix must be symmetric with 1 on the diagonal and entries in [-1, 1]")
      }
    }
    if out.isEmpty && choleskyFactor == nil { out.append("the variability matrix is not positive semi-definite") }
    return out
  }
}

/// Combined residual error on concentrations: `C_obs = C·(1 + ε₁) + ε₂`, `ε₁ ~ N(0, proportional²)`,
/// `ε₂ ~ N(0, additive²)` (SDs; proportional as a fraction, additive in output units).
public struct ResidualError: Codable, Sendable, Equatable {
  public var proportional: Double
  public var additive: Double
  public init(proportional: Double, additive: Double) {
    self.proportional = proportional
    self.additive = additive
  }
}

extension PKParameters {
  enum CodingKeys: String, CodingKey { case ka, F, Vc, ke, k12, k21, Vm, Km, mtt, ntr, tlag }

  /// Decodes a parameter object; `Vc` and `ke` are required, the rest default to a plain
  /// one-compartment model (ka 0, F 1, no peripheral, no saturable elimination, no transits).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      ka: try c.decodeIfPresent(Double.self, forKey: .ka) ?? 0,
      F: try c.decodeIfPresent(Double.self, forKey: .F) ?? 1,
      Vc: try c.decode(Double.self, forKey: .Vc),
      ke: try c.decode(Double.self, forKey: .ke),
      k12: try c.decodeIfPresent(Double.self, forKey: .k12) ?? 0,
      k21: try c.decodeIfPresent(Double.self, forKey: .k21) ?? 0,
      Vm: try c.decodeIfPresent(Double.self, forKey: .Vm) ?? 0,
      Km: try c.decodeIfPresent(Double.self, forKey: .Km) ?? 1,
      mtt: try c.decodeIfPresent(Double.self, forKey: .mtt) ?? 0,
      ntr: try Self.decodeTransits(c),
      tlag: try c.decodeIfPresent(Double.self, forKey: .tlag) ?? 0)
  }

  /// `ntr` as a whole number from 0 to 20 (read as a number first, so 2.5 or 1e30 get a clear
  /// message instead of Foundation's "not valid JSON").
  static func decodeTransits(_ c: KeyedDecodingContainer<CodingKeys>) throws -> Int {
    let v = try c.decodeIfPresent(Double.self, forKey: .ntr) ?? 0
    guard v == v.rounded(), v >= 0, v <= 20 else {
      throw DecodingError.dataCorruptedError(forKey: .ntr, in: c, debugDescription: "ntr = \(v) must be a whole number from 0 to 20")
    }
    return Int(v)
  }
}

/// What `PopulationModel.individual` reads, in plain lists: a `PatientSampler` keeps one, so that
/// drawing patients on several threads touches no dictionary or optional shared between them
/// (iterating the model's dictionary retained its storage from every thread, once per patient,
/// and the two threads' sampling did not scale).
struct IndividualParameters: Sendable {
  let typical: PKParameters
  let referenceWeightKg: Double
  /// The weight exponents, by parameter name.
  let exponents: [(name: ParameterName, exponent: Double)]
  /// The parameters the random effects act on, in `eta`'s order.
  let effects: [ParameterName]

  init(_ model: PopulationModel) {
    typical = model.typical
    referenceWeightKg = model.referenceWeightKg
    exponents = model.weightExponents.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    effects = model.randomEffects?.parameters ?? []
  }

  /// `P_i = P_typ · (WT/WT_ref)^θ · exp(η)`, F capped at 1 (`PopulationModel.individual`).
  func parameters(weight: Double, eta: UnsafeBufferPointer<Double>?) -> PKParameters {
    var p = typical
    let ratio = weight / referenceWeightKg
    for (name, exponent) in exponents { p[name] *= pow(ratio, exponent) }
    if let eta {
      for (j, name) in effects.enumerated() { p[name] *= exp(eta[j]) }
    }
    if p.F > 1 { p.F = 1 }
    return p
  }
}
