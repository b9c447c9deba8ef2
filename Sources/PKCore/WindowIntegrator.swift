import PKNumerics

/// A compact Dormand–Prince 5(4) for the fast path's careful windows (`ExponentialPath`): the drug
/// amounts only (no eliminated-amount or AUC states, which the windows never need), the model's
/// right-hand side written out, no dense output (a window has no grid time inside it), and one
/// workspace reused for every window of every patient. It runs one patient (`Double`) or up to
/// eight side by side (`SIMD8<Double>`, the lanes of `ExponentialLanes`, whose first-dose windows
/// all start together): each lane keeps its own step size, time and controller, and does the
/// same IEEE operations in the same order as when run alone, so a patient's window gives the same
/// bytes either way (tested).
///
/// Same method, tableau (`ExplicitRungeKuttaTableau.dormandPrince54`), error norm (Hairer's RMS of
/// `err/(atol + rtol·max(|y₀|, |y₁|))`) and starting step as `ODEIntegrator`; the error is
/// measured on the drug amounts alone, and an absorption-chain amount's against the larger of its
/// own size and the central amount's. The chain is linear and empties into the central
/// compartment, so its errors matter as amounts delivered there; measured against their own size,
/// the transit compartments of Kovalenko 2020 (ktr ≈ 38/day), emptying to fractions of a
/// milligram within hours while C rises to mg/L, held the first-dose window to steps of 0.007 day
/// (λh ≈ 0.27) to resolve e^{−ktr t} itself: 89 steps over the typical patient's first day.
/// Measured against the central amount too: 62 steps, 10 % fewer instructions per kovalenko2020
/// cohort, and the errors against the rtol-1e-11 references unchanged to two digits (200
/// patients × 4 regimens × 3 models). The step control is `StepSizeController`'s without its
/// proportional term (β = 0; `WindowStepControl`): a window starts from a tiny step with errors
/// far below tolerance, and the integral controller grows the step faster there (measured: 20 %
/// fewer steps in kovalenko2016's first-dose window, 8 % in kovalenko2020's, 13 % over zhang2021's
/// windows; no rejections, accuracy unchanged). A window it cannot finish
/// within `budget` steps (stiff: a saturable term far sharper than the shipped models') or with
/// finite values is left to the caller, which integrates it with `ODEIntegrator`'s `.auto`
/// (RODAS4 for stiff segments).
/// Source: J. R. Dormand, P. J. Prince, J. Comput. Appl. Math. 6 (1980) 19–26; E. Hairer,
/// S. P. Nørsett, G. Wanner, *Solving ODEs I* (1993), §II.4–5 and code DOPRI5.
final class WindowIntegrator {
  static let budget = 5_000
  let rtol: Double
  let atol: Double
  private let tableau = Coefficients(ExplicitRungeKuttaTableau.dormandPrince54)
  private let single = Workspace<Double>()
  private let lanes = Workspace<SIMD8<Double>>()

  init(relativeTolerance: Double, absoluteTolerance: Double) {
    rtol = relativeTolerance
    atol = absoluteTolerance
  }

  /// The Dormand–Prince coefficients by name (`a_ij`: stage i from stage j; `e_j`: error
  /// weights, b − b̂), so each stage below is one loop over the amounts. `a_61` and `e_1` are zero
  /// in this tableau and left out.
  private struct Coefficients {
    let a10, a20, a21, a30, a31, a32, a40, a41, a42, a43: Double
    let a50, a51, a52, a53, a54, a60, a62, a63, a64, a65: Double
    let e0, e2, e3, e4, e5, e6: Double

