import PKNumerics

/// Exposure in one dosing interval `[start, end]`: Cmax from the dense output, Cmin = the trough
/// (the value just before the dose at `end`), AUC from the solver's AUC state, Cavg = AUC/τ.
public struct IntervalMetrics: Sendable, Equatable {
  public var start: Double
  public var end: Double
  public var cmax: Double
  public var tmax: Double
  public var cmin: Double
  public var auc: Double
  public var cavg: Double { auc / (end - start) }
}

/// The metrics of one subject on one regimen (DESIGN §6 `--metrics` columns).
public struct ExposureMetrics: Sendable, Equatable {
  public var cmaxFirst: Double
  public var tmaxFirst: Double
  public var cmaxSS: Double?
  public var cminSS: Double?
  public var aucTauSS: Double?
  public var cavgSS: Double?
  public var timeToSS: Double?
  public var accumulationRatio: Double?
  public var timeAboveThresholdPercent: Double?
  /// Days from the last dose until C < LLOQ (nil if it never gets there within 10 years).
  public var washout: Double?
  public var intervals: [IntervalMetrics]

  /// Values in the order of `columns` (nil = not applicable, written empty).
  public var values: [Double?] {
    [cmaxFirst, tmaxFirst, cmaxSS, cminSS, aucTauSS, cavgSS, timeToSS, accumulationRatio, timeAboveThresholdPercent, washout]
  }

  public static let columns = [
    "cmax_first_mg_L", "tmax_first_day", "cmax_ss_mg_L", "cmin_ss_mg_L", "auc_tau_ss_mg_day_L", "cavg_ss_mg_L",
    "time_to_ss_day", "accumulation_ratio", "time_above_threshold_pct", "washout_day",
  ]
}

/// Watches a subject's simulation and measures every dosing interval on the fly.
struct IntervalTracker: SimulationObserver {
  let central: Int
  let auc: Int
  let factor: Double
  let threshold: Double?
  let horizon: Double
  /// Distinct dose times, ascending; the intervals are between consecutive ones, plus the last.
  let boundaries: [Double]
  var index = -1  // current interval
  var current: (cmax: Double, tmax: Double)? = nil
  var aucAtDose: [Double] = []
  var troughs: [Double] = []
  var peaks: [(Double, Double)] = []
  var timeAbove = 0.0
  var washoutStart: Double? = nil
  var lloq: Double
  var washout: Double? = nil
  /// The run may stop once the washout is known and this time (the last interval's end) is passed.
  var stopAfter = Double.infinity
  var reached = -Double.infinity
  var stopRequested: Bool { washout != nil && reached >= stopAfter }

  mutating func doseGiven(_ dose: Dose, at time: Double, state: UnsafePointer<Double>, layout: StateLayout) {
    guard index + 1 < boundaries.count, time >= boundaries[index + 1] else { return }
    // Close the interval that ends at this dose (if any), then open the next.
    if index >= 0 {
      troughs.append(factor * state[central])
      peaks.append(current ?? (factor * state[central], time))
    }
    aucAtDose.append(state[auc])
    index += 1
    current = nil
  }

  mutating func observe(_ step: DenseStep) {
    let c = central, k = factor
    // A segment redone by another method is seen twice: measure only what is new.
    guard step.end > reached else { return }
    let start = Swift.max(step.start, reached)
    reached = step.end
    let f = { (t: Double) -> Double in k * step.value(c, at: t) }
    if index >= 0 {
      let peak = PeakSearch.maximum(on: start, step.end, f)
      if current == nil || peak.value > current!.cmax { current = (peak.value, peak.t) }
    }
    if let threshold, start < horizon {
      timeAbove += PeakSearch.timeAbove(threshold, on: start, Swift.min(step.end, horizon), f)
    }
    if washout == nil, let last = washoutStart, step.end > last, k * step.value(c, at: step.end) < lloq {
      // First crossing below the LLOQ after the last dose: bisect inside this step.
      var lo = Swift.max(start, last), hi = step.end
      if f(lo) < lloq { washout = lo - last } else {
        for _ in 0..<60 {
          let mid = (lo + hi) / 2
          if f(mid) < lloq { hi = mid } else { lo = mid }
        }
        washout = hi - last
      }
    }
  }
}

