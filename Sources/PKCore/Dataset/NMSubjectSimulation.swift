/// One subject's records, processed one after another in file order as PREDPP does (NONMEM Users
/// Guide VI ch. II), with the state carried exactly from event to event by the closed-form
/// one-compartment solution.
///
/// Event semantics (docs/nonmem-datasets.md has the full list and sources):
/// - Doses due by a record's time (lagged doses, additional doses, infusion ends) are applied
///   before the record; the record then acts, and its output is the state after it.
/// - A dose of AMT into compartment n enters as Fn·AMT at TIME + ALAGn: at once (RATE 0), at
///   RATE for Fn·AMT/RATE (RATE > 0: F changes the duration, not the rate), over Dn (RATE −2) or
///   at Rn (RATE −1). ADDL repeats it at TIME + k·II with the record's F, lag and duration.
/// - EVID 3 zeroes the amounts and drops running infusions and pending doses; EVID 4 does the
///   same, then doses.
/// - SS = 1 does what EVID 3 does, then sets the steady state of the dose pattern; SS = 2 adds that
///   steady state to the current state and keeps everything pending. The record's own dose
///   follows (with its lag) and then its ADDL doses.
struct NMSubjectSimulation {
  struct RunningInfusion {
    var compartment: Int
    var rate: Double
    var end: Double
  }

  /// Doses `dose` entering at `(base + k·interval) + lag`, k = next…count−1.
  struct ScheduledDoses {
    var dose: NMDoseInput
    var base: Double
    var interval: Double
    var lag: Double
    var next = 0
    var count: Int
    var nextStart: Double { (base + Double(next) * interval) + lag }
  }

  let model: OneCompartmentDepotModel
  let source: String
  private(set) var time: Double
  private(set) var amounts = OneCompartmentAmounts()
  private var infusions: [RunningInfusion] = []
  private var scheduled: [ScheduledDoses] = []
  /// Steady-state dose records whose lag is ≥ II (outside NONMEM's definition).
  private(set) var lagAtLeastIntervalRecords: [NMRecord] = []

  init(model: OneCompartmentDepotModel, source: String, startTime: Double) {
    self.model = model
    self.source = source
    self.time = startTime
  }

  /// Processes one record and returns the model's output after it.
  mutating func process(_ r: NMRecord) throws(DatasetError) -> Double {
    switch r.event {
    case .observation, .other:
      advance(to: r.time)
    case .dose:
      advance(to: r.time)
      try give(r)
    case .reset:
      reset(at: r.time)
    case .resetAndDose:
      reset(at: r.time)
      try give(r)
    }
    let output = model.output(amounts)
    guard output.isFinite else {
      throw DatasetError("line \(r.line) of '\(source)': the prediction is not a finite number", fix: "check the doses and the model parameters for extreme values")
    }
    return output
  }

  // MARK: - Time

  /// Carries the state to `target`, applying every infusion end and scheduled dose due by then.
  mutating func advance(to target: Double) {
    while let next = nextEventTime(), next <= target {
      propagate(to: next)
      infusions.removeAll { $0.end <= next }
      for i in scheduled.indices {
        while scheduled[i].next < scheduled[i].count && scheduled[i].nextStart <= next {
          start(scheduled[i].dose, at: next)
          scheduled[i].next += 1
        }
      }
      scheduled.removeAll { $0.next >= $0.count }
    }
    propagate(to: target)
  }

  private func nextEventTime() -> Double? {
    var next: Double? = nil
    for infusion in infusions where next.map({ infusion.end < $0 }) ?? true { next = infusion.end }
    for s in scheduled where next.map({ s.nextStart < $0 }) ?? true { next = s.nextStart }
    return next.map { Swift.max($0, time) }
  }

  private mutating func propagate(to target: Double) {
    guard target > time else { return }
    var depotRate = 0.0, centralRate = 0.0
    for infusion in infusions {
      if infusion.compartment == 1 { depotRate += infusion.rate } else { centralRate += infusion.rate }
    }
    amounts = model.advance(amounts, by: target - time, depotRate: depotRate, centralRate: centralRate)
    time = target
  }

  private mutating func start(_ dose: NMDoseInput, at t: Double) {
    guard dose.amount != 0 else { return }
    if let infusion = dose.infusion, t + infusion.duration > t {
      infusions.append(RunningInfusion(compartment: dose.compartment, rate: infusion.rate, end: t + infusion.duration))
    } else {
      // A bolus, or an infusion shorter than the clock can resolve at this time.
      amounts += OneCompartmentAmounts(dose.amount, inCompartment: dose.compartment)
    }
  }

