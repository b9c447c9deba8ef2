import PKNumerics
import Testing

@Suite("Matrix exponential, φ-functions, ETDRK4")
struct MatrixFunctionTests {
  @Test("exp of a diagonalisable matrix equals V e^Λ V⁻¹ (to 1e-13), also with large norms")
  func exponentialOfKnownMatrix() {
    // A = V diag(λ) V⁻¹ with V = [[1, 1], [1, -1]] (V⁻¹ = V/2): A = [[a, b], [b, a]], λ = a ± b.
    for (a, b) in [(-0.3, 0.1), (-40.0, 38.0), (-1e3, 2.0), (0.0, 0.0)] {
      let e = MatrixFunctions.exponential([a, b, b, a], n: 2)
      let l1 = exp(a + b), l2 = exp(a - b)
      let expected = [(l1 + l2) / 2, (l1 - l2) / 2, (l1 - l2) / 2, (l1 + l2) / 2]
      for (x, y) in zip(e, expected) { #expect(abs(x - y) <= 1e-13 * max(1, abs(y)), "\(a), \(b): \(e) vs \(expected)") }
    }
  }

  @Test("exp of a Jordan block (the defective transit chain) is e^{λt}·[1, t; 0, 1]")
  func jordanBlock() {
    let e = MatrixFunctions.exponential([-38, 1, 0, -38], n: 2)
    let v = exp(-38.0)
    #expect(abs(e[0] - v) <= 1e-14 * v && abs(e[1] - v) <= 1e-13 * v && e[2] == 0 && abs(e[3] - v) <= 1e-14 * v)
  }

  @Test("φ-columns of a scalar: hφ1 = (e^z − 1)/λ, h²φ2 = (e^z − 1 − z)/λ², h³φ3 = (e^z − 1 − z − z²/2)/λ³")
  func phiOfScalar() {
    for (lambda, h) in [(-0.7, 1.0), (-38.0, 1.0), (-1e-6, 0.5)] {
      let (e, phi) = MatrixFunctions.phiColumns([lambda], n: 1, b: [1], h: h, order: 3)
      let z = lambda * h
      #expect(abs(e[0] - exp(z)) <= 1e-15)
      let f1 = h * (abs(z) < 1e-4 ? 1 + z / 2 + z * z / 6 : expm1(z) / z)
      let f2 = h * h * (abs(z) < 1e-4 ? 0.5 + z / 6 : (expm1(z) - z) / (z * z))
      let f3 = h * h * h * (abs(z) < 1e-4 ? 1.0 / 6 + z / 24 : (expm1(z) - z - z * z / 2) / (z * z * z))
      #expect(abs(phi[0][0] - f1) <= 1e-12 * abs(f1))
      #expect(abs(phi[1][0] - f2) <= 1e-10 * abs(f2))
      #expect(abs(phi[2][0] - f3) <= 1e-8 * abs(f3))
    }
  }

  @Test("φ-vectors by Taylor series (‖hA‖₁ ≤ 1) agree with the augmented Padé exponential to 1e-14")
  func phiVectorsByTaylorMatchPade() {
    // Two-compartment disposition blocks (the shipped models' and stiffer), a 3×3 chain block,
    // and one past the Taylor bound (which must give the Padé values exactly).
    let cases: [([Double], Int, [Double], Double)] = [
      ([-0.256, 0.310, 0.211, -0.310], 2, [-1, 0], 1),
      ([-0.111, 0.129, 0.0652, -0.129], 2, [-1, 0], 0.25),
      ([-0.6, 0.35, 0.2, -0.35], 2, [-1, 0.5], 1),
      ([-0.3, 0, 0, 0.3, -0.2, 0.1, 0, 0.15, -0.1], 3, [0, -1, 0], 1.5),
      ([-1.0e-9, 0, 0, -2.0e-9], 2, [1, 1], 1),
      ([-3.0, 1.0, 2.0, -1.5], 2, [-1, 0], 1),
    ]
    for (a, n, b, h) in cases {
      let taylor = MatrixFunctions.phiVectorsHalfAndFull(a, n: n, b: b, h: h, order: 3)
      let pade = MatrixFunctions.phiColumnsHalfAndFull(a, n: n, b: b, h: h, order: 3)
      for k in 0..<3 {
        for i in 0..<n {
          let (x, y) = (taylor.full[k * n + i], pade.full.phi[k][i])
          let (xh, yh) = (taylor.half[k * n + i], pade.half.phi[k][i])
          let scale = pade.full.phi[k].map(abs).max()!
          let scaleHalf = pade.half.phi[k].map(abs).max()!
          #expect(abs(x - y) <= 1e-14 * scale, "full k=\(k + 1) i=\(i): \(x) vs \(y) for \(a), h \(h)")
          #expect(abs(xh - yh) <= 1e-14 * scaleHalf, "half k=\(k + 1) i=\(i): \(xh) vs \(yh) for \(a), h \(h)")
        }
      }
    }
  }

  /// y' = −y + b·N(y), N(y) = −y²: logistic-like, exact y(t) = 1/(1 − (1 − 1/y0)e^{t})… use
  /// y' = −2y + y²: y(t) = 2/(1 + (2/y0 − 1)e^{2t}).
  @Test("ETDRK4 converges with order 4 on a semilinear scalar problem")
  func etdrk4Order() {
    func solve(_ h: Double) -> Double {
      let step = ETDRK4Step(linear: [-2], n: 1, direction: [1], h: h)
      var y = [0.5], scratch = [0.0, 0.0, 0.0]
      for _ in 0..<Int((2 / h).rounded()) {
        y.withUnsafeMutableBufferPointer { u in
          scratch.withUnsafeMutableBufferPointer { step.advance(u.baseAddress!, scratch: $0.baseAddress!) { v in v[0] * v[0] } }
        }
      }
      return y[0]
    }
    let exact = 2 / (1 + (2 / 0.5 - 1) * exp(4.0))
    let e1 = abs(solve(0.1) - exact), e2 = abs(solve(0.05) - exact)
    let order = log2(e1 / e2)
    #expect(abs(order - 4) <= 0.3, "observed order \(order) (errors \(e1), \(e2))")
  }
}
