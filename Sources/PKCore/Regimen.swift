/// A dosing regimen as a list of phases (DESIGN §6 "Regimen text grammar").
///
/// `phase := amount [interval ["x" count] ["for" duration | "until" time]]`. A phase without an
/// interval is one dose. The first phase starts at day 0; a phase that ended by `for`/`until` hands
/// over at that time, otherwise the next phase starts one interval after the previous phase's last
/// dose (the previous phase's interval, or the next phase's when the previous was a single dose).
public struct Regimen: Sendable, Equatable {
  public struct Phase: Sendable, Equatable {
    /// mg per dose.
    public var amount: Double
    /// Days between doses; `nil` for a single dose.
    public var interval: Double?
    /// Number of doses (`xN`).
    public var count: Int?
    public var stop: Stop?

    public enum Stop: Sendable, Equatable {
      /// `for D`: doses at t < phase start + D.
      case duration(Double)
      /// `until T`: doses at t < T, counted from day 0.
      case until(Double)
    }

    public init(amount: Double, interval: Double? = nil, count: Int? = nil, stop: Stop? = nil) {
      self.amount = amount
      self.interval = interval
      self.count = count
      self.stop = stop
    }

    /// Whether the phase ends by itself (a single dose, a count, or a stop).
    public var isBounded: Bool { interval == nil || count != nil || stop != nil }
  }

  public var phases: [Phase]
  public var route: Route

  public init(phases: [Phase], route: Route = .sc) throws(RegimenError) {
    guard !phases.isEmpty else { throw RegimenError("the regimen has no doses", fix: "give at least one dose, e.g. \"300mg q2w\"") }
    for (i, p) in phases.enumerated() {
      guard p.amount.isFinite, p.amount > 0 else {
        throw RegimenError("a dose of \(p.amount) mg is not possible", fix: "give a dose greater than 0 mg")
      }
      if p.amount > 1e6 {
        throw RegimenError("a dose of \(p.amount) mg is absurd", fix: "give a dose of at most 1,000,000 mg")
      }
      if let iv = p.interval, !(iv > 0 && iv.isFinite) {
        throw RegimenError("an interval of \(iv) days is not possible", fix: "give an interval greater than 0, e.g. q2w")
      }
      if p.interval == nil && p.count != nil {
        throw RegimenError("a single dose cannot have a count", fix: "add an interval before 'x', e.g. \"300mg q2w x6\"")
      }
      if let n = p.count, n < 1 { throw RegimenError("a dose count of \(n) is not possible", fix: "give a count of 1 or more") }
      if i < phases.count - 1 && !p.isBounded {
        throw RegimenError(
          "phase \(i + 1) never ends, so the phases after it would never start",
          fix: "end it with 'xN', 'for D' or 'until T', e.g. \"300mg q2w x8 then 300mg q4w\"")
      }
      if i > 0 && phases[i - 1].interval == nil && p.interval == nil && phases[i - 1].stop == nil {
        throw RegimenError(
          "two single doses follow each other with no interval between them",
          fix: "give one of them an interval, or use an events file for arbitrary dose times")
      }
    }
    self.phases = phases
    self.route = route
  }

  /// The flag form: `--loading L --dose D --interval I --doses N`. Without `loading` the first
  /// maintenance dose is at day 0; with it, one interval after the loading dose.
  public static func flags(loading: Double?, dose: Double?, interval: Double?, doses: Int?, route: Route = .sc)
    throws(RegimenError) -> Regimen
  {
    var phases: [Phase] = []
    if let loading { phases.append(Phase(amount: loading)) }
    if let dose {
      guard let interval else { throw RegimenError("--dose needs --interval", fix: "add e.g. --interval q2w") }
      phases.append(Phase(amount: dose, interval: interval, count: doses))
    } else if interval != nil || doses != nil {
      throw RegimenError("--interval and --doses need --dose", fix: "add e.g. --dose 300")
    }
    return try Regimen(phases: phases, route: route)
  }

  /// The scheduled doses at t < `horizon`, in time order.
  public func doses(horizon: Double) -> [Dose] { scheduled(horizon: horizon).map(\.dose) }

  /// Most doses a schedule may hold (as `--doses` and `xN`).
  public static let maximumDoses = 10_000_000

  /// Refuses, before any dose is generated, a regimen that could give more than `maximumDoses`
  /// doses before `horizon` (e.g. "300mg q0.00001d" over years): an upper bound, phase by phase.
  public func checkDoseCount(horizon: Double) throws(RegimenError) {
    var bound = 0.0
    for phase in phases {
      guard let interval = phase.interval else { bound += 1; continue }
      var n = (horizon / interval).rounded(.up) + 1
      if let count = phase.count { n = Swift.min(n, Double(count)) }
      bound += n
    }
    guard bound <= Double(Self.maximumDoses) else {
      throw RegimenError(
        "the regimen would give more than \(Self.maximumDoses) doses before the horizon",
        fix: "use a longer interval, a dose count ('xN' or --doses) or a shorter horizon")
    }
  }

  /// A scheduled dose with the interval of its phase (used by the missed-dose rules).
  public struct ScheduledDose: Sendable, Equatable {
    public var dose: Dose
    /// The interval from this dose to the next one of its schedule: its phase's interval, or for
    /// a single-dose phase the interval to the next phase's first dose (`nil` if none).
    public var interval: Double?
    public init(dose: Dose, interval: Double?) {
      self.dose = dose
      self.interval = interval
    }
  }

  /// The scheduled doses at t < `horizon` with their intervals, in time order.
  public func scheduled(horizon: Double) -> [ScheduledDose] {
    var out: [ScheduledDose] = []
    var start = 0.0
    for (index, phase) in phases.enumerated() {
      guard start < horizon else { break }
      let next = index + 1 < phases.count ? phases[index + 1] : nil
      guard let interval = phase.interval else {
        out.append(ScheduledDose(dose: Dose(time: start, amount: phase.amount, route: route), interval: next?.interval))
        if case .duration(let d)? = phase.stop { start += d }
        else if case .until(let t)? = phase.stop { start = t }
        else { start += next?.interval ?? .infinity }
        continue
      }
      var stopTime = horizon
      switch phase.stop {
      case .duration(let d)?: stopTime = Swift.min(stopTime, start + d)
      case .until(let t)?: stopTime = Swift.min(stopTime, t)
      case nil: break
      }
      var k = 0
      var last = start
      var endedByCount = false
      while true {
        if let count = phase.count, k >= count { endedByCount = true; break }
        let t = start + Double(k) * interval
        guard t < stopTime else { break }
        out.append(ScheduledDose(dose: Dose(time: t, amount: phase.amount, route: route), interval: interval))
        last = t
        k += 1
        if k > 10_000_000 { break }  // horizons are capped far below this; never loop unbounded
      }
      switch (endedByCount, phase.stop) {
      case (false, .duration(let d)?): start += d
      case (false, .until(let t)?): start = t
      default: start = k == 0 ? start : last + interval
      }
    }
    return out
  }
}

/// A regimen that cannot be built or parsed: what is wrong, and how to fix it.
public struct RegimenError: Error, Equatable, Sendable, CustomStringConvertible {
  public let problem: String
  public let fix: String
  public init(_ problem: String, fix: String) {
    self.problem = problem
    self.fix = fix
  }
  public var description: String { "\(problem). \(fix)" }
}
