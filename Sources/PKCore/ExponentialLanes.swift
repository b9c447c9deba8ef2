import PKNumerics

/// The exponential fast path (`ExponentialPath`) for up to eight patients at once, one per SIMD
/// lane. Patients given the same doses on the same grid take the same steps, so their fast steps
/// run side by side: each ETDRK4 step is a chain of four dependent divisions (the stages'
/// saturable terms), and one patient alone leaves the processor waiting on them; eight lanes (two
/// AVX2 registers per value, four SSE2 ones on a baseline x86-64 build) fill that wait (`perf` on the 2-core
/// EPYC: with four lanes the step stalled on the divisions). A lane whose substep needs care (C
/// below `safeAbove`, or a failed check) is redone from its state before the step while the
/// others keep theirs: by quarter steps, which the flagged lanes take side by side (all lanes need
/// them on the day after a dose; a quarter that fails its check by at most 4× is redone as two
/// eighths), or by the adaptive window, side by side where two or more lanes
/// take it over the same substep. Lanes never mix: each lane's arithmetic is the same whatever its
/// neighbours, so a patient's curve does not depend on which patients share its group (a single
/// subject runs as a group of one) — cohort output is the same for every thread count and batch
/// size.
struct ExponentialLanes {
  typealias Lanes = SIMD8<Double>
  typealias Mask = SIMDMask<SIMD8<Int64>>
  static let width = 8

  var paths: [ExponentialPath]
  /// How many lanes hold a patient (the rest repeat lane 0 and are ignored).
  let active: Int
  /// The step coefficients by step length (the bits of h), looked up by a linear scan: a group
  /// meets a handful of lengths (the day, its quarters and eighths, the pieces around doses), and
  /// hashing the key cost more than the scan.
  private var coefficients: [(h: UInt64, coefficients: [Lanes], finite: Mask)] = []
  /// The absorption chain's exponentials, shared by the patients one simulator runs.
  private let chainExponentials: ChainExponentials
  /// The lanes' linear parts side by side (entry (i, j) of lane l at [i·n + j][l]).
  private let linearLanes: [Lanes]

  init(parameters: [PKParameters], chainExponentials: ChainExponentials = ChainExponentials()) {
    precondition(!parameters.isEmpty && parameters.count <= Self.width)
    precondition(parameters.allSatisfy { $0.ntr == parameters[0].ntr })
    active = parameters.count
    self.chainExponentials = chainExponentials
    paths = (0..<Self.width).map { ExponentialPath(parameters: parameters[$0 < parameters.count ? $0 : 0]) }
    var linear = [Lanes](repeating: .zero, count: paths[0].linear.count)
    for l in 0..<Self.width { for i in linear.indices { linear[i][l] = paths[l].linear[i] } }
    linearLanes = linear
  }

  /// Each lane's step coefficients for length h, interleaved (coefficient i of lane l at [i][l]),
  /// and which lanes' matrix functions are finite; computed once per length.
  private mutating func steps(for h: Double) -> (coefficients: [Lanes], finite: Mask) {
    let bits = h.bitPattern
    for entry in coefficients where entry.h == bits { return (entry.coefficients, entry.finite) }
    var finite = Mask(repeating: true)
    let m = paths[0].central
    let count = StructuredETDRK4Step.count(chain: m)
    var out = [Lanes](repeating: .zero, count: count)
    // All lanes side by side where the small blocks allow it (the same bits as one by one)…
    let direction = paths[0].direction, exponentials = chainExponentials
    let sideBySide = linearLanes.withUnsafeBufferPointer { linear in
      out.withUnsafeMutableBufferPointer {
        StructuredETDRK4Step.fillSideBySide(
          linear: linear.baseAddress!, chain: m, direction: direction, h: h, chainExponentials: exponentials, into: $0.baseAddress!)
      }
    }
    for l in 0..<active where sideBySide[l] {
      for i in 0..<count where !out[i][l].isFinite {
        finite[l] = false
        break
      }
    }
    // …and the other lanes one by one.
    withUnsafeTemporaryAllocation(of: Double.self, capacity: count) { buffer in
      let lane = buffer.baseAddress!
      for l in 0..<active where !sideBySide[l] {
        let path = paths[l]
        finite[l] = StructuredETDRK4Step.fill(
          linear: path.linear, chain: m, direction: path.direction, h: h, chainExponentials: chainExponentials, into: lane)
        for i in 0..<count { out[i][l] = lane[i] }
      }
    }
    // Unused lanes repeat lane 0 (no matrix functions of their own).
    for l in active..<Self.width {
      finite[l] = finite[0]
      for i in 0..<count { out[i][l] = out[i][0] }
    }
    if coefficients.count >= 16 { coefficients.removeAll(keepingCapacity: true) }
    coefficients.append((bits, out, finite))
    return (out, finite)
  }

