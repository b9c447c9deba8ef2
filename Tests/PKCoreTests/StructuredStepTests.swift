import Foundation
import PKNumerics
import Testing

@testable import PKCore

/// `StructuredETDRK4Step` is the dense `ETDRK4Step` with the model's zero blocks skipped: the two
/// must agree to rounding on every shipped model structure, and the Padé degrees chosen by norm
/// must give the same exponential as the degree-13 branch.
@Suite("Structured ETDRK4 step")
struct StructuredStepTests {
  static func path(_ p: PKParameters) -> ExponentialPath { ExponentialPath(parameters: p) }

  /// The step coefficients of eight patients (one model structure) side by side
  /// (`fillSideBySide`), interleaved, and the lanes done there.
  static func sideBySide(_ paths: [ExponentialPath], h: Double) -> (lanes: [SIMD8<Double>], done: SIMDMask<SIMD8<Int64>>) {
    precondition(paths.count == 8)
    let m = paths[0].central, n = m + 2
    var linear = [SIMD8<Double>](repeating: .zero, count: n * n)
    for l in 0..<8 { for i in 0..<(n * n) { linear[i][l] = paths[l].linear[i] } }
    var lanes = [SIMD8<Double>](repeating: .zero, count: StructuredETDRK4Step.count(chain: m))
    let done = linear.withUnsafeBufferPointer { a in
      lanes.withUnsafeMutableBufferPointer {
        StructuredETDRK4Step.fillSideBySide(
          linear: a.baseAddress!, chain: m, direction: paths[0].direction, h: h, chainExponentials: nil, into: $0.baseAddress!)
      }
    }
    return (lanes, done)
  }

  @Test("agrees with the dense ETDRK4 step to 1e-13 relative", arguments: ["kovalenko2020", "kovalenko2016", "zhang2021"])
  func matchesDense(model name: String) {
    let p = Fixtures.model(name).individual(weight: 75, eta: nil)
    let path = Self.path(p)
    let n = path.n, c = path.central
    let N = MichaelisMenten(central: c, vmax: p.Vm * p.Vc, km: p.Km, invVc: 1 / p.Vc)
    for h in [1.0, 0.25, 0.0371] {
      let dense = ETDRK4Step(linear: path.linear, n: n, direction: path.direction, h: h)
      // The patient alone (eight copies of it side by side), as the fast path computes it.
      let (lanes, done) = Self.sideBySide([ExponentialPath](repeating: path, count: 8), h: h)
      #expect(done[0])
      let structured = lanes.map { $0[0] }
      // A state with drug everywhere: chain amounts, central around 30 mg/L, peripheral.
      var y1 = (0..<n).map { Double($0 + 1) * 37.5 }
      var y2 = y1
      var scratch = [Double](repeating: 0, count: 4 * n)
      for _ in 0..<5 {
        y1.withUnsafeMutableBufferPointer { u in
          scratch.withUnsafeMutableBufferPointer { dense.advance(u.baseAddress!, scratch: $0.baseAddress!, nonlinearity: N) }
        }
        y2.withUnsafeMutableBufferPointer { u in
          structured.withUnsafeBufferPointer { coefficients in
            _ = structuredETDRK4(u.baseAddress!, chain: c, nu: N.value(u.baseAddress!), coefficients: coefficients.baseAddress!) { N.value(central: $0) }
          }
        }
      }
      for i in 0..<n {
        #expect(abs(y1[i] - y2[i]) <= 1e-13 * max(abs(y1[i]), 1e-300), "\(name) h=\(h) state \(i): \(y1[i]) vs \(y2[i])")
      }
    }
  }

