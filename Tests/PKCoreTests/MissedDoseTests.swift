import PKCore
import Testing

/// The label's missed-dose rules (reference §3 "Missed doses") and --miss/--delay (DESIGN §6).
@Suite("Missed, delayed and late doses")
struct MissedDoseTests {
  static func apply(_ text: String, _ adjustments: DoseAdjustments, horizon: Double = 364) throws -> [Double] {
    try adjustments.apply(to: RegimenText.parse(text).scheduled(horizon: horizon), horizon: horizon).map(\.time)
  }

  @Test("--miss leaves doses out (the loading dose is dose 1)")
  func miss() throws {
    let t = try Self.apply("600mg then 300mg q2w", DoseAdjustments(missed: [1, 5]), horizon: 100)
    #expect(t == [14, 28, 42, 70, 84, 98])
  }

  @Test("--delay gives one dose late and changes nothing else")
  func delay() throws {
    #expect(try Self.apply("300mg q2w", DoseAdjustments(delayed: [3: 5]), horizon: 60) == [0, 14, 33, 42, 56])
  }

  @Test("qw: give it and start a new weekly schedule from then (any delay)", arguments: [2.0, 7.0, 9.0])
  func weekly(delay: Double) throws {
    let t = try Self.apply("300mg qw x6", DoseAdjustments(late: [3: delay]))
    #expect(t == [0, 7, 14 + delay, 21 + delay, 28 + delay, 35 + delay])
  }

  @Test("q2w within 7 days (≤ 7.0): give it and keep the schedule", arguments: [1.0, 6.9, 7.0])
  func biweeklyWithin(delay: Double) throws {
    #expect(try Self.apply("600mg then 300mg q2w x4", DoseAdjustments(late: [3: delay])) == [0, 14, 28 + delay, 42, 56])
  }

  @Test("q2w beyond 7 days: skip it", arguments: [7.01, 10.0])
  func biweeklyBeyond(delay: Double) throws {
    #expect(try Self.apply("600mg then 300mg q2w x4", DoseAdjustments(late: [3: delay])) == [0, 14, 42, 56])
  }

  @Test("q4w within 7 days: give it and keep the schedule", arguments: [3.0, 7.0])
  func fourWeeklyWithin(delay: Double) throws {
    #expect(try Self.apply("300mg q4w x4", DoseAdjustments(late: [2: delay])) == [0, 28 + delay, 56, 84])
  }

  @Test("q4w beyond 7 days: give it and start a new 4-week schedule; later phases shift too", arguments: [7.5, 12.0])
  func fourWeeklyBeyond(delay: Double) throws {
    #expect(try Self.apply("300mg q4w x3 then 200mg q2w x2", DoseAdjustments(late: [2: delay])) == [0, 28 + delay, 56 + delay, 84 + delay, 98 + delay])
  }

  @Test("the loading dose follows the rule of the schedule it starts; other intervals are refused")
  func loadingAndOtherIntervals() throws {
    #expect(try Self.apply("600mg then 300mg q2w x2", DoseAdjustments(late: [1: 3])) == [3, 14, 28])
    #expect(throws: RegimenError.self) { try Self.apply("300mg q3w x4", DoseAdjustments(late: [2: 3])) }
    #expect(throws: RegimenError.self) { try Self.apply("300mg q2w x4", DoseAdjustments(missed: [9])) }
    #expect(throws: RegimenError.self) { try Self.apply("300mg q2w x4", DoseAdjustments(missed: [2], late: [2: 1])) }
  }

  @Test("shifted doses past the horizon are not given")
  func shiftedPastHorizon() throws {
    #expect(try Self.apply("300mg q4w", DoseAdjustments(late: [2: 20]), horizon: 60) == [0, 48])
  }
}

@Suite("Label regimens and tiers")
struct LabelRegimenTests {
  static let library = Fixtures.library