    init(_ t: ExplicitRungeKuttaTableau) {
      precondition(t.stages == 7 && t.a[6 * 7 + 1] == 0 && t.e[1] == 0)
      func a(_ i: Int, _ j: Int) -> Double { t.a[i * 7 + j] }
      (a10, a20, a21, a30, a31, a32) = (a(1, 0), a(2, 0), a(2, 1), a(3, 0), a(3, 1), a(3, 2))
      (a40, a41, a42, a43) = (a(4, 0), a(4, 1), a(4, 2), a(4, 3))
      (a50, a51, a52, a53, a54) = (a(5, 0), a(5, 1), a(5, 2), a(5, 3), a(5, 4))
      (a60, a62, a63, a64, a65) = (a(6, 0), a(6, 2), a(6, 3), a(6, 4), a(6, 5))
      (e0, e2, e3, e4, e5, e6) = (t.e[0], t.e[2], t.e[3], t.e[4], t.e[5], t.e[6])
    }
  }

  /// Stages and states, reused from window to window.
  private final class Workspace<T: WindowLanes> {
    var capacity = 0
    var values = UnsafeMutablePointer<T>.allocate(capacity: 1)

    func reserve(_ n: Int) -> UnsafeMutablePointer<T> {
      if capacity < n {
        values.deallocate()
        values = .allocate(capacity: 11 * n)
        capacity = n
      }
      return values
    }
    deinit { values.deallocate() }
  }

  /// The model's drug-amount derivatives (`CompartmentSystem.derivatives` without the tracking
  /// states), for one patient or one per lane.
  struct Model<T: WindowLanes> {
    let chain: Int
    let ktr, ka, ke, k12, k21: T
    /// The saturable term's `vmax`, `km` and `1/Vc` (`MichaelisMenten`).
    let vmax, km, invVc: T

    init(chain: Int, lane: (Int) -> (PKParameters, MichaelisMenten)) {
      self.chain = chain
      var ktr = T.zero, ka = T.zero, ke = T.zero, k12 = T.zero, k21 = T.zero, vmax = T.zero, km = T.zero, invVc = T.zero
      for l in 0..<T.laneCount {
        let (p, N) = lane(l)
        precondition(p.ntr + 1 == chain)
        ktr[lane: l] = p.ktr; ka[lane: l] = p.ka; ke[lane: l] = p.ke; k12[lane: l] = p.k12; k21[lane: l] = p.k21
        vmax[lane: l] = N.vmax; km[lane: l] = N.km; invVc[lane: l] = N.invVc
      }
      (self.ktr, self.ka, self.ke, self.k12, self.k21, self.vmax, self.km, self.invVc) = (ktr, ka, ke, k12, k21, vmax, km, invVc)
    }

    /// One patient's model.
    init(_ p: PKParameters, _ N: MichaelisMenten) where T == Double {
      self.init(chain: p.ntr + 1) { _ in (p, N) }
    }

    /// `MichaelisMenten.value(central:)`, lane by lane.
    @inline(__always)
    func rate(_ a: T) -> T {
      let conc = (a * invVc).clampedAtZero
      return vmax * conc / (km + conc)
    }

    @inline(__always)
    func derivatives(_ y: UnsafePointer<T>, _ d: UnsafeMutablePointer<T>) {
      let m = chain
      var inflow = T.zero
      for i in 0..<(m - 1) {
        let out = ktr * y[i]
        d[i] = inflow - out
        inflow = out
      }
      let absorbed = ka * y[m - 1]
      d[m - 1] = inflow - absorbed
      let central = y[m], peripheral = y[m + 1]
      d[m] = absorbed - ke * central - k12 * central + k21 * peripheral - rate(central)
      d[m + 1] = k12 * central - k21 * peripheral
    }
  }

  /// Advances `y` (the drug amounts) from t0 to t1; returns false (with `y` as it was given) when
  /// the window needs the general integrator.
  func advance(_ model: Model<Double>, _ y: UnsafeMutablePointer<Double>, from t0: Double, to t1: Double) -> Bool {
    run(model, y, from: t0, to: t1, taking: true, work: single)
  }