  @Test("block exponentials (chain, disposition, Sylvester coupling) agree with the n×n exponential to 1e-13")
  func blockExponentialsMatchDense() {
    // Entries of e^{hA} of a compartmental matrix are fractions of a dose (0…1), so the tolerance
    // is absolute. Random parameter sets around the shipped models, transit chains of 0…6, step
    // lengths from 0.0371 to 7 days, and ka swept across the disposition eigenvalues (there the
    // 2×2 systems are near singular and the dense path must take over).
    var random = ParameterDraws(seed: 0x9E37_79B9_7F4A_7C15)
    func uniform(_ lo: Double, _ hi: Double) -> Double { random.uniform(lo, hi) }
    var cases: [PKParameters] = []
    for ntr in [0, 1, 3, 6] {
      for _ in 0..<25 {
        cases.append(PKParameters(ka: uniform(0.05, 2), F: 1, Vc: 3, ke: uniform(0.01, 0.3), k12: uniform(0.01, 0.5),
                                  k21: uniform(0.01, 0.5), Vm: 1, Km: 0.01, mtt: uniform(0.02, 1), ntr: ntr))
      }
    }
    // ke 0.05, k12 0.2, k21 0.3: eigenvalues −0.0266 and −0.5234; ka through and around both.
    for ka in [0.0266, 0.02659, 0.027, 0.5234, 0.52343, 0.5, 0.55] {
      cases.append(PKParameters(ka: ka, F: 1, Vc: 3, ke: 0.05, k12: 0.2, k21: 0.3, Vm: 1, Km: 0.01))
      cases.append(PKParameters(ka: ka, F: 1, Vc: 3, ke: 0.05, k12: 0.2, k21: 0.3, Vm: 1, Km: 0.01, mtt: 0.1, ntr: 2))
    }
    for p in cases {
      let path = Self.path(p)
      for h in [1.0, 0.5, 0.0371, 7.0] {
        let block = StructuredETDRK4Step.exponentials(linear: path.linear, chain: path.central, h: h)
        let dense = MatrixFunctions.exponentialHalfAndFull(path.linear, n: path.n, h: h)
        for i in 0..<(path.n * path.n) {
          #expect(abs(block.full[i] - dense.full[i]) <= 1e-13, "ntr \(p.ntr) ka \(p.ka) h \(h) entry \(i): \(block.full[i]) vs \(dense.full[i])")
          #expect(abs(block.half[i] - dense.half[i]) <= 1e-13, "ntr \(p.ntr) ka \(p.ka) h \(h) half entry \(i): \(block.half[i]) vs \(dense.half[i])")
        }
      }
    }
  }

  @Test("small-block coefficients side by side (series, scalar depot) agree with the general Padé path to 1e-13; they decline outside their conditions")
  func smallBlocksMatchGeneral() {
    var random = ParameterDraws(seed: 0x2545_F491_4F6C_DD1D)
    func uniform(_ lo: Double, _ hi: Double) -> Double { random.uniform(lo, hi) }
    var taken = 0, declined = 0
    for ntr in [0, 1, 3, 6] {
      var cases = [PKParameters(ka: 0.3, F: 1, Vc: 3, ke: 0.045, k12: 0.2, k21: 0.3, Vm: 1, Km: 0.01, mtt: ntr > 0 ? 0.105 : 0, ntr: ntr)]
      for _ in 0..<39 {
        cases.append(PKParameters(ka: uniform(0.02, 3), F: 1, Vc: 3, ke: uniform(0.005, 0.4), k12: uniform(0.005, 0.6),
                                  k21: uniform(0.005, 0.6), Vm: 1, Km: 0.01, mtt: uniform(0.02, 1), ntr: ntr))
      }
      // Five groups of eight patients with this chain.
      for first in stride(from: 0, to: cases.count, by: 8) {
        let group = Array(cases[first..<(first + 8)])
        let paths = group.map(Self.path)
        let m = paths[0].central, count = m * m + 5 * m + 16
        for h in [1.0, 0.25, 0.0371, 0.71, 3.0] {
          let (lanes, done) = Self.sideBySide(paths, h: h)
          for (l, p) in group.enumerated() {
            var general = [Double](repeating: 0, count: count)
            general.withUnsafeMutableBufferPointer {
              StructuredETDRK4Step.fillInGeneral(linear: paths[l].linear, chain: m, direction: paths[l].direction, h: h, chainExponentials: nil, into: $0.baseAddress!)
            }
            // The disposition block's norm decides: the series only where ‖hA_dd‖₁ ≤ 1.
            let normH = h * max(p.ke + 2 * p.k12, 2 * p.k21)
            if normH > 1 {
              #expect(!done[l], "ntr \(p.ntr) h \(h): the series must decline at ‖hA_dd‖₁ = \(normH)")
            }
            guard done[l] else {
              declined += 1
              continue
            }
            taken += 1
            // Coefficients are fractions of an amount (e^{hA} entries ≤ 1) or of h (the φ-vectors,
            // ≤ h): the tolerance scales with the largest of each. The coupling block comes from 2×2
            // systems of condition up to 1e3 on either path, hence 1e-13 rather than a few ulps.
            let scale = max(1, h)
            for i in 0..<count {
              #expect(abs(lanes[i][l] - general[i]) <= 1e-13 * scale, "ntr \(p.ntr) ka \(p.ka) h \(h) coefficient \(i): \(lanes[i][l]) vs \(general[i])")
            }
          }
        }
      }
    }
    // Both branches ran, most cases by the series.
    #expect(taken > 500 && declined > 20, "series \(taken), declined \(declined)")
  }