  @Test("every label regimen expands to the right first doses and amounts", arguments: [
    ("ad-adult", [600.0, 300, 300], [0.0, 14, 28]), ("ad-6-17y-15-30kg", [600, 300, 300], [0, 28, 56]),
    ("ad-6-17y-30-60kg", [400, 200, 200], [0, 14, 28]), ("ad-6-17y-60kg", [600, 300, 300], [0, 14, 28]),
    ("ad-6mo-5y-5-15kg", [200, 200, 200], [0, 28, 56]), ("ad-6mo-5y-15-30kg", [300, 300, 300], [0, 28, 56]),
    ("asthma-400", [400, 200, 200], [0, 14, 28]), ("asthma-600", [600, 300, 300], [0, 14, 28]),
    ("asthma-6-11y-15-30kg", [300, 300, 300], [0, 28, 56]), ("asthma-6-11y-30kg", [200, 200, 200], [0, 14, 28]),
    ("crswnp", [300, 300, 300], [0, 14, 28]), ("eoe-15-30kg", [200, 200, 200], [0, 14, 28]),
    ("eoe-30-40kg", [300, 300, 300], [0, 14, 28]), ("eoe-40kg", [300, 300, 300], [0, 7, 14]),
    ("pn", [600, 300, 300], [0, 14, 28]), ("copd", [300, 300, 300], [0, 14, 28]), ("csu-adult", [600, 300, 300], [0, 14, 28]),
    ("csu-12-17y-30-60kg", [400, 200, 200], [0, 14, 28]), ("csu-12-17y-60kg", [600, 300, 300], [0, 14, 28]),
    ("bp", [600, 300, 300], [0, 14, 28]),
  ])
  func expansion(name: String, amounts: [Double], times: [Double]) throws {
    let tier = try #require(Self.library.labelRegimen(named: name))
    let doses = try RegimenText.parse(tier.regimen).doses(horizon: 60)
    #expect(Array(doses.prefix(3).map(\.amount)) == amounts)
    #expect(Array(doses.prefix(3).map(\.time)) == times)
    #expect(!tier.source.isEmpty)
  }

  @Test("the reference's tiers are all there, and AFRS (not stated) is left out")
  func coverage() {
    #expect(Self.library.regimens.count == 20)
    #expect(!Self.library.regimens.contains { $0.indication == "afrs" })
  }

  func tiers(_ indication: String, age: Double, weight: Double) -> [String] {
    Self.library.regimens.filter { $0.indication == indication && $0.covers(age: age, weight: weight) }.map(\.name)
  }

  @Test("tier selection on both sides of each age and weight boundary (half-open bands)")
  func boundaries() {
    #expect(tiers("ad", age: 18, weight: 70) == ["ad-adult"])
    #expect(tiers("ad", age: 17.99, weight: 70) == ["ad-6-17y-60kg"])
    #expect(tiers("ad", age: 10, weight: 60) == ["ad-6-17y-60kg"])
    #expect(tiers("ad", age: 10, weight: 59.99) == ["ad-6-17y-30-60kg"])
    #expect(tiers("ad", age: 10, weight: 30) == ["ad-6-17y-30-60kg"])
    #expect(tiers("ad", age: 10, weight: 29.99) == ["ad-6-17y-15-30kg"])
    #expect(tiers("ad", age: 10, weight: 15) == ["ad-6-17y-15-30kg"])
    #expect(tiers("ad", age: 10, weight: 14.99) == [])
    #expect(tiers("ad", age: 6, weight: 25) == ["ad-6-17y-15-30kg"])
    #expect(tiers("ad", age: 5.99, weight: 25) == ["ad-6mo-5y-15-30kg"])
    #expect(tiers("ad", age: 0.5, weight: 10) == ["ad-6mo-5y-5-15kg"])
    #expect(tiers("ad", age: 0.49, weight: 10) == [])
    #expect(tiers("ad", age: 3, weight: 15) == ["ad-6mo-5y-15-30kg"])
    #expect(tiers("ad", age: 3, weight: 4.99) == [])
    #expect(tiers("ad", age: 3, weight: 30) == [])
    #expect(tiers("asthma", age: 12, weight: 50).sorted() == ["asthma-400", "asthma-600"])
    #expect(tiers("asthma", age: 11.99, weight: 30) == ["asthma-6-11y-30kg"])
    #expect(tiers("asthma", age: 11.99, weight: 29.99) == ["asthma-6-11y-15-30kg"])
    #expect(tiers("asthma", age: 5.99, weight: 20) == [])
    #expect(tiers("eoe", age: 1, weight: 15) == ["eoe-15-30kg"])
    #expect(tiers("eoe", age: 30, weight: 14.99) == [])
    #expect(tiers("eoe", age: 0.99, weight: 20) == [])
    #expect(tiers("eoe", age: 30, weight: 40) == ["eoe-40kg"])
    #expect(tiers("eoe", age: 30, weight: 39.99) == ["eoe-30-40kg"])
    #expect(tiers("csu", age: 12, weight: 29.99) == [])
    #expect(tiers("csu", age: 17.99, weight: 60) == ["csu-12-17y-60kg"])
    #expect(tiers("csu", age: 18, weight: 45) == ["csu-adult"])
    #expect(tiers("crswnp", age: 11.99, weight: 50) == [])
    #expect(tiers("copd", age: 17.99, weight: 80) == [])
  }
}
