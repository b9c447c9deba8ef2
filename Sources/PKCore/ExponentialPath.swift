import PKNumerics

/// The fast path for sampling a subject's curve on a grid: the model's linear part (absorption
/// chain, distribution, linear elimination — including the stiff transit chain) is propagated
/// exactly by matrix exponentials, and the Michaelis–Menten term, a scalar along the central
/// compartment, by the fourth-order exponential Runge–Kutta method ETDRK4 (`ETDRK4Step`).
///
/// Steps run from stop to stop (grid times and dose times), split into equal substeps of at most
/// `maximumStep` days; the matrix functions are computed once per distinct step length and cached
/// (by `ExponentialLanes`), so a regular regimen on a daily grid costs one set per patient. The
/// fast steps themselves run in `ExponentialLanes` (eight patients side by side,
/// `StructuredETDRK4Step`'s arithmetic); this type holds one patient's model and the thresholds
/// of where a substep needs care, which `LaneCareTests` applies to eight patients at once: C
/// below `safeAbove` (the saturable term bends, or is stiff: before and just after the first
/// dose, a long washout) or a fast step that failed its a-posteriori check
/// (`LaneCareTests.fails`). Such a
/// substep is taken by quarter steps (a quarter that fails its check by at most 4× as two
/// eighths), or by the adaptive integrator (`WindowIntegrator`) where it is stiff
/// (`LaneCareTests.takesWindow`); `ExponentialLanes` does both.
/// Accuracy is pinned by tests against the rtol-1e-11 references: ≤ 1e-5 relative where
/// C > 0.01 mg/L.
struct ExponentialPath {
  static let maximumStep = 1.0
  let parameters: PKParameters
  let n: Int
  let central: Int
  let linear: [Double]
  let direction: [Double]
  /// The saturable term, and where a substep needs more than one fast step (see
  /// `LaneCareTests.needsCare`).
  let N: MichaelisMenten
  let safeAbove: Double
  let stiffnessScale: Double
  /// The largest central amount the a-posteriori check scales with (`LaneCareTests.fails`):
  /// `checkCapInKm`·Km·Vc.
  let checkCap: Double
  /// Where C falls to near Km after a long interval, Michaelis–Menten elimination is nearly zero
  /// order and then drops off a cliff (Kovalenko's Km of 0.01 mg/L: C from 1 to 0.08 mg/L in a
  /// day): an absolute error made earlier, at high C, is carried there unchanged and becomes a
  /// large relative error. So the check allows an error relative to the central amount only up
  /// to 30 Km·Vc; above that it is absolute. Measured, 200 patients per model, 300 mg q4w ×3 then
  /// washout, against rtol 1e-11: without the cap 8e-5 relative at the cliff (Kovalenko 2020),
  /// 5e-5 (2016); with it ≤ 2.1e-6; with 10 Km no better and twice the work. Zhang 2021 (Km
  /// 2.08 mg/L) has no cliff, and the cap (172 mg, C ≈ 62 mg/L) seldom binds.
  static let checkCapInKm = 30.0

  init(parameters p: PKParameters) {
    parameters = p
    n = p.ntr + 3
    central = p.ntr + 1
    var a = [Double](repeating: 0, count: n * n)
    if p.ntr == 0 {
      a[0] = -p.ka
      a[central * n] = p.ka
    } else {
      let ktr = p.ktr
      for i in 0..<p.ntr {
        a[i * n + i] = -ktr
        a[(i + 1) * n + i] = ktr
      }
      a[p.ntr * n + p.ntr] = -p.ka
      a[central * n + p.ntr] = p.ka
    }
    let c = central, q = central + 1
    a[c * n + c] = -p.ke - p.k12
    a[c * n + q] = p.k21
    a[q * n + c] = p.k12
    a[q * n + q] = -p.k21
    linear = a
    var b = [Double](repeating: 0, count: n)
    b[c] = -1
    direction = b
    let vmax = p.Vm * p.Vc, km = p.Km
    N = MichaelisMenten(central: c, vmax: vmax, km: km, invVc: 1 / p.Vc)
    stiffnessScale = p.Vm * km
    checkCap = Self.checkCapInKm * km * p.Vc
    // Below ~10 Km the saturable term bends (Km/(Km + C) > 0.09) and, with C changing fast after
    // a dose, a polynomial in time no longer follows N(t) to the accuracy wanted (measured: Zhang
    // 2021, Km 2.08 mg/L: 3e-6 relative at 5 Km, 4e-7 at 10 Km)…
    let curvedBelow = 10 * km
    // …and where h·Vm·Km/(Km + C)² > 0.5 it is stiff for an explicit treatment.
    safeAbove = vmax > 0 ? Swift.max(curvedBelow, (2 * Self.maximumStep * stiffnessScale).squareRoot() - km) : 0
  }
}

/// `ExponentialPath`'s tests of a fast step, for eight patients side by side (one per SIMD lane of
/// `ExponentialLanes`): which substeps need care, and how they are taken. Each lane runs the
/// scalar operations in their order (`Swift.max`/`Swift.min`/`abs` as blends with the same
/// results), so a lane's decisions do not depend on its neighbours, nor on its group's size.
struct LaneCareTests {
  typealias Lanes = SIMD8<Double>
  typealias Mask = SIMDMask<SIMD8<Int64>>

  /// Lanes with a saturable term (`Vm > 0`); the others never need care.
  let saturable: Mask
  let invVc, km, safeAbove, checkCap, stiffnessScale: Lanes