  /// EVID 3 and 4, SS = 1: zero amounts, no running infusions, no pending doses.
  private mutating func reset(at t: Double) {
    amounts = OneCompartmentAmounts()
    infusions.removeAll()
    scheduled.removeAll()
    time = t
  }

  // MARK: - Doses

  private mutating func give(_ r: NMRecord) throws(DatasetError) {
    let compartment = r.compartment == 0 ? 1 : r.compartment
    if r.steadyState == 1 { reset(at: r.time) }

    if r.isSteadyStateConstantInfusion {
      // Neither F nor lag applies, and the infusion stops at the record time (nmhelp SS).
      do { amounts += try model.constantInfusionSteadyState(rate: r.rate, compartment: compartment) } catch {
        throw steadyStateFailure(r, error)
      }
      return
    }

    let fraction = r.doseItems[.bioavailability(compartment: compartment)] ?? (compartment == 1 ? model.depotBioavailability : 1)
    let lag = r.doseItems[.lag(compartment: compartment)] ?? (compartment == 1 ? model.depotLag : 0)
    guard fraction >= 0 else {
      throw fail(r, "the bioavailability F\(compartment) is \(fraction)", "give F\(compartment) as 0 or more")
    }
    guard lag >= 0 else {
      throw fail(r, "the lag time ALAG\(compartment) is \(lag)", "give ALAG\(compartment) as 0 or more")
    }
    let dose = try input(r, compartment: compartment, fraction: fraction)
    if r.steadyState != 0 {
      let contribution: NMSteadyStateContribution
      do { contribution = try model.periodicSteadyState(dose, interval: r.interval, lag: lag) } catch {
        throw steadyStateFailure(r, error)
      }
      amounts += contribution.amounts
      for running in contribution.runningInfusions {
        infusions.append(RunningInfusion(compartment: running.compartment, rate: running.rate, end: r.time + running.remaining))
      }
      for offset in contribution.pendingOffsets {
        scheduled.append(ScheduledDoses(dose: dose, base: r.time, interval: 0, lag: offset, count: 1))
      }
      if lag >= r.interval { lagAtLeastIntervalRecords.append(r) }
    }
    scheduled.append(ScheduledDoses(dose: dose, base: r.time, interval: r.interval, lag: lag, count: 1 + r.additionalDoses))
    advance(to: r.time)  // a dose without lag enters now, before the record's output
  }

  /// The amount and the infusion (if any) of the record's dose (nmhelp RATE; dose event record).
  private func input(_ r: NMRecord, compartment: Int, fraction: Double) throws(DatasetError) -> NMDoseInput {
    let amount = fraction * r.amount
    switch r.rate {
    case 0:
      return NMDoseInput(compartment: compartment, amount: amount, infusion: nil)
    case -1:
      let item = NMDoseItem.rate(compartment: compartment)
      guard let rate = r.doseItems[item] else {
        throw fail(r, "RATE -1 asks for a modeled rate \(item), and no column gives it", "add a column with the rate and map it with --column NAME=\(item)")
      }
      guard rate > 0 else { throw fail(r, "the modeled rate \(item) is \(rate) for a RATE -1 dose", "give \(item) greater than 0") }
      return NMDoseInput(compartment: compartment, amount: amount, infusion: .init(rate: rate, duration: amount / rate))
    case -2:
      let item = NMDoseItem.duration(compartment: compartment)
      guard let duration = r.doseItems[item] else {
        throw fail(r, "RATE -2 asks for a modeled duration \(item), and no column gives it", "add a column with the duration and map it with --column NAME=\(item)")
      }
      guard duration > 0 else { throw fail(r, "the modeled duration \(item) is \(duration) for a RATE -2 dose", "give \(item) greater than 0") }
      return NMDoseInput(compartment: compartment, amount: amount, infusion: .init(rate: amount / duration, duration: duration))
    default:
      return NMDoseInput(compartment: compartment, amount: amount, infusion: .init(rate: r.rate, duration: amount / r.rate))
    }
  }

  private func fail(_ r: NMRecord, _ problem: String, _ fix: String) -> DatasetError {
    DatasetError("line \(r.line) of '\(source)': \(problem)", fix: fix)
  }

  private func steadyStateFailure(_ r: NMRecord, _ problem: NMSteadyStateProblem) -> DatasetError {
    switch problem {
    case .noSteadyState:
      return fail(r, "the steady-state dose (SS \(r.steadyState)) has no steady state: the model eliminates nothing (ke = 0) or never absorbs the depot (ka = 0)", "give ke > 0 (and ka > 0 for depot doses), or use SS 0")
    case .tooManyOverlappingInfusions(let count):
      return fail(r, "the steady-state infusion overlaps more than \(count - 1) of its implied infusions (duration or lag much longer than II)", "check RATE, AMT, II and the lag time")
    }
  }
}