  /// `advance` for the lanes marked in `taking`, side by side; per lane, whether it reached t1
  /// (lanes not taking part: false, their amounts left as given).
  func advance(
    _ model: Model<SIMD8<Double>>, _ y: UnsafeMutablePointer<SIMD8<Double>>, from t0: Double, to t1: Double,
    lanes taking: [Bool]
  ) -> [Bool] {
    var selected = SIMD8<Double>.Selection(repeating: false)
    for l in 0..<8 { selected[l] = taking[l] }
    let finished = run(model, y, from: t0, to: t1, taking: selected, work: lanes)
    return (0..<8).map { finished[$0] }
  }

  /// The steps of the lanes in `taking`, all lanes' bookkeeping at once (lane-wise selections,
  /// `WindowLanes`): a lane is active until it lands on t1 (accepted), meets a non-finite error,
  /// or its step falls below 10 ulps of its time; lanes not active take steps of length 0, whose
  /// results are never used. Returns the lanes that reached t1.
  private func run<T: WindowLanes>(
    _ model: Model<T>, _ y: UnsafeMutablePointer<T>, from t0: Double, to t1: Double, taking: T.Selection,
    work: Workspace<T>
  ) -> T.Selection {
    let n = model.chain + 2, c = model.chain
    let k = work.reserve(n), y0 = k + 7 * n, y1 = y0 + n, stage = y1 + n, err = stage + n
    let k1 = k + n, k2 = k1 + n, k3 = k2 + n, k4 = k3 + n, k5 = k4 + n, k6 = k5 + n
    y0.update(from: y, count: n)
    let dp = tableau
    let end = T(lanesOf: t1), zero = T.zero
    var active = taking, finished = taking .& .!taking
    var afterRejection = finished
    var time = T(lanesOf: t0)
    model.derivatives(y0, k)
    var step = initialSteps(model, y0: y0, f0: k, scratch: stage, out: err, n: n, span: t1 - t0)
    var iterations = 0
    while active.anySelected && iterations < Self.budget {
      iterations += 1
      let lands = active .& T.isAtLeast(time + 1.01 * step, end)
      let h = T.choose(active, T.choose(lands, end - time, step), zero)
      for i in 0..<n { stage[i] = y0[i] + h * (dp.a10 * k[i]) }
      model.derivatives(stage, k1)
      for i in 0..<n { stage[i] = y0[i] + h * (dp.a20 * k[i] + dp.a21 * k1[i]) }
      model.derivatives(stage, k2)
      for i in 0..<n { stage[i] = y0[i] + h * (dp.a30 * k[i] + dp.a31 * k1[i] + dp.a32 * k2[i]) }
      model.derivatives(stage, k3)
      for i in 0..<n { stage[i] = y0[i] + h * (dp.a40 * k[i] + dp.a41 * k1[i] + dp.a42 * k2[i] + dp.a43 * k3[i]) }
      model.derivatives(stage, k4)
      for i in 0..<n {
        stage[i] = y0[i] + h * (dp.a50 * k[i] + dp.a51 * k1[i] + dp.a52 * k2[i] + dp.a53 * k3[i] + dp.a54 * k4[i])
      }
      model.derivatives(stage, k5)
      for i in 0..<n { y1[i] = y0[i] + h * (dp.a60 * k[i] + dp.a62 * k2[i] + dp.a63 * k3[i] + dp.a64 * k4[i] + dp.a65 * k5[i]) }
      model.derivatives(y1, k6)
      var sum = T.zero
      let centralSize = T.largest(y0[c].absolute, y1[c].absolute)
      for i in 0..<n {
        let d = dp.e0 * k[i] + dp.e2 * k2[i] + dp.e3 * k3[i] + dp.e4 * k4[i] + dp.e5 * k5[i] + dp.e6 * k6[i]
        let own = T.largest(y0[i].absolute, y1[i].absolute)
        let scale = T(lanesOf: atol) + rtol * (i < c ? T.largest(own, centralSize) : own)
        let r = h * d / scale
        sum += r * r
      }
      let errors = (sum / T(lanesOf: Double(n))).root
      // A non-finite error ends the lane's window (the caller's integrator takes it).
      let finite = active .& T.isFinite(errors)
      let accepted = finite .& T.isAtMost(errors, T(lanesOf: 1))
      let rejected = finite .& .!accepted
      for i in 0..<n {
        y0[i] = T.choose(accepted, y1[i], y0[i])
        k[i] = T.choose(accepted, k6[i], k[i])
      }
      let landed = accepted .& lands
      if landed.anySelected {
        for i in 0..<n { y[i] = T.choose(landed, y0[i], y[i]) }
        finished = finished .| landed
      }
      let moved = accepted .& .!lands
      time = T.choose(moved, time + h, time)
      step = T.choose(moved .| rejected, h * WindowStepControl.factors(error: errors, accepted: accepted, afterRejection: afterRejection), step)
      afterRejection = (afterRejection .& .!moved) .| rejected
      active = moved .| rejected
      if rejected.anySelected {
        // A step rejected down to 10 ulps of its time ends the lane's window.
        for l in 0..<T.laneCount where rejected[lane: l] && !(step[lane: l] > 10 * time[lane: l].ulp) { active[lane: l] = false }
      }
    }
    return finished
  }

