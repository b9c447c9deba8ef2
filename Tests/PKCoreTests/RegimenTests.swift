import PKCore
import PKNumerics
import Testing

@Suite("Regimens: grammar, flags, dose times")
struct RegimenTests {
  static func times(_ text: String, horizon: Double = 364) throws -> [Double] {
    try RegimenText.parse(text).doses(horizon: horizon).map(\.time)
  }
  static func amounts(_ text: String) throws -> [Double] {
    try RegimenText.parse(text).doses(horizon: 364).map(\.amount)
  }

  @Test("DESIGN §6 examples expand to exactly the listed dose times")
  func designExamples() throws {
    #expect(try Self.times("600mg then 300mg q2w") == [0] + stride(from: 14.0, through: 350, by: 14).map { $0 })
    #expect(try Self.amounts("600mg then 300mg q2w") == [600] + Array(repeating: 300, count: 25))
    #expect(try Self.times("300mg q4w x6") == [0, 28, 56, 84, 112, 140])
    #expect(try Self.times("400mg then 200mg q2w x12") == [0] + stride(from: 14.0, through: 168, by: 14).map { $0 })
    #expect(try Self.times("300mg qw x4 then 300mg q2w") == [0, 7, 14, 21] + stride(from: 28.0, through: 350, by: 14).map { $0 })
    #expect(try Self.times("600mg then 300mg q2w until 16w then 300mg q4w")
      == [0] + stride(from: 14.0, through: 98, by: 14).map { $0 } + stride(from: 112.0, through: 336, by: 28).map { $0 })
    #expect(try Self.times("600mg then 300mg q2w for 16w then 300mg q4w")
      == [0] + stride(from: 14.0, through: 112, by: 14).map { $0 } + stride(from: 126.0, through: 350, by: 28).map { $0 })
  }

  @Test("case, spaces and interval spellings", arguments: [
    ("600MG THEN 300MG Q2W", 14.0), ("600mg then300mgq2w", 14), ("600 mg then 300 mg 14", 14), ("600mg then 300mg 14d", 14),
    ("600mg then 300mg 2w", 14), ("600mg then 300mg q14d", 14), ("600mg then 300mg qw", 7), ("600mg then 300mg q1w", 7),
    ("600mg then 300mg 3.5d", 3.5), ("600mg then 300mg q4w", 28),
  ])
  func spellings(text: String, interval: Double) throws {
    let t = try Self.times(text)
    #expect(t[0] == 0 && t[1] == interval && t[2] == 2 * interval)
  }

  @Test("x and for/until together: the phase stops at whichever comes first")
  func countAndStop() throws {
    // x8 ends first (last dose 98) → the next phase starts one interval later, at 112.
    #expect(try Self.times("300mg q2w x8 for 20w then 100mg q4w x2") == stride(from: 0.0, through: 98, by: 14).map { $0 } + [112, 140])
    // for 8w ends first (doses at t < 56) → hand over at 56.
    #expect(try Self.times("300mg q2w x8 for 8w then 100mg q4w x2") == [0, 14, 28, 42, 56, 84])
    // until is counted from day 0.
    #expect(try Self.times("600mg then 300mg q2w until 6w then 100mg q4w x1") == [0, 14, 28, 42])
  }

  @Test("doses at t ≥ horizon are not given; a single dose; short horizons")
  func horizon() throws {
    #expect(try Self.times("300mg q2w", horizon: 28) == [0, 14])
    #expect(try Self.times("300mg q2w", horizon: 28.000001) == [0, 14, 28])
    #expect(try Self.times("600mg") == [0])
    #expect(try Self.times("600mg then 300mg q2w", horizon: 7) == [0])
  }

  @Test("flag form: loading dose at 0 and maintenance one interval later; counts exclude the loading dose")
  func flagForm() throws {
    let withLoading = try Regimen.flags(loading: 600, dose: 300, interval: 14, doses: 3).doses(horizon: 364)
    #expect(withLoading.map(\.time) == [0, 14, 28, 42])
    #expect(withLoading.map(\.amount) == [600, 300, 300, 300])
    #expect(try Regimen.flags(loading: nil, dose: 300, interval: 28, doses: nil).doses(horizon: 100).map(\.time) == [0, 28, 56, 84])
    #expect(try Regimen.flags(loading: 600, dose: nil, interval: nil, doses: nil).doses(horizon: 100).map(\.time) == [0])
    #expect(throws: RegimenError.self) { try Regimen.flags(loading: nil, dose: 300, interval: nil, doses: nil) }
    #expect(throws: RegimenError.self) { try Regimen.flags(loading: 600, dose: nil, interval: 14, doses: nil) }
    #expect(throws: RegimenError.self) { try Regimen.flags(loading: nil, dose: nil, interval: nil, doses: 3) }
    #expect(throws: RegimenError.self) { try Regimen.flags(loading: nil, dose: 300, interval: 14, doses: 0) }
  }

  @Test("malformed regimen text is refused with a message that says where", arguments: [
    "", "600", "600 then 300mg q2w", "600mg thn 300mg q2w", "600mg x3", "300mg q2w then 300mg q4w", "300mg q0w",
    "300mg q2w x0", "300mg q2w x1.5", "300mg q2w for 16", "300mg q2w until", "-300mg q2w", "0mg q2w", "300mg q2w then",
    "300mg qxw", "600mg then 300mg", "300mg q2w for 0w then 100mg q4w", "300mg 0d", "nanmg q2w", "infmg",
  ])
  func malformed(text: String) {
    do {
      _ = try RegimenText.parse(text)
      Issue.record("accepted \"\(text)\"")
    } catch {
      #expect(!error.problem.isEmpty && !error.fix.isEmpty)
    }
  }

  @Test("interval text: qw, q2w, q4w, qNw, qNd, N, Nd, Nw; nothing else")
  func intervals() {
    #expect(IntervalText.days("qw") == 7)
    #expect(IntervalText.days("q2w") == 14)
    #expect(IntervalText.days("Q4W") == 28)
    #expect(IntervalText.days("q10d") == 10)
    #expect(IntervalText.days("10") == 10)
    #expect(IntervalText.days("10d") == 10)
    #expect(IntervalText.days("3w") == 21)
    for bad in ["", "q", "q0w", "0", "-1", "w", "2x", "nan", "inf", "q-2w", "1e400"] { #expect(IntervalText.days(bad) == nil, "\(bad)") }
  }
}

