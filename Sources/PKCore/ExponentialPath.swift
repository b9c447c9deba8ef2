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
/// `StructuredETDRK4Step`'s arithmetic); this type holds one patient's model, and decides where a
/// substep needs care: C below `safeAbove` (the saturable term bends, or is stiff: before and just
/// after the first dose, a long washout) or a fast step that failed its a-posteriori check
/// (`fails`). Such a substep is taken by quarter steps (a quarter that fails its check by at
/// most 4× as two eighths), or by the adaptive integrator
/// (`WindowIntegrator`) where it is stiff (`takesWindow`); `ExponentialLanes` does both.
/// Accuracy is pinned by tests against the rtol-1e-11 references: ≤ 1e-5 relative where
/// C > 0.01 mg/L.
struct ExponentialPath {
  static let maximumStep = 1.0
  let parameters: PKParameters
  let n: Int
  let central: Int
  let linear: [Double]
  let direction: [Double]
  /// The saturable term, and where a substep needs more than one fast step (see `needsCare`).
  let N: MichaelisMenten
  let safeAbove: Double
  let stiffnessScale: Double
  /// The largest central amount the a-posteriori check scales with (`fails`): `checkCapInKm`·Km·Vc.
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

  /// Whether the substep starting from central amount `a` must not be taken as one fast step:
  /// C below `safeAbove` (the saturable term bends or is stiff there).
  @inline(__always)
  func needsCare(central a: Double) -> Bool { N.vmax > 0 && Swift.max(a * N.invVc, 0) < safeAbove }

  /// The a-posteriori check of a fast step of length h: where N changed over the step by more
  /// than 1e-4 of the central amount per unit time, that amount capped at `checkCap`
  /// (|ΔN|·h > 1e-4·min(|A_c|, `checkCap`)), its polynomial-in-time treatment is not accurate
  /// enough (C rising through the bend of the saturable term after a dose, e.g. 0.5 → 20 mg/L with
  /// Km 0.01, a rise with Km 2.08, or a washout tail nearing Km; measured: 4e-5 relative error where
  /// N changed by 2 % of Vmax), and the step is redone with care.
  @inline(__always)
  func fails(before: Double, after: Double, h: Double, central a: Double) -> Bool {
    N.vmax > 0 && Swift.abs(after - before) * h > 1e-4 * Swift.min(Swift.abs(a), checkCap)
  }

  /// Whether a step that `fails` is likely to pass as two steps of half its length (a prediction;
  /// the halves are checked): `fails`' measure, which halving roughly quarters (N's change over
  /// the step and h both halve), within 4× of its bound.
  @inline(__always)
  func passesWhenHalved(before: Double, after: Double, h: Double, central a: Double) -> Bool {
    Swift.abs(after - before) * h <= 4e-4 * Swift.min(Swift.abs(a), checkCap)
  }

  /// Whether a substep of length `span` from central amount `a` that needs care takes the adaptive
  /// window (over the whole substep) rather than quarter steps: C below `safeAbove` and stiff even
  /// for a quarter step, `(span/4)·Vm·Km/(Km + C)² > 0.5` (just after the first dose with Km
  /// 0.01 mg/L, a long washout), or with no drug in circulation (central and peripheral amounts
  /// `a` and `p` both 0: a first dose, where C rises from 0 through the whole bend within the
  /// substep; Zhang 2021's quarter steps there mostly failed their check and took a window each,
  /// where one window for the day costs 3.5 % fewer instructions, errors unchanged). Stopping the
  /// window once C ≥ 1000 Km and taking the rest as one fast step, as the transit model did until
  /// stop 12, needed matrix functions for a step length of the patient's own, was no faster, and
  /// less accurate (8.9e-7 against 3.5e-7 relative after 300 mg q4w).
  func takesWindow(central a: Double, peripheral p: Double, span: Double) -> Bool {
    let km = N.km
    let conc = Swift.max(a * N.invVc, 0)
    guard needsCare(central: a) else { return false }
    // A first dose (no drug in circulation): C rises from 0 through the whole bend in the substep.
    if a == 0 && p == 0 { return true }
    return span / 4 * stiffnessScale / ((km + conc) * (km + conc)) > 0.5
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
