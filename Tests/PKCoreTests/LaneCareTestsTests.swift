import Testing

@testable import PKCore

/// `LaneCareTests` decides, for eight patients at once, which fast steps need care. Its decisions
/// must be the scalar formulas' (documented on each test) lane by lane, including their edge
/// cases: `Swift.max(x, 0)` keeps NaN and maps −0 to +0, `Swift.min` with NaN, no saturable term
/// (`Vm = 0`: never flagged), negative or non-finite amounts.
@Suite("Lane care tests")
struct LaneCareTestsTests {
  typealias Lanes = LaneCareTests.Lanes

  /// Eight patients of the three shipped structures plus a linear one (Vm = 0).
  static let paths: [ExponentialPath] = {
    var patients = ["kovalenko2020", "kovalenko2016", "zhang2021"].map { Fixtures.model($0).individual(weight: 75, eta: nil) }
    patients.append(PKParameters(ka: 0.3, F: 0.6, Vc: 3, ke: 0.05, k12: 0.2, k21: 0.3))
    // Same structure in every lane is not required by the tests; vary Km and Vc within a structure.
    var more = patients[2]
    more.Km = 0.3
    more.Vc = 4.1
    patients.append(more)
    var linear = patients[1]
    linear.Vm = 0
    patients.append(linear)
    var small = patients[1]
    small.Km = 0.05
    patients.append(small)
    patients.append(patients[0])
    return patients.map { ExponentialPath(parameters: $0) }
  }()

  // The scalar formulas, written out from the documentation.
  static func needsCare(_ p: ExponentialPath, _ a: Double) -> Bool {
    p.N.vmax > 0 && Swift.max(a * p.N.invVc, 0) < p.safeAbove
  }
  static func fails(_ p: ExponentialPath, before: Double, after: Double, h: Double, a: Double) -> Bool {
    p.N.vmax > 0 && Swift.abs(after - before) * h > 1e-4 * Swift.min(Swift.abs(a), p.checkCap)
  }
  static func passesWhenHalved(_ p: ExponentialPath, before: Double, after: Double, h: Double, a: Double) -> Bool {
    Swift.abs(after - before) * h <= 4e-4 * Swift.min(Swift.abs(a), p.checkCap)
  }
  static func takesWindow(_ p: ExponentialPath, a: Double, peripheral: Double, span: Double) -> Bool {
    guard needsCare(p, a) else { return false }
    if a == 0 && peripheral == 0 { return true }
    let conc = Swift.max(a * p.N.invVc, 0)
    return span / 4 * p.stiffnessScale / ((p.N.km + conc) * (p.N.km + conc)) > 0.5
  }

  /// Central amounts around each lane's thresholds, and the awkward values.
  static func amounts(_ k: Int) -> Lanes {
    var a = Lanes.zero
    for l in 0..<8 {
      let p = paths[l]
      let special: [Double] = [0, -0.0, -1, .nan, .infinity, 1e-300]
      let scaled = [0.5, 0.999999, 1, 1.000001, 2, 30, 1e3].map { $0 * Swift.max(p.safeAbove, p.N.km) / p.N.invVc }
      let all = special + scaled + [p.checkCap, p.checkCap * 1.0000001, p.checkCap * 0.9999999]
      a[l] = all[(k + 3 * l) % all.count]
    }
    return a
  }

  @Test("each lane's decisions are the scalar formulas', edge cases included")
  func matchesScalarFormulas() {
    let tests = LaneCareTests(Self.paths)
    var checked = 0, flagged = 0
    for k in 0..<64 {
      let a = Self.amounts(k), p = Self.amounts(k + 5), b = Self.amounts(k + 11)
      for h in [1.0, 0.25, 0.125] {
        // Rates before and after: the lanes' own, and perturbed to straddle the check's bound.
        var before = Lanes.zero, after = Lanes.zero
        for l in 0..<8 {
          before[l] = Self.paths[l].N.value(central: a[l])
          let bound = 1e-4 * Swift.min(Swift.abs(a[l]), Self.paths[l].checkCap) / h
          let factors: [Double] = [0, 0.5, 1, 1.0000001, 3.9, 4, 4.1, 100]
          after[l] = before[l].isFinite ? before[l] - factors[(k + l) % factors.count] * bound : before[l]
        }
        let care = tests.needsCare(a)
        let fails = tests.fails(before: before, after: after, h: h, central: a)
        let halves = tests.passesWhenHalved(before: before, after: after, h: h, central: a)
        let takes = tests.takesWindow(care: care, central: a, peripheral: p, span: h)
        let finite = LaneCareTests.isFinite(b)
        for l in 0..<8 {
          let path = Self.paths[l]
          #expect(care[l] == Self.needsCare(path, a[l]), "needsCare lane \(l), A_c \(a[l])")
          #expect(fails[l] == Self.fails(path, before: before[l], after: after[l], h: h, a: a[l]), "fails lane \(l), A_c \(a[l])")
          #expect(halves[l] == Self.passesWhenHalved(path, before: before[l], after: after[l], h: h, a: a[l]), "passesWhenHalved lane \(l)")
          #expect(takes[l] == Self.takesWindow(path, a: a[l], peripheral: p[l], span: h), "takesWindow lane \(l), A_c \(a[l])")
          #expect(finite[l] == b[l].isFinite)
          checked += 1
          if fails[l] { flagged += 1 }
          // A lane without a saturable term is never flagged.
          if path.N.vmax == 0 { #expect(!care[l] && !fails[l] && !takes[l]) }
        }
      }
    }
    // The inputs exercise both outcomes.
    #expect(flagged > checked / 10 && flagged < checked * 9 / 10, "\(flagged) of \(checked) flagged")
  }

  @Test("takesWindow's first-dose branch: no drug in circulation (0 or −0 in both compartments) takes the window wherever care is needed")
  func firstDoseTakesWindow() {
    let tests = LaneCareTests(Self.paths)
    var taken = 0, left = 0
    for (central, peripheral) in [(0.0, 0.0), (-0.0, 0.0), (0.0, -0.0), (0.0, 1e-9), (1e-9, 0.0)] {
      for span in [1.0, 0.25, 1e-6] {
        let a = Lanes(repeating: central), p = Lanes(repeating: peripheral)
        let takes = tests.takesWindow(care: tests.needsCare(a), central: a, peripheral: p, span: span)
        for l in 0..<8 {
          #expect(takes[l] == Self.takesWindow(Self.paths[l], a: central, peripheral: peripheral, span: span), "lane \(l), A_c \(central), A_p \(peripheral), span \(span)")
          if takes[l] { taken += 1 } else { left += 1 }
        }
      }
    }
    // Both outcomes occur: the first-dose lanes take it even for a tiny span; Vm = 0 never does.
    #expect(taken > 0 && left > 0)
  }
}