@Suite("Output grid and number format")
struct OutputGridTests {
  @Test("rows at k·step for k = 0 … ⌊horizon/step + 1e-9⌋")
  func rows() throws {
    #expect(try OutputGrid(step: 1, horizon: 364).count == 365)
    #expect(try OutputGrid(step: 0.1, horizon: 1).count == 11)
    #expect(try OutputGrid(step: 7, horizon: 20).count == 3)
    #expect(try OutputGrid(step: 0.3, horizon: 0.9).count == 4)
    #expect(try OutputGrid(step: 0.1, horizon: 1).time(3) == 3 * 0.1)
    #expect(throws: RegimenError.self) { try OutputGrid(step: 0, horizon: 10) }
    #expect(throws: RegimenError.self) { try OutputGrid(step: -1, horizon: 10) }
    #expect(throws: RegimenError.self) { try OutputGrid(step: 1e-7, horizon: 36500) }
  }

  @Test("times print rounded to 9 decimals with trailing zeros dropped")
  func timeFormat() {
    #expect(NumberFormat.time(0) == "0")
    #expect(NumberFormat.time(3 * 0.1) == "0.3")
    #expect(NumberFormat.time(14) == "14")
    #expect(NumberFormat.time(1.0 / 3) == "0.333333333")
    #expect(NumberFormat.time(2.5) == "2.5")
    #expect(NumberFormat.time(36500.123456789) == "36500.123456789")
    #expect(NumberFormat.time(1e-10) == "0")
  }

  @Test("values print as the shortest round-tripping decimal")
  func valueFormat() {
    #expect(NumberFormat.value(0) == "0.0")
    #expect(NumberFormat.value(-0.0) == "0.0")
    #expect(NumberFormat.value(67.89406329391) == "67.89406329391")
    #expect(Double(NumberFormat.value(0.1 + 0.2)) == 0.1 + 0.2)
  }

  @Test("a sample at a dose time is the value just before the dose (trough, IV bolus too)")
  func valueAtDoseTime() throws {
    let p = PKParameters(ka: 0, F: 1, Vc: 10, ke: 0.1)
    let doses = [Dose(time: 0, amount: 100, route: .iv), Dose(time: 5, amount: 100, route: .iv)]
    let c = try SubjectSimulator().concentrations(p, doses: doses, grid: try OutputGrid(step: 1, horizon: 6))
    #expect(c[0] == 0)
    expectClose(c[5], 10 * exp(-0.5), rel: 1e-6)  // before the second dose
    expectClose(c[6], 10 * exp(-0.6) + 10 * exp(-0.1), rel: 1e-6)
  }
}
