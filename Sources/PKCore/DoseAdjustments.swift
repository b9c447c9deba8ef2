/// Missed, delayed and late doses (DESIGN §6 "Dose numbers"): dose numbers are 1-based over all
/// doses in time order, the loading dose being dose 1.
public struct DoseAdjustments: Sendable, Equatable {
  /// `--miss N,...`: these doses are not given.
  public var missed: Set<Int> = []
  /// `--delay N:D`: dose N is given D days late; nothing else changes.
  public var delayed: [Int: Double] = [:]
  /// `--late N:D`: the patient remembers dose N D days late, and the label's rule decides.
  public var late: [Int: Double] = [:]

  public init(missed: Set<Int> = [], delayed: [Int: Double] = [:], late: [Int: Double] = [:]) {
    self.missed = missed
    self.delayed = delayed
    self.late = late
  }

  public var isEmpty: Bool { missed.isEmpty && delayed.isEmpty && late.isEmpty }

  /// The label's missed-dose rule for a dose remembered `delay` days late on a schedule of
  /// `interval` days. Source: Dupixent USPI §2 as paraphrased by Drugs.com (Mar 2025), quoted in
  /// `reference/dupilumab-pk.md` §3 "Missed doses":
  /// - qw: give it now and start a new weekly schedule from then;
  /// - q2w: within 7 days give it and keep the schedule, otherwise skip it;
  /// - q4w: within 7 days give it and keep the schedule, otherwise give it and start a new
  ///   4-week schedule from then.
  public enum LateRule: Sendable, Equatable {
    case giveAndKeepSchedule
    case skip
    case giveAndRestartSchedule
  }

  public static func lateRule(interval: Double, delay: Double) -> LateRule? {
    switch interval {
    case 7: return .giveAndRestartSchedule
    case 14: return delay <= 7 ? .giveAndKeepSchedule : .skip
    case 28: return delay <= 7 ? .giveAndKeepSchedule : .giveAndRestartSchedule
    default: return nil
    }
  }

  /// Applies the adjustments to a schedule and drops the doses that end at t ≥ `horizon`.
  public func apply(to schedule: [Regimen.ScheduledDose], horizon: Double) throws(RegimenError) -> [Dose] {
    let count = schedule.count
    for n in missed.union(delayed.keys).union(late.keys) where n < 1 || n > count {
      throw RegimenError(
        "there is no dose \(n): the regimen has \(count) dose\(count == 1 ? "" : "s") before the horizon",
        fix: "use a dose number from 1 to \(count) (the loading dose is dose 1)")
    }
    for n in missed where delayed[n] != nil || late[n] != nil {
      throw RegimenError("dose \(n) is both missed and given late", fix: "name it in only one of --miss, --delay and --late")
    }
    for n in delayed.keys where late[n] != nil {
      throw RegimenError("dose \(n) is given both --delay and --late", fix: "name it in only one of them")
    }
    for (n, d) in delayed.merging(late, uniquingKeysWith: { a, _ in a }) where !(d >= 0 && d.isFinite) {
      throw RegimenError("dose \(n) cannot be \(d) days late", fix: "give a delay of 0 days or more, e.g. \(n):5d")
    }
    var out: [Dose] = []
    var shift = 0.0
    for (index, scheduled) in schedule.enumerated() {
      let number = index + 1
      var dose = scheduled.dose
      dose.time += shift
      if missed.contains(number) { continue }
      if let d = delayed[number] {
        dose.time += d
      } else if let d = late[number] {
        guard let interval = scheduled.interval, let rule = Self.lateRule(interval: interval, delay: d) else {
          let what = scheduled.interval.map { "a \(Self.describe($0)) schedule" } ?? "no repeating schedule"
          throw RegimenError(
            "the label's missed-dose rule covers qw, q2w and q4w schedules, but dose \(number) is on \(what)",
            fix: "use --delay \(number):\(Self.describe(d)) to give it late without the rule")
        }
        switch rule {
        case .skip: continue
        case .giveAndKeepSchedule: dose.time += d
        case .giveAndRestartSchedule:
          dose.time += d
          shift += d
        }
      }
      out.append(dose)
    }
    return Self.sortedStable(out.filter { $0.time < horizon })
  }

  /// Sorts by time, keeping the original order of equal times.
  static func sortedStable(_ doses: [Dose]) -> [Dose] {
    doses.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
  }

  static func describe(_ days: Double) -> String {
    days == days.rounded() && Swift.abs(days) < 1e9 ? "\(Int(days))d" : "\(days)d"
  }
}
