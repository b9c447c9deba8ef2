import PKNumerics

/// SplitMix64's output function ("finaliser"): a bijective 64-bit mix with full avalanche.
/// Source: G. L. Steele, D. Lea, C. H. Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014; constants from Java's `SplittableRandom` / Vigna's splitmix64.c.
@inlinable
public func mix64(_ value: UInt64) -> UInt64 {
  var z = value
  z = (z ^ (z &>> 30)) &* 0xbf58_476d_1ce4_e5b9
  z = (z ^ (z &>> 27)) &* 0x94d0_49bb_1331_11eb
  return z ^ (z &>> 31)
}

/// SplitMix64: a Weyl sequence (`state += γ`) passed through `mix64`. Period 2^64.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public var state: UInt64
  public init(state: UInt64) { self.state = state }

  @inlinable
  public mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    return mix64(state)
  }

  /// A uniform double in (0, 1]: 53 random bits, never 0 (safe for `log`).
  @inlinable
  public mutating func uniformOpenClosed() -> Double {
    let bits: UInt64 = (next() &>> 11) &+ 1
    return Double(bits) * 0x1.0p-53
  }

  /// A uniform double in [0, 1).
  @inlinable
  public mutating func uniform() -> Double {
    let bits: UInt64 = next() &>> 11
    return Double(bits) * 0x1.0p-53
  }
}

/// Standard normal deviates by the Box–Muller transform (G. E. P. Box, M. E. Muller, Ann. Math.
/// Statist. 29 (1958) 610–611): `z₀ = √(−2 ln u₁) cos 2πu₂`, `z₁ = √(−2 ln u₁) sin 2πu₂`, both used.
public struct NormalGenerator: Sendable {
  public var source: SplitMix64
  @usableFromInline var spare: Double? = nil

  public init(source: SplitMix64) { self.source = source }

  @inlinable
  public mutating func next() -> Double {
    if let s = spareValue() { return s }
    let u1 = source.uniformOpenClosed(), u2 = source.uniform()
    let radius = (-2 * log(u1)).squareRoot()
    let angle = 2 * Double.pi * u2
    setSpare(radius * sin(angle))
    return radius * cos(angle)
  }

  @usableFromInline mutating func spareValue() -> Double? {
    defer { spare = nil }
    return spare
  }
  @usableFromInline mutating func setSpare(_ v: Double) { spare = v }
}

/// The independent random streams of one virtual patient, derived from (seed, patient index)
/// only, so a patient's draws never depend on thread count, chunking, sharding or the other
/// patients (DESIGN §5).
///
/// Key: `mix64(seed ⊕ mix64(i + γ))`; each purpose gets its own stream `mix64(key ⊕ purpose·γ')`, so
/// adding residual error or adherence never shifts the parameter draws. A plain `seed ⊕ i·γ`
/// seeding would make neighbouring patients' SplitMix64 sequences shifted copies of each other.
public struct PatientStreams: Sendable {
  public let key: UInt64

  public enum Purpose: UInt64, Sendable {
    case randomEffects = 1, weight = 2, residual = 3, adherence = 4
  }

  public init(seed: UInt64, patient: Int) {
    key = mix64(seed ^ mix64(UInt64(truncatingIfNeeded: patient) &+ 0x9e37_79b9_7f4a_7c15))
  }

  public func uniforms(_ purpose: Purpose) -> SplitMix64 {
    SplitMix64(state: mix64(key ^ (purpose.rawValue &* 0xd1b5_4a32_d192_ed03)))
  }

  public func normals(_ purpose: Purpose) -> NormalGenerator {
    NormalGenerator(source: uniforms(purpose))
  }
}