  /// Hairer's starting step (*Solving ODEs I*, §II.4), as `ODEIntegrator` computes it, per lane.
  private func initialSteps<T: WindowLanes>(
    _ model: Model<T>, y0: UnsafePointer<T>, f0: UnsafePointer<T>, scratch: UnsafeMutablePointer<T>,
    out: UnsafeMutablePointer<T>, n: Int, span: Double
  ) -> T {
    var d0 = T.zero, d1 = T.zero
    for i in 0..<n {
      let sc = T(lanesOf: atol) + rtol * y0[i].absolute
      d0 += (y0[i] / sc) * (y0[i] / sc)
      d1 += (f0[i] / sc) * (f0[i] / sc)
    }
    d0 = (d0 / T(lanesOf: Double(n))).root
    d1 = (d1 / T(lanesOf: Double(n))).root
    var h0 = T.zero
    for l in 0..<T.laneCount {
      let (a, b) = (d0[lane: l], d1[lane: l])
      h0[lane: l] = Swift.min((a < 1e-5 || b < 1e-5) ? 1e-6 : 0.01 * a / b, span)
    }
    for i in 0..<n { scratch[i] = y0[i] + h0 * f0[i] }
    model.derivatives(scratch, out)
    var d2 = T.zero
    for i in 0..<n {
      let sc = T(lanesOf: atol) + rtol * y0[i].absolute
      let r = (out[i] - f0[i]) / sc
      d2 += r * r
    }
    d2 = (d2 / T(lanesOf: Double(n))).root / h0
    var steps = T.zero
    for l in 0..<T.laneCount {
      let dMax = Swift.max(d1[lane: l], d2[lane: l]), h0 = h0[lane: l]
      let h1 = dMax <= 1e-15 ? Swift.max(1e-6, h0 * 1e-3) : pow(0.01 / dMax, 1.0 / 5)
      let h = Swift.min(100 * h0, h1, span)
      steps[lane: l] = h.isFinite && h > 0 ? h : Swift.min(1e-6, span)
    }
    return steps
  }
}