  @Test("eight lanes' coefficients side by side are, bit for bit, each patient's alone; lanes outside the conditions are left out")
  func sideBySideMatchesAlone() {
    var random = ParameterDraws(seed: 0x5851_F42D_4C95_7F2D)
    func uniform(_ lo: Double, _ hi: Double) -> Double { random.uniform(lo, hi) }
    var taken = 0, declined = 0
    for ntr in [0, 3] {
      for round in 0..<12 {
        // Eight patients sharing the chain's structure; in odd rounds some disposition blocks
        // have ‖hA_dd‖₁ > 1 at the longer steps, so lanes of one group go different ways (and
        // their Taylor series have different degrees).
        let group = (0..<8).map { _ in
          PKParameters(
            ka: uniform(0.02, 3), F: 1, Vc: 3, ke: uniform(0.005, round % 2 == 1 ? 2 : 0.4), k12: uniform(0.005, 0.6),
            k21: uniform(0.005, 0.6), Vm: 1, Km: 0.01, mtt: 0.105, ntr: ntr)
        }
        let paths = group.map(Self.path)
        for h in [1.0, 0.25, 0.125, 0.71, 3.0] {
          let (lanes, done) = Self.sideBySide(paths, h: h)
          for l in 0..<8 {
            // The patient alone: its lane repeated, as `ExponentialLanes` runs a group of one.
            let (alone, aloneDone) = Self.sideBySide([ExponentialPath](repeating: paths[l], count: 8), h: h)
            #expect(done[l] == aloneDone[0], "ntr \(ntr) h \(h) lane \(l): in the group \(done[l]), alone \(aloneDone[0])")
            guard done[l] && aloneDone[0] else {
              declined += 1
              continue
            }
            taken += 1
            for i in 0..<lanes.count {
              #expect(lanes[i][l].bitPattern == alone[i][0].bitPattern, "ntr \(ntr) h \(h) lane \(l) coefficient \(i)")
            }
          }
        }
      }
    }
    #expect(taken > 500 && declined > 50, "side by side \(taken), declined \(declined)")
  }

  @Test("Padé degrees 3…13 agree with each other across their norm ranges")
  func padeDegrees() {
    // A fixed 3×3 matrix scaled through every degree's range (θ₃ = 0.015 … θ₁₃ = 5.4 and beyond):
    // exp(sA) from the chosen degree vs exp(sA/2)² (computed one range lower).
    let a: [Double] = [-0.9, 0.3, 0.0, 0.5, -1.2, 0.4, 0.1, 0.2, -0.7]
    for scale in [0.004, 0.05, 0.3, 1.2, 3.0, 9.0, 40.0] {
      let full = MatrixFunctions.exponential(a.map { $0 * scale }, n: 3)
      let half = MatrixFunctions.exponential(a.map { $0 * scale / 2 }, n: 3)
      var squared = [Double](repeating: 0, count: 9)
      for i in 0..<3 { for k in 0..<3 { for j in 0..<3 { squared[i * 3 + j] += half[i * 3 + k] * half[k * 3 + j] } } }
      for i in 0..<9 {
        #expect(abs(full[i] - squared[i]) <= 1e-13 * max(1, abs(full[i])) + 1e-15, "scale \(scale) entry \(i): \(full[i]) vs \(squared[i])")
      }
    }
  }