  /// Samples each active lane's `factor·A_c` on the grid into its output, grid time k at
  /// `outputs[l][k·outputStride]` (pre-dose values at dose times). `adaptive(lane, y, t0, t1)`
  /// advances that lane's drug amounts `y` from t0 to t1 with an adaptive integrator, for a substep
  /// that needs care and is stiff (`LaneCareTests.takesWindow`), a quarter step that failed its
  /// check by more than 4× (or whose eighths' coefficients are not finite), or an eighth that
  /// failed its own.
  /// Where two or more lanes take such a window over the same interval (the first dose: every
  /// lane starts at C = 0; the day after a dose), they go together to
  /// `adaptiveLanes(taking, y, t0, t1)` (y: the lanes' amounts, interleaved), which returns, per
  /// lane, whether it was done; `adaptive` then takes the others alone. Either way a lane's window
  /// gives the same bytes (`WindowIntegrator`).
  /// - Returns: per lane, false when that patient must be integrated adaptively from the start.
  mutating func sample(
    doses: [Dose], grid: OutputGrid, factors: [Double], outputs: [UnsafeMutablePointer<Double>], outputStride: Int = 1,
    adaptive: (Int, UnsafeMutablePointer<Double>, Double, Double) throws -> Void,
    adaptiveLanes: ([Bool], UnsafeMutablePointer<Lanes>, Double, Double) throws -> [Bool]
  ) throws -> [Bool] {
    let n = paths[0].n, c = paths[0].central, m = c
    // The per-lane flags, in one allocation: the step loop writes them often, and arrays would
    // check their uniqueness on every write. `ok`: the lane stays on the fast path.
    let flags = UnsafeMutablePointer<Bool>.allocate(capacity: 3 * Self.width)
    flags.initialize(repeating: false, count: 3 * Self.width)
    defer { flags.deallocate() }
    let ok = flags
    for l in 0..<Self.width { ok[l] = l < active }
    var vmax = Lanes.zero, km = Lanes.zero, invVc = Lanes.zero, bio = Lanes.zero, factor = Lanes.zero
    for l in 0..<Self.width {
      vmax[l] = paths[l].N.vmax; km[l] = paths[l].N.km; invVc[l] = paths[l].N.invVc
      bio[l] = paths[l].parameters.F
      factor[l] = factors[l < active ? l : 0]
    }
    /// The saturable rate for central amounts `a` (the scalar `MichaelisMenten.value`, per lane).
    @inline(__always) func rate(_ a: Lanes) -> Lanes {
      let x = a * invVc
      // max(x, 0) lane by lane as `Swift.max` takes it (0 where x ≤ 0, NaN kept).
      let conc = x.replacing(with: 0, where: x .<= 0)
      return vmax * conc / (km + conc)
    }
    let tests = LaneCareTests(paths)
    /// Whether any lane's step from central amount `a` to `b` (saturable rates `nu` → `nuAfter`)
    /// may need care: `tests`' `needsCare`, non-finite and `fails` side by side, without
    /// their `vmax > 0` condition (a superset of the lanes the full tests flag; most steps pass).
    @inline(__always) func suspect(before a: Lanes, after b: Lanes, nu: Lanes, nuAfter: Lanes, h: Double) -> Bool {
      let low = a * tests.invVc .< tests.safeAbove
      return any(low) || changed(before: a, after: b, nu: nu, nuAfter: nuAfter, h: h)
    }
    /// `suspect` without `needsCare`: whether any lane's step is not finite or fails `fails`.
    @inline(__always) func changed(before a: Lanes, after b: Lanes, nu: Lanes, nuAfter: Lanes, h: Double) -> Bool {
      let (change, scale) = tests.checkTerms(before: nu, after: nuAfter, h: h, central: a)
      return any(.!LaneCareTests.isFinite(b) .| (change .> 1e-4 * scale))
    }
    // The lanes' amounts and their copy from before the current step (n each), as a raw buffer:
    // the step loop does no array bookkeeping.
    let y = UnsafeMutablePointer<Lanes>.allocate(capacity: 5 * n)
    y.initialize(repeating: .zero, count: 5 * n)
    // …and the quarter steps' amounts, and their copy from before the current quarter.
    let saved = y + n, quarterState = saved + n, quarterSaved = quarterState + n
    // …and the eighth steps' copy from before the current eighth.
    let eighthSaved = quarterSaved + n
    defer { y.deallocate() }
    // The lanes' amounts through a shared adaptive window.
    let window = UnsafeMutablePointer<Lanes>.allocate(capacity: n)
    window.initialize(repeating: .zero, count: n)
    defer { window.deallocate() }
    // The lanes of an adaptive window (`windows`), and those of them taking it alone.
    let windowLanes = flags + Self.width, alone = windowLanes + Self.width
    /// The flags `lanes` as an array, for `adaptiveLanes`.
    func array(_ lanes: UnsafeMutablePointer<Bool>) -> [Bool] { Array(UnsafeBufferPointer(start: lanes, count: Self.width)) }
    /// The lanes `ok` as a mask.
    func okLanes() -> Mask {
      var lanes = Mask(repeating: false)
      for l in 0..<Self.width { lanes[l] = ok[l] }
      return lanes
    }
    /// How many lanes `lanes` holds.
    func count(_ lanes: Mask) -> Int {
      var total = 0
      for l in 0..<Self.width where lanes[l] { total += 1 }
      return total
    }
    var lane = [Double](repeating: 0, count: n)
    var t = 0.0, k = 0, d = 0
    var nu = Lanes.zero
    var currentH = -1.0
    var current: [Lanes] = []
    var finite = Mask(repeating: true)
    let last = grid.lastTime
    /// The quarter step [t0, t1] of the lanes marked in `halves` (their amounts in
    /// `quarterState`, as at t0), redone as two steps of half its length, each under the
    /// a-posteriori check at its own length (`fails`); an eighth that fails it is integrated
    /// adaptively (`windows`). Halving the step divides `fails`' measure by about four (N's change
    /// and h both halve), so a quarter that failed by up to 4× (`passesWhenHalved`) passes as
    /// eighths: 89 % of zhang2021's failed quarters after its first day (200 patients, label
    /// regimen), each of which had taken a window of several Dormand–Prince steps. The eighths'
    /// own check is the safety net: accepting every eighth unchecked moved no error against the
    /// rtol-1e-11 references by more than 3e-9 (zhang2021, and Km 0.1–1 mg/L with Vm 3–5). The
    /// other lanes' amounts are left as they are. Each lane's operations are its own, as in
    /// `quarterSteps`.
    func eighthSteps(_ halves: Mask, from t0: Double, to t1: Double) throws {
      let span = (t1 - t0) / 2
      let (coefficients, finite) = steps(for: span)
      let marked = halves .& finite
      if any(marked) {
        try coefficients.withUnsafeBufferPointer { coefficients in
          for e in 0..<2 {
            let before = rate(quarterState[c])
            for j in 0..<n { eighthSaved[j] = quarterState[j] }
            let after = structuredETDRK4(quarterState, chain: m, nu: before, coefficients: coefficients.baseAddress!, rate: rate)
            // Only the marked lanes take the step.
            for j in 0..<n { quarterState[j] = eighthSaved[j].replacing(with: quarterState[j], where: marked) }
            let failing = marked .& (.!LaneCareTests.isFinite(quarterState[c]) .| tests.fails(before: before, after: after, h: span, central: eighthSaved[c]))
            guard any(failing) else { continue }
            for j in 0..<n { quarterState[j] = quarterState[j].replacing(with: eighthSaved[j], where: failing) }
            let e0 = t0 + Double(e) * span, e1 = e == 1 ? t1 : e0 + span
            try windows(failing, from: e0, to: e1)
          }
        }
      }
      // Lanes whose eighth-step functions are not finite take the window over the whole quarter.
      let rest = halves .& .!marked
      if any(rest) { try windows(rest, from: t0, to: t1) }
    }
    /// The adaptive windows over [t0, t1] of the lanes `lanes`, their amounts in `quarterState`:
    /// side by side where two or more take it, else alone.
    func windows(_ lanes: Mask, from t0: Double, to t1: Double) throws {
      for l in 0..<Self.width { (windowLanes[l], alone[l]) = (lanes[l], lanes[l]) }
      if count(lanes) >= 2 {
        let done = try adaptiveLanes(array(windowLanes), quarterState, t0, t1)
        for l in 0..<Self.width where lanes[l] && done[l] { alone[l] = false }
      }
      for l in 0..<Self.width where alone[l] {
        try lane.withUnsafeMutableBufferPointer { buffer in
          let v = buffer.baseAddress!
          for j in 0..<n { v[j] = quarterState[j][l] }
          try adaptive(l, v, t0, t1)
          for j in 0..<n { quarterState[j][l] = v[j] }
        }
      }
    }
    /// The careful substep of the lanes `lanes` (care needed, not stiff for a quarter
    /// step), side by side, from their amounts in `saved` over [t0, t1]: four steps of
    /// (t1 − t0)/4, each under the a-posteriori check (ETDRK4's error falls 256-fold); a quarter
    /// that fails it by at most 4× is redone as two eighths (`eighthSteps`), any other is
    /// integrated adaptively, by the lanes that failed it together (`adaptiveLanes`) or alone
    /// (`windows`). A lane's operations do not depend on which other lanes are
    /// marked (a patient alone runs this as a group of one), so its bytes are the same.
    func quarterSteps(_ lanes: Mask, from t0: Double, to t1: Double) throws {
      let span = (t1 - t0) / 4
      let (coefficients, finite) = steps(for: span)
      var quarter = lanes
      for l in 0..<active where quarter[l] && !finite[l] {
        // The lane gives up (integrated adaptively from the start) with its amounts as they were.
        for j in 0..<n { y[j][l] = saved[j][l] }
        nu[l] = paths[l].N.value(central: saved[c][l])
        (quarter[l], ok[l]) = (false, false)
      }
      for j in 0..<n { quarterState[j] = saved[j] }
      try coefficients.withUnsafeBufferPointer { coefficients in
        for q in 0..<4 {
          let before = rate(quarterState[c])
          for j in 0..<n { quarterSaved[j] = quarterState[j] }
          let after = structuredETDRK4(quarterState, chain: m, nu: before, coefficients: coefficients.baseAddress!, rate: rate)
          // All lanes' checks at once (a superset of the lanes `fails`); most quarters pass.
          guard changed(before: quarterSaved[c], after: quarterState[c], nu: before, nuAfter: after, h: span) else { continue }
          let failing = quarter .& (.!LaneCareTests.isFinite(quarterState[c]) .| tests.fails(before: before, after: after, h: span, central: quarterSaved[c]))
          guard any(failing) else { continue }
          let halves = failing .& LaneCareTests.isFinite(quarterState[c]) .& tests.passesWhenHalved(before: before, after: after, h: span, central: quarterSaved[c])
          for j in 0..<n { quarterState[j] = quarterState[j].replacing(with: quarterSaved[j], where: failing) }
          let q0 = t0 + Double(q) * span, q1 = q == 3 ? t1 : q0 + span
          // Lanes likely to pass as eighths take them; the rest take the window at once.
          if any(halves) { try eighthSteps(halves, from: q0, to: q1) }
          let rest = failing .& .!halves
          if any(rest) { try windows(rest, from: q0, to: q1) }
        }
      }
      for j in 0..<n { y[j] = y[j].replacing(with: quarterState[j], where: quarter) }
      nu = nu.replacing(with: rate(quarterState[c]), where: quarter)
    }
    // Eight patients whose values go to adjacent places (a full group written straight into the
    // columns, in the lanes' order): a grid time's values are one vector store.
    let adjacent: UnsafeMutablePointer<Double>? =
      active == Self.width && (1..<Self.width).allSatisfy { outputs[$0] == outputs[0] + $0 } ? outputs[0] : nil
    while true {
      while k < grid.count && grid.time(k) <= t {
        let v = factor * y[c]
        if let adjacent {
          UnsafeMutableRawPointer(adjacent + k &* outputStride).storeBytes(of: v, as: Lanes.self)
        } else {
          for l in 0..<active { outputs[l][k &* outputStride] = v[l] }
        }
        k += 1
      }
      while d < doses.count && doses[d].time <= t {
        switch doses[d].route {
        case .sc: y[0] += bio * doses[d].amount
        case .iv: y[c] += Lanes(repeating: doses[d].amount)
        }
        d += 1
        nu = rate(y[c])
      }
      guard k < grid.count else { return array(ok) }
      var next = grid.time(k)
      if d < doses.count && doses[d].time < next { next = doses[d].time }
      next = Swift.min(next, last)
      let span = next - t
      let pieces: Int, h: Double
      if span == currentH {
        (pieces, h) = (1, span)
      } else {
        let count = Swift.max(1, (span / ExponentialPath.maximumStep).rounded(.up))
        (pieces, h) = (Int(count), span / count)
        if h != currentH {
          (current, finite) = steps(for: h)
          currentH = h
          for l in 0..<active where !finite[l] { ok[l] = false }
        }
      }
      try current.withUnsafeBufferPointer { coefficients in
        for i in 0..<pieces {
          let t0 = t + Double(i) * h
          let t1 = i + 1 == pieces ? next : t0 + h
          for j in 0..<n { saved[j] = y[j] }
          let before = nu
          nu = structuredETDRK4(y, chain: m, nu: before, coefficients: coefficients.baseAddress!, rate: rate)
          // All lanes' checks at once; only a flagged step runs the lanes' own tests.
          guard suspect(before: saved[c], after: y[c], nu: before, nuAfter: nu, h: h) else { continue }
          // The lanes' own tests: a lane needs care (C below `safeAbove`), is not finite, or fails
          // the a-posteriori check; of those, the stiff ones take the adaptive window.
          let care = tests.needsCare(saved[c])
          let usable = okLanes()
          let takes = usable .& tests.takesWindow(care: care, central: saved[c], peripheral: saved[c + 1], span: t1 - t0)
          var flagged = usable .& (care .| .!LaneCareTests.isFinite(y[c]) .| tests.fails(before: before, after: nu, h: h, central: saved[c]))
          // Two or more lanes taking the window go side by side…
          if count(takes) >= 2 {
            for j in 0..<n { window[j] = saved[j] }
            for l in 0..<Self.width { windowLanes[l] = takes[l] }
            let done = try adaptiveLanes(array(windowLanes), window, t0, t1)
            for l in 0..<active where takes[l] && done[l] {
              for j in 0..<n { y[j][l] = window[j][l] }
              nu[l] = paths[l].N.value(central: window[c][l])
              flagged[l] = false
            }
          }
          // …a lone one (or one the side-by-side window left out) goes alone, and the other flagged
          // lanes take quarter steps side by side.
          for l in 0..<active where flagged[l] && takes[l] {
            try lane.withUnsafeMutableBufferPointer { buffer in
              let v = buffer.baseAddress!
              for j in 0..<n { v[j] = saved[j][l] }
              try adaptive(l, v, t0, t1)
              for j in 0..<n { y[j][l] = v[j] }
              nu[l] = paths[l].N.value(v)
            }
          }
          let quartering = flagged .& .!takes
          if any(quartering) { try quarterSteps(quartering, from: t0, to: t1) }
        }
      }
      t = next
    }
  }
}