/// The integral step-size control of the windows: `StepSizeController`'s with β = 0 and the
/// error exponent of Dormand–Prince's 4th-order estimate, after an accepted step
/// `h·clamp(0.9·err^(−1/5), 0.2, 10)` (at most 1 right after a rejection), after a rejected one
/// `h·clamp(0.9·err^(−1/5), 0.2, 0.9)` — with `err^(−1/5)` from its floating-point exponent and
/// three Newton steps (`inverseFifthRoot`, within 3e-6) instead of `log` and `exp`, which took
/// about 5 % of a kovalenko2020 cohort; all lanes at once (`factors`), since one call per lane and
/// step, each a chain of dependent multiplications, took another 7 %. The factor only steers the
/// step; the error test decides.
/// Source: Hairer, Nørsett & Wanner, *Solving ODEs I* (1993), §II.4, eq. (4.13).
enum WindowStepControl {
  /// The step factor of each lane for a finite error: where `accepted`,
  /// `min(10, max(0.2, 0.9·max(err, 1e-10)^(−1/5)))`, at most 1 `afterRejection`; elsewhere
  /// `min(0.9, max(0.2, 0.9·err^(−1/5)))`. Lane by lane the operations of the scalar formula.
  @inline(__always)
  static func factors<T: WindowLanes>(error: T, accepted: T.Selection, afterRejection: T.Selection) -> T {
    let floor = T(lanesOf: 1e-10)
    let root = inverseFifthRoot(T.choose(accepted, T.largest(error, floor), error))
    let raw = 0.9 * root
    let growth = T.smallest(T(lanesOf: 10), T.largest(T(lanesOf: 0.2), raw))
    let capped = T.choose(afterRejection, T.smallest(growth, T(lanesOf: 1)), growth)
    let shrink = T.smallest(T(lanesOf: 0.9), T.largest(T(lanesOf: 0.2), raw))
    return T.choose(accepted, capped, shrink)
  }

  /// `x^(−1/5)` for finite x > 0, within 3e-6 relative: a first guess from the bit pattern
  /// (`bits(y) ≈ 1.2·bits(1) − bits(x)/5`, the exponent's share exact, within 8 %), then
  /// three Newton steps on `y⁻⁵ = x`, `y ← y·(6 − x·y⁵)/5` (errors 8 % → 2 % → 1e-3 → 3e-6).
  /// Deterministic: the same bits on every machine, alone or in lanes.
  @inline(__always)
  static func inverseFifthRoot<T: WindowLanes>(_ x: T) -> T {
    var y = T.fifthRootGuess(x)
    for _ in 0..<3 {
      let y2 = y * y
      y = y * (T(lanesOf: 6) - x * y2 * y2 * y) * T(lanesOf: 0.2)
    }
    return y
  }
}

/// A lane-wise selection (which lanes an operation applies to): `Bool` for one patient,
/// `SIMDMask` for eight lanes.
protocol LaneSelection {
  static func .& (a: Self, b: Self) -> Self
  static func .| (a: Self, b: Self) -> Self
  static prefix func .! (a: Self) -> Self
  var anySelected: Bool { get }
  subscript(lane l: Int) -> Bool { get set }
}

extension Bool: LaneSelection {
  @inline(__always) static func .& (a: Bool, b: Bool) -> Bool { a && b }
  @inline(__always) static func .| (a: Bool, b: Bool) -> Bool { a || b }
  @inline(__always) static prefix func .! (a: Bool) -> Bool { !a }
  var anySelected: Bool { self }
  subscript(lane l: Int) -> Bool {
    get { self }
    set { self = newValue }
  }
}

extension SIMDMask: LaneSelection where Storage == SIMD8<Int64> {
  @inline(__always) var anySelected: Bool { any(self) }
  subscript(lane l: Int) -> Bool {
    get { self[l] }
    set { self[l] = newValue }
  }
}

/// The window integrator's arithmetic, for one patient (`Double`) or eight lanes
/// (`SIMD8<Double>`): lane by lane, each operation is the scalar one (`clampedAtZero` is
/// `Swift.max(x, 0)`, `largest` is `Swift.max`, `smallest` is `Swift.min`, `absolute` is
/// `Swift.abs` for the finite values it is used on, `choose` is `?:`), so a lane's results do
/// not depend on the lanes beside it.
protocol WindowLanes: StepArithmetic {
  associatedtype Selection: LaneSelection
  static var laneCount: Int { get }
  init(lanesOf value: Double)
  subscript(lane l: Int) -> Double { get set }
  static func / (a: Self, b: Self) -> Self
  var clampedAtZero: Self { get }
  var absolute: Self { get }
  static func largest(_ a: Self, _ b: Self) -> Self
  static func smallest(_ a: Self, _ b: Self) -> Self
  var root: Self { get }
  /// `a ≤ b`, `a ≥ b` and `a.isFinite`, lane by lane.
  static func isAtMost(_ a: Self, _ b: Self) -> Selection
  static func isAtLeast(_ a: Self, _ b: Self) -> Selection
  static func isFinite(_ a: Self) -> Selection
  /// `selection ? a : b`, lane by lane.
  static func choose(_ selection: Selection, _ a: Self, _ b: Self) -> Self
  /// `inverseFifthRoot`'s first guess, `bits(1) + bits(1)/5 − bits(x)/5` (Int64 bit patterns,
  /// division truncating).
  static func fifthRootGuess(_ x: Self) -> Self
}