  @Test("patients sampled side by side get the same bytes as alone", arguments: ["kovalenko2020", "kovalenko2016", "zhang2021"])
  func lanesMatchSingles(model name: String) throws {
    let model = Fixtures.model(name)
    let sampler = PatientSampler(model: model, weights: try BodyWeights.parse("normal:70,20,10,150"), seed: 5)
    // Eleven patients (a full group of eight and a partial one of three), whose first-dose windows
    // run side by side; the last one's absorption is 100× slower, so its careful substeps fall at
    // other times than its neighbours'.
    var group = (0..<11).map { sampler.patient($0).parameters }
    group[10].ka /= 100
    let grid = try OutputGrid(step: 0.5, horizon: 120)
    let doses = try RegimenText.parse("600mg then 300mg q2w").doses(horizon: 120)
    let simulator = SubjectSimulator()
    var together = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: group.count)
    let pointers = (0..<group.count).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: grid.count) }
    defer { pointers.forEach { $0.deallocate() } }
    try simulator.sample(group, doses: doses, grid: grid, outputs: pointers)
    for i in group.indices { together[i] = Array(UnsafeBufferPointer(start: pointers[i], count: grid.count)) }
    for (i, p) in group.enumerated() {
      let alone = try simulator.concentrations(p, doses: doses, grid: grid)
      #expect(alone.map(\.bitPattern) == together[i].map(\.bitPattern), "\(name) patient \(i)")
      #expect(alone[grid.count - 1] > 1, "\(name) patient \(i) has drug")
    }
  }

  @Test("through a washout (300 mg q4w ×3), lanes side by side get the same bytes as alone", arguments: ["kovalenko2020", "kovalenko2016", "zhang2021"])
  func washoutLanesMatchSingles(model name: String) throws {
    // The day after each dose takes quarter steps for every lane, quarters that fail their check
    // go to the adaptive window side by side, and the washout cliff takes windows of its own:
    // each patient of a group of eight (and of the three left over) must still get its bytes alone.
    let model = Fixtures.model(name)
    let sampler = PatientSampler(model: model, weights: try BodyWeights.parse("normal:75,15,40,150"), seed: 7)
    let group = (0..<11).map { sampler.patient($0).parameters }
    let grid = try OutputGrid(step: 1, horizon: 280)
    let doses = try RegimenText.parse("300mg q4w x3").doses(horizon: 280)
    let simulator = SubjectSimulator()
    let pointers = (0..<group.count).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: grid.count) }
    defer { pointers.forEach { $0.deallocate() } }
    try simulator.sample(group, doses: doses, grid: grid, outputs: pointers)
    for (i, p) in group.enumerated() {
      let alone = try simulator.concentrations(p, doses: doses, grid: grid)
      let together = Array(UnsafeBufferPointer(start: pointers[i], count: grid.count))
      #expect(alone.map(\.bitPattern) == together.map(\.bitPattern), "\(name) patient \(i)")
    }
  }

  @Test("window step control: x^(-1/5) within 3e-6 over the errors a window meets, and the controller's clamps")
  func inverseFifthRoot() {
    var worst = 0.0
    var x = 1e-10
    while x < 1e10 {
      let want = Foundation.pow(x, -0.2)
      worst = Swift.max(worst, Swift.abs(WindowStepControl.inverseFifthRoot(x) - want) / want)
      x *= 1.0173
    }
    #expect(worst < 3e-6 && worst > 0)
    func factor(_ error: Double, accepted: Bool, afterRejection: Bool = false) -> Double {
      WindowStepControl.factors(error: error, accepted: accepted, afterRejection: afterRejection)
    }
    #expect(factor(1e-9, accepted: true) == 10)  // 0.9·(1e-9)^(-1/5) = 57: clamped
    #expect(Swift.abs(factor(0.5, accepted: true) - 0.9 * Foundation.pow(0.5, -0.2)) < 1e-5)
    #expect(factor(1e6, accepted: false) == 0.2)
    #expect(factor(1e-9, accepted: true, afterRejection: true) == 1)  // no growth right after a rejection
    #expect(Swift.abs(factor(2, accepted: false) - 0.9 * Foundation.pow(2, -0.2)) < 1e-5)
  }

  @Test("window integrator: lanes side by side give each lane's bytes alone; lanes not taking part are left as given")
  func windowLanesMatchSingles() throws {
    for name in ["kovalenko2020", "kovalenko2016", "zhang2021"] {
      let model = Fixtures.model(name)
      let sampler = PatientSampler(model: model, weights: try BodyWeights.parse("normal:70,20,10,150"), seed: 9)
      let paths = (0..<8).map { Self.path(sampler.patient($0).parameters) }
      let n = paths[0].n, c = paths[0].central
      let window = WindowIntegrator(relativeTolerance: 1e-6, absoluteTolerance: 1e-8)
      // A first dose in the depot (lane-dependent, so the lanes take different steps and finish
      // after different numbers of iterations), the window over the first day.
      var start = [Double](repeating: 0, count: 8 * n)
      for l in 0..<8 { start[l * n] = 300 + 40 * Double(l) }
      let taking = [true, false, true, true, true, false, true, true]
      let y = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: n)
      defer { y.deallocate() }
      for j in 0..<n { for l in 0..<8 { y[j][l] = start[l * n + j] } }
      let laneModel = WindowIntegrator.Model<SIMD8<Double>>(chain: c) { (paths[$0].parameters, paths[$0].N) }
      let finished = window.advance(laneModel, y, from: 0, to: 1, lanes: taking)
      for l in 0..<8 {
        var alone = Array(start[(l * n)..<((l + 1) * n)])
        let finishedAlone = alone.withUnsafeMutableBufferPointer {
          window.advance(WindowIntegrator.Model(paths[l].parameters, paths[l].N), $0.baseAddress!, from: 0, to: 1)
        }
        let together = (0..<n).map { y[$0][l] }
        if taking[l] {
          #expect(finished[l] && finishedAlone, "\(name) lane \(l) reaches the end")
          #expect(together.map(\.bitPattern) == alone.map(\.bitPattern), "\(name) lane \(l)")
        } else {
          #expect(!finished[l] && together == Array(start[(l * n)..<((l + 1) * n)]), "\(name) lane \(l) untouched")
        }
      }
    }
  }
}

/// Uniform draws for random parameter sets (a 64-bit LCG, Knuth's MMIX constants): repeatable
/// test cases, no dependence on the cohort's RNG.
struct ParameterDraws {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return lo + (hi - lo) * Double(state >> 11) / Double(1 << 53)
  }
}
