import Foundation

/// The concentration (y) axis: linear from 0 to a nice maximum, or logarithmic over whole
/// decades. Maps values to a 0 (bottom) … 1 (top) fraction, clipping what lies outside.
public struct ValueAxis: Sendable {
  public let isLog: Bool
  public let lower: Double
  public let upper: Double
  public let ticks: [Double]

  /// The largest number of decades a log axis shows below its top; lower values are clipped to
  /// the bottom edge (unless a reference line such as the LLOQ asks for more room).
  public static let maximumDecades = 5

  /// Where `value` sits, from 0 (bottom) to 1 (top). Values beyond the axis are clipped to its
  /// edges; on a log axis zero and negative values sit on the bottom edge. Not-a-number gives
  /// `nil` (a gap in the curve).
  public func fraction(_ value: Double) -> Double? {
    if value.isNaN { return nil }
    let f: Double
    if isLog {
      guard value > 0 else { return 0 }
      f = (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
    } else {
      f = (value - lower) / (upper - lower)
    }
    guard f.isFinite else { return value > lower ? 1 : 0 }
    return Swift.min(Swift.max(f, 0), 1)
  }

  /// Whether `value` lies on the axis (not clipped).
  public func contains(_ value: Double) -> Bool {
    value.isFinite && value >= lower * (1 - 1e-12) && value <= upper * (1 + 1e-12) && (!isLog || value > 0)
  }

  public func label(_ tick: Double) -> String {
    if isLog { return AxisTicks.logLabel(tick) }
    let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
    return AxisTicks.label(tick, step: step)
  }

  /// Fits the axis to every curve, band, trough and reference line.
  public static func fit(_ series: [ChartSeries], options: ChartOptions, tickCount: Int = 6) -> ValueAxis {
    var dataMaximum = -Double.infinity
    var dataMinimumPositive = Double.infinity
    func take(_ v: Double) {
      guard v.isFinite else { return }
      dataMaximum = Swift.max(dataMaximum, v)
      if v > 0 { dataMinimumPositive = Swift.min(dataMinimumPositive, v) }
    }
    for s in series {
      s.center.forEach(take)
      if let b = s.bands { [b.p05, b.p25, b.p75, b.p95].forEach { $0.forEach(take) } }
      if let t = s.steadyStateTrough { take(t) }
    }
    let references = [options.lloq, options.threshold].compactMap { $0 }.filter { $0.isFinite && $0 > 0 }
    references.forEach(take)

    if !options.logScale {
      let ticks = AxisTicks.linear(upTo: dataMaximum > 0 ? dataMaximum : 1, count: tickCount)
      return ValueAxis(isLog: false, lower: 0, upper: ticks.last ?? 1, ticks: ticks)
    }
    guard dataMaximum > 0, dataMinimumPositive.isFinite else {
      return ValueAxis(isLog: true, lower: 0.1, upper: 10, ticks: AxisTicks.logarithmic(lowExponent: -1, highExponent: 1))
    }
    let high = Int(ceil(log10(dataMaximum) - 1e-9))
    var low = Swift.max(Int(floor(log10(dataMinimumPositive) + 1e-9)), high - maximumDecades)
    for r in references { low = Swift.min(low, Int(floor(log10(r) + 1e-9))) }
    if low >= high { low = high - 1 }
    return ValueAxis(
      isLog: true, lower: pow(10, Double(low)), upper: pow(10, Double(high)),
      ticks: AxisTicks.logarithmic(lowExponent: low, highExponent: high))
  }
}

/// The time (x) axis in weeks, from the first to the last output time or dose.
public struct TimeAxis: Sendable {
  public let lowerWeeks: Double
  public let upperWeeks: Double
  public let ticks: [Double]
  public let step: Double
  public let style: AxisTicks.TimeLabelStyle

  /// Where a time in days sits, from 0 (left) to 1 (right), clipped.
  public func fraction(days: Double) -> Double? {
    guard days.isFinite else { return nil }
    let f = (days / 7 - lowerWeeks) / (upperWeeks - lowerWeeks)
    return Swift.min(Swift.max(f, 0), 1)
  }

  public func label(_ tick: Double) -> String { AxisTicks.timeLabel(tick, step: step, style: style) }

  /// The axis title.
  public var title: String {
    switch style {
    case .weeks: return "Time (weeks)"
    case .weeksAndDays: return "Time (weeks and days)"
    case .days: return "Time (days)"
    }
  }

  /// Whole days get small ticks of their own when the axis is short and its labels are weeks.
  public var showsDayTicks: Bool { upperWeeks - lowerWeeks <= 4 && step * 7 > 1 + 1e-9 }

  public static func fit(_ series: [ChartSeries], tickCount: Int = 10) -> TimeAxis {
    var lower = Double.infinity
    var upper = -Double.infinity
    for s in series {
      for t in s.times where t.isFinite { lower = Swift.min(lower, t); upper = Swift.max(upper, t) }
      for d in s.doses where d.time.isFinite { lower = Swift.min(lower, d.time); upper = Swift.max(upper, d.time) }
    }
    if !lower.isFinite || !upper.isFinite { lower = 0; upper = 7 }
    lower = Swift.min(lower, 0)
    if upper - lower < 1e-9 { upper = lower + 7 }
    let (ticks, step, style) = AxisTicks.weeks(from: lower / 7, to: upper / 7, count: tickCount)
    return TimeAxis(lowerWeeks: lower / 7, upperWeeks: upper / 7, ticks: ticks, step: step, style: style)
  }
}