extension Double: WindowLanes {
  typealias Selection = Bool
  static var laneCount: Int { 1 }
  init(lanesOf value: Double) { self = value }
  subscript(lane l: Int) -> Double {
    get { self }
    set { self = newValue }
  }
  var clampedAtZero: Double { Swift.max(self, 0) }
  var absolute: Double { Swift.abs(self) }
  static func largest(_ a: Double, _ b: Double) -> Double { Swift.max(a, b) }
  static func smallest(_ a: Double, _ b: Double) -> Double { Swift.min(a, b) }
  var root: Double { squareRoot() }
  static func isAtMost(_ a: Double, _ b: Double) -> Bool { a <= b }
  static func isAtLeast(_ a: Double, _ b: Double) -> Bool { a >= b }
  static func isFinite(_ a: Double) -> Bool { a.isFinite }
  @inline(__always) static func choose(_ selection: Bool, _ a: Double, _ b: Double) -> Double { selection ? a : b }
  @inline(__always) static func fifthRootGuess(_ x: Double) -> Double {
    let one = Int64(bitPattern: 1.0.bitPattern)
    return Double(bitPattern: UInt64(bitPattern: one + one / 5 - Int64(bitPattern: x.bitPattern) / 5))
  }
}

extension SIMD8: WindowLanes where Scalar == Double {
  typealias Selection = SIMDMask<SIMD8<Int64>>
  static var laneCount: Int { 8 }
  init(lanesOf value: Double) { self.init(repeating: value) }
  subscript(lane l: Int) -> Double {
    get { self[l] }
    set { self[l] = newValue }
  }
  /// `Swift.max(x, 0)` takes 0 where `0 ≥ x` and keeps NaN.
  @inline(__always) var clampedAtZero: Self { replacing(with: 0, where: self .<= 0) }
  /// Zeros of either sign become +0, as `Swift.abs` gives.
  @inline(__always) var absolute: Self { replacing(with: -self, where: self .< 0).replacing(with: 0, where: self .== 0) }
  /// `Swift.max(a, b)` is `b ≥ a ? b : a`.
  @inline(__always) static func largest(_ a: Self, _ b: Self) -> Self { a.replacing(with: b, where: b .>= a) }
  /// `Swift.min(a, b)` is `b < a ? b : a`.
  @inline(__always) static func smallest(_ a: Self, _ b: Self) -> Self { a.replacing(with: b, where: b .< a) }
  @inline(__always) var root: Self { squareRoot() }
  @inline(__always) static func isAtMost(_ a: Self, _ b: Self) -> Selection { a .<= b }
  @inline(__always) static func isAtLeast(_ a: Self, _ b: Self) -> Selection { a .>= b }
  /// Finite exactly where `a − a` is 0 (NaN for ±∞ and NaN).
  @inline(__always) static func isFinite(_ a: Self) -> Selection { (a - a) .== .zero }
  @inline(__always) static func choose(_ selection: Selection, _ a: Self, _ b: Self) -> Self { b.replacing(with: a, where: selection) }
  @inline(__always) static func fifthRootGuess(_ x: Self) -> Self {
    let one = Int64(bitPattern: 1.0.bitPattern)
    let bits = unsafeBitCast(x, to: SIMD8<Int64>.self)
    let guess = SIMD8<Int64>(repeating: one + one / 5) &- bits / 5
    return unsafeBitCast(guess, to: Self.self)
  }
}