  init(_ paths: [ExponentialPath]) {
    precondition(paths.count == Lanes.scalarCount)
    var saturable = Mask(repeating: false)
    var invVc = Lanes.zero, km = Lanes.zero, safeAbove = Lanes.zero, checkCap = Lanes.zero, stiffnessScale = Lanes.zero
    for (l, path) in paths.enumerated() {
      saturable[l] = path.N.vmax > 0
      (invVc[l], km[l], safeAbove[l]) = (path.N.invVc, path.N.km, path.safeAbove)
      (checkCap[l], stiffnessScale[l]) = (path.checkCap, path.stiffnessScale)
    }
    (self.saturable, self.invVc, self.km, self.safeAbove, self.checkCap, self.stiffnessScale) =
      (saturable, invVc, km, safeAbove, checkCap, stiffnessScale)
  }

  /// `C⁺ = max(A_c/Vc, 0)` per lane, as `Swift.max` takes it (0 where A_c/Vc ≤ 0, NaN kept).
  @inline(__always)
  func concentration(_ a: Lanes) -> Lanes {
    let x = a * invVc
    return x.replacing(with: 0, where: x .<= 0)
  }

  /// Whether each lane's amount is finite.
  @inline(__always)
  static func isFinite(_ b: Lanes) -> Mask { (b - b) .== .zero }

  /// Whether the substep starting from central amounts `a` must not be taken as one fast step:
  /// C below `safeAbove` (the saturable term bends or is stiff there).
  @inline(__always)
  func needsCare(_ a: Lanes) -> Mask { saturable .& (concentration(a) .< safeAbove) }

  /// The two sides of `fails`: |N(after) − N(before)|·h and min(|A_c|, `checkCap`).
  @inline(__always)
  func checkTerms(before: Lanes, after: Lanes, h: Double, central a: Lanes) -> (change: Lanes, scale: Lanes) {
    let delta = after - before
    let magnitude = a.replacing(with: -a, where: a .< 0)
    return (delta.replacing(with: -delta, where: delta .< 0) * h, magnitude.replacing(with: checkCap, where: checkCap .< magnitude))
  }

  /// The a-posteriori check of a fast step of length h: where N changed over the step by more
  /// than 1e-4 of the central amount per unit time, that amount capped at `checkCap`
  /// (|ΔN|·h > 1e-4·min(|A_c|, `checkCap`)), its polynomial-in-time treatment is not accurate
  /// enough (C rising through the bend of the saturable term after a dose, e.g. 0.5 → 20 mg/L with
  /// Km 0.01, a rise with Km 2.08, or a washout tail nearing Km; measured: 4e-5 relative error where
  /// N changed by 2 % of Vmax), and the step is redone with care. `before`, `after`: the lanes'
  /// saturable rates at the step's ends; `a`: their central amounts at its start.
  @inline(__always)
  func fails(before: Lanes, after: Lanes, h: Double, central a: Lanes) -> Mask {
    let (change, scale) = checkTerms(before: before, after: after, h: h, central: a)
    return saturable .& (change .> 1e-4 * scale)
  }

  /// Whether a step that `fails` is likely to pass as two steps of half its length (a prediction;
  /// the halves are checked): `fails`' measure, which halving roughly quarters (N's change over
  /// the step and h both halve), within 4× of its bound.
  @inline(__always)
  func passesWhenHalved(before: Lanes, after: Lanes, h: Double, central a: Lanes) -> Mask {
    let (change, scale) = checkTerms(before: before, after: after, h: h, central: a)
    return change .<= 4e-4 * scale
  }

  /// Whether a substep of length `span` from central amounts `a` that needs care (`care`, from
  /// `needsCare`) takes the adaptive window (over the whole substep) rather than quarter steps:
  /// C below `safeAbove` and stiff even for a quarter step, `(span/4)·Vm·Km/(Km + C)² > 0.5`
  /// (just after the first dose with Km 0.01 mg/L, a long washout), or with no drug in
  /// circulation (central and peripheral amounts `a` and `p` both 0: a first dose, where C rises
  /// from 0 through the whole bend within the substep; Zhang 2021's quarter steps there mostly
  /// failed their check and took a window each, where one window for the day costs 3.5 % fewer
  /// instructions, errors unchanged). Stopping the window once C ≥ 1000 Km and taking the rest as
  /// one fast step, as the transit model did until stop 12, needed matrix functions for a step
  /// length of the patient's own, was no faster, and less accurate (8.9e-7 against 3.5e-7
  /// relative after 300 mg q4w).
  @inline(__always)
  func takesWindow(care: Mask, central a: Lanes, peripheral p: Lanes, span: Double) -> Mask {
    let conc = concentration(a)
    let empty = (a .== .zero) .& (p .== .zero)
    let stiff = span / 4 * stiffnessScale / ((km + conc) * (km + conc)) .> 0.5
    return care .& (empty .| stiff)
  }
}

/// The saturable elimination rate `Vm·Vc·C⁺/(Km + C⁺)` (mg/day), `C⁺ = max(A_c/Vc, 0)`.
struct MichaelisMenten: ScalarNonlinearity {
  let central: Int
  let vmax, km, invVc: Double
  @inline(__always)
  func value(_ y: UnsafePointer<Double>) -> Double { value(central: y[central]) }

  /// The rate for a central amount `a`.
  @inline(__always)
  func value(central a: Double) -> Double {
    let conc = Swift.max(a * invVc, 0)
    return vmax * conc / (km + conc)
  }
}
