import PKNumerics

/// One virtual patient: index, covariates, random effects and the resulting parameters.
public struct VirtualPatient: Sendable {
  /// 0-based index in the cohort (subjects are numbered from 1 in output).
  public let index: Int
  public let weight: Double
  public let eta: [Double]
  public let parameters: PKParameters
}

/// Draws virtual patients from a population model: `η = L·z` with `L` the Cholesky factor of Ω
/// and `z` standard normals from the patient's own stream, then `P = P_typ·(WT/WT_ref)^θ·exp(η)`.
public struct PatientSampler: Sendable {
  public let model: PopulationModel
  public let weights: BodyWeights
  public let seed: UInt64
  let cholesky: [Double]
  let effects: Int
  let individual: IndividualParameters

  public init(model: PopulationModel, weights: BodyWeights, seed: UInt64) {
    self.model = model
    self.weights = weights
    self.seed = seed
    effects = model.randomEffects?.parameters.count ?? 0
    cholesky = model.randomEffects?.choleskyFactor ?? []
    individual = IndividualParameters(model)
  }

  /// The random effects η of a patient (empty without variability).
  public func eta(_ streams: PatientStreams) -> [Double] {
    guard effects > 0 else { return [] }
    var normals = streams.normals(.randomEffects)
    let z = (0..<effects).map { _ in normals.next() }
    var eta = [Double](repeating: 0, count: effects)
    for i in 0..<effects {
      var s = 0.0
      for j in 0...i { s += cholesky[i * effects + j] * z[j] }
      eta[i] = s
    }
    return eta
  }

  public func patient(_ index: Int) -> VirtualPatient {
    let streams = PatientStreams(seed: seed, patient: index)
    let w = weights.weight(patient: index, streams: streams)
    let e = eta(streams)
    let parameters = e.withUnsafeBufferPointer { individual.parameters(weight: w, eta: $0) }
    return VirtualPatient(index: index, weight: w, eta: e, parameters: parameters)
  }
}
