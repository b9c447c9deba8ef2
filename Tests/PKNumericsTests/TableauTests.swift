import PKNumerics
import Testing

@Suite("Butcher and Rosenbrock tableaus")
struct TableauTests {
  let dp = ExplicitRungeKuttaTableau.dormandPrince54

  @Test("Dormand–Prince: rows of A sum to c, Σb = 1, Σe = 0, last row = b (FSAL)")
  func dormandPrinceConsistency() {
    for i in 0..<dp.stages {
      let rowSum = (0..<dp.stages).reduce(0.0) { $0 + dp.a(i, $1) }
      #expect(abs(rowSum - dp.c[i]) <= 1e-15)
    }
    #expect(abs(dp.b.reduce(0, +) - 1) <= 1e-15)
    #expect(abs(dp.e.reduce(0, +)) <= 1e-16)
    #expect(dp.isFSAL)
    for j in 0..<dp.stages { #expect(dp.a(dp.stages - 1, j) == dp.b[j]) }
  }

  @Test("Dormand–Prince order conditions up to order 5 (Σb c^{q−1} = 1/q)")
  func dormandPrinceQuadratureConditions() {
    for q in 1...5 {
      let sum = (0..<dp.stages).reduce(0.0) { $0 + dp.b[$1] * pow(dp.c[$1], Double(q - 1)) }
      #expect(abs(sum - 1 / Double(q)) <= 1e-15)
    }
    // Σ b_i a_ij c_j = 1/6 and Σ b_i c_i a_ij c_j = 1/8 (Hairer–Nørsett–Wanner, Table II.2.1).
    var s1 = 0.0, s2 = 0.0
    for i in 0..<dp.stages {
      for j in 0..<dp.stages {
        s1 += dp.b[i] * dp.a(i, j) * dp.c[j]
        s2 += dp.b[i] * dp.c[i] * dp.a(i, j) * dp.c[j]
      }
    }
    #expect(abs(s1 - 1.0 / 6) <= 1e-15)
    #expect(abs(s2 - 1.0 / 8) <= 1e-15)
  }

  @Test("Dense output: P(1) = b, P'(0) = e1, P'(1) = e_last (C¹ across steps)")
  func denseOutputEndpoints() {
    let d = dp.denseDegree
    for i in 0..<dp.stages {
      let coeff = (0..<d).map { dp.dense[i * d + $0] }
      let atOne = coeff.reduce(0, +)
      #expect(abs(atOne - dp.b[i]) <= 1e-14)
      #expect(abs(coeff[0] - (i == 0 ? 1 : 0)) <= 1e-15)
      let slopeAtOne = (0..<d).reduce(0.0) { $0 + Double($1 + 1) * coeff[$1] }
      #expect(abs(slopeAtOne - (i == dp.stages - 1 ? 1 : 0)) <= 1e-13)
    }
  }

  /// Stability function R(z) of RODAS4: one step of y' = λy with the exact Jacobian, z = hλ.
  func rodasStabilityFunction(_ z: Double) -> Double {
    let t = RosenbrockTableau.rodas4
    var k = [Double](repeating: 0, count: t.stages)
    for i in 0..<t.stages {
      var arg = 1.0, coupling = 0.0
      for j in 0..<i {
        arg += t.a[i * t.stages + j] * k[j]
        coupling += t.c[i * t.stages + j] * k[j]
      }
      // (1/(γh) − λ) k_i = λ y_i + Σ c_ij k_j / h, with h = 1 and λ = z.
      k[i] = (z * arg + coupling) / (1 / t.gamma - z)
    }
    return 1 + zip(t.m, k).reduce(0) { $0 + $1.0 * $1.1 }
  }

  @Test("RODAS4: R(z) − e^z = O(z^5) (order 4) and R(−∞) = 0 (L-stable)")
  func rodasStability() {
    let e1 = abs(rodasStabilityFunction(-0.02) - exp(-0.02))
    let e2 = abs(rodasStabilityFunction(-0.01) - exp(-0.01))
    let order = log2(e1 / e2) - 1  // local error ~ z^(p+1)
    #expect(abs(order - 4) < 0.3, "observed local order \(order)")
    #expect(abs(rodasStabilityFunction(-1e12)) < 1e-9)
    for z in stride(from: -1.0, through: -1e6, by: -9999.0) { #expect(abs(rodasStabilityFunction(z)) <= 1) }
  }

  @Test("RODAS4: Σ m = a-row-5 + [1, 1] and the error estimate is the last stage")
  func rodasStructure() {
    let t = RosenbrockTableau.rodas4
    for j in 0..<4 { #expect(t.m[j] == t.a[4 * t.stages + j]) }
    #expect(t.e == [0, 0, 0, 0, 0, 1])
  }
}