/// Computes exposure metrics for one subject: simulates the regimen (past the horizon as far as
/// the last interval and the washout need), measures every interval from the dense output and
/// the AUC state, and takes the steady state from the direct periodic solution.
public struct MetricsCalculator {
  public var simulator: SubjectSimulator
  public var threshold: Double?
  public var lloq: Double = 0.078
  /// Washout is followed at most this long after the last dose.
  public var washoutLimit = 3650.0

  public init(simulator: SubjectSimulator, threshold: Double? = nil, lloq: Double = 0.078) {
    self.simulator = simulator
    self.threshold = threshold
    self.lloq = lloq
  }

  /// - Parameters:
  ///   - maintenance: the repeating part `(amount, interval, route)` whose periodic steady state
  ///     gives the `_ss` metrics; nil when the regimen has none (e.g. an events file).
  public func metrics(_ p: PKParameters, doses: [Dose], horizon: Double, scale: Double, maintenance: (amount: Double, interval: Double, route: Route)?) throws -> ExposureMetrics {
    let effective = SubjectSimulator.effectiveDoses(doses, parameters: p)
    guard let firstDose = effective.first else {
      // A patient who took no dose (random adherence): the curve stays at 0; the first-dose time,
      // the steady state and the washout do not exist (NaN / nil: left out of cohort statistics).
      return ExposureMetrics(cmaxFirst: 0, tmaxFirst: .nan, timeAboveThresholdPercent: threshold.map { _ in 0 }, washout: nil, intervals: [])
    }
    var times: [Double] = []
    for d in effective where times.last != d.time { times.append(d.time) }
    let lastGap = times.count > 1 ? times[times.count - 1] - times[times.count - 2] : (maintenance?.interval ?? horizon - times[0])
    let lastEnd = times.last! + Swift.max(lastGap, 1e-9)
    let layout = StateLayout(transits: p.ntr)
    var tracker = IntervalTracker(
      central: layout.central, auc: layout.auc, factor: scale / p.Vc, threshold: threshold, horizon: horizon,
      boundaries: times + [lastEnd], lloq: lloq)
    tracker.washoutStart = times.last!
    // Simulate to the end of the last interval with a marker "dose" of 0 mg closing it, then on
    // until the washout is found (or the limit).
    var withMarker = effective
    withMarker.append(Dose(time: lastEnd, amount: 0, route: .iv))
    let end = Swift.max(horizon, lastEnd, times.last! + washoutLimit)
    tracker.stopAfter = lastEnd
    _ = try simulator.simulate(p, doses: withMarker, grid: nil, end: end, scale: 1, output: nil, observer: &tracker)

    var intervals: [IntervalMetrics] = []
    for i in 0..<tracker.troughs.count {
      let (cmax, tmax) = tracker.peaks[i]
      intervals.append(IntervalMetrics(
        start: times[i], end: i + 1 < times.count ? times[i + 1] : lastEnd, cmax: cmax, tmax: tmax,
        cmin: tracker.troughs[i], auc: tracker.aucAtDose[i + 1] - tracker.aucAtDose[i]))
    }
    var m = ExposureMetrics(
      cmaxFirst: intervals.first?.cmax ?? 0, tmaxFirst: (intervals.first?.tmax ?? firstDose.time) - firstDose.time,
      timeAboveThresholdPercent: threshold.map { _ in 100 * tracker.timeAbove / horizon }, washout: tracker.washout, intervals: intervals)
    if let maintenance {
      let ss = try SteadyState(simulator: simulator).solve(p, amount: maintenance.amount, interval: maintenance.interval, route: maintenance.route, scale: scale)
      m.cmaxSS = ss.cmax
      m.cminSS = ss.cmin
      m.aucTauSS = ss.auc
      m.cavgSS = ss.auc / maintenance.interval
      if let first = intervals.first, first.auc > 0 { m.accumulationRatio = ss.auc / first.auc }
      m.timeToSS = intervals.first(where: { $0.cmin >= 0.9 * ss.cmin })?.end
    }
    return m
  }

}
