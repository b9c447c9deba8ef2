import Foundation

/// Readable ("nice") tick values and their labels.
public enum AxisTicks {
  /// A step of 1, 2, 2.5 or 5 times a power of ten close to `rough`.
  public static func niceStep(_ rough: Double) -> Double {
    guard rough.isFinite, rough > 0 else { return 1 }
    let power = pow(10, floor(log10(rough)))
    let fraction = rough / power
    let nice: Double
    if fraction <= 1 { nice = 1 } else if fraction <= 2 { nice = 2 } else if fraction <= 2.5 { nice = 2.5 } else if fraction <= 5 { nice = 5 } else { nice = 10 }
    return nice * power
  }

  /// Ticks from 0 up to a nice upper bound at or above `maximum`, with at most about `count`
  /// intervals. Returns the ticks (first 0, last the upper bound).
  public static func linear(upTo maximum: Double, count: Int = 6) -> [Double] {
    let top = maximum.isFinite && maximum > 0 ? maximum : 1
    let step = niceStep(top / Double(Swift.max(count, 1)))
    let intervals = Int((top / step - 1e-9).rounded(.up))
    return (0...Swift.max(intervals, 1)).map { Double($0) * step }
  }

  /// Ticks for a log axis from 10^lowExponent to 10^highExponent: every decade, plus 2× and 5×
  /// when the axis spans at most two decades, every other decade when it spans more than eight.
  public static func logarithmic(lowExponent: Int, highExponent: Int) -> [Double] {
    let span = highExponent - lowExponent
    let decadeStep = span > 8 ? 2 : 1
    var ticks: [Double] = []
    var e = lowExponent
    while e <= highExponent {
      let decade = pow(10, Double(e))
      ticks.append(decade)
      if span <= 2 && e < highExponent {
        ticks.append(2 * decade)
        ticks.append(5 * decade)
      }
      e += decadeStep
    }
    return ticks
  }

  /// How time tick labels read.
  public enum TimeLabelStyle: Sendable, Equatable {
    /// Week numbers: 0, 4, 8 … (spans of four weeks or more).
    case weeks
    /// Weeks and days: 0, 3d, 1w, 1w 2d … (spans from two days to four weeks).
    case weeksAndDays
    /// Days: 0, 0.5d, 1d … (spans under two days).
    case days
  }

  /// Ticks for a time axis in weeks from `lower` to `upper`, at most about `count` intervals.
  /// Spans of four weeks or more use week-friendly steps (1, 2, 4, 8, 13, 26, 52 … weeks, so
  /// q2w and q4w schedules and quarters line up); shorter spans tick whole days or weeks, and
  /// spans under two days tick fractions of a day.
  public static func weeks(from lower: Double, to upper: Double, count: Int = 10) -> (ticks: [Double], step: Double, style: TimeLabelStyle) {
    let span = upper - lower
    guard span.isFinite, span > 0 else { return ([lower], 1, .weeks) }
    let target = Double(Swift.max(count, 2))
    var step: Double
    let style: TimeLabelStyle
    if span >= 4 {
      let candidates: [Double] = [1, 2, 4, 8, 13, 26, 52, 104, 260, 520, 1040, 2600, 5200]
      step = candidates.first { span / $0 <= target } ?? niceStep(span / target)
      style = .weeks
    } else if span >= 2 {
      step = 1
      style = .weeksAndDays
    } else if span * 7 >= 2 {
      step = (span * 7 / target <= 1 ? 1 : 7) / 7
      style = .weeksAndDays
    } else {
      step = niceStep(span * 7 / target) / 7
      style = .days
    }
    var ticks: [Double] = []
    var k = (lower / step - 1e-9).rounded(.up)
    while k * step <= upper + step * 1e-9 {
      ticks.append(k * step)
      k += 1
    }
    return (ticks, step, style)
  }

  /// A time tick label (the tick in weeks) in `style`.
  public static func timeLabel(_ weeks: Double, step: Double, style: TimeLabelStyle) -> String {
    switch style {
    case .weeks:
      return label(weeks, step: step)
    case .weeksAndDays:
      let totalDays = Int((weeks * 7).rounded())
      let w = totalDays / 7, d = totalDays % 7
      if w == 0 && d == 0 { return "0" }
      if w == 0 { return "\(d)d" }
      return d == 0 ? "\(w)w" : "\(w)w \(d)d"
    case .days:
      let days = weeks * 7
      return days == 0 ? "0" : label(days, step: step * 7) + "d"
    }
  }

  /// A tick label with just enough decimals for `step`: 0, 2.5, 0.05, 1000; very large or very
  /// small values in exponent form (1e-5, 2e+06).
  public static func label(_ value: Double, step: Double) -> String {
    guard value.isFinite else { return "" }
    if value == 0 { return "0" }
    let magnitude = Swift.abs(value)
    if magnitude >= 1e6 || magnitude < 1e-4 {
      let exponent = Int(floor(log10(magnitude)))
      let mantissa = value / pow(10, Double(exponent))
      let m = Swift.abs(mantissa - mantissa.rounded()) < 1e-6 ? String(Int(mantissa.rounded())) : trimmed(String(format: "%.2f", mantissa))
      return "\(m)e\(exponent)"
    }
    var decimals = 0
    if step > 0 && step.isFinite {
      var s = step
      while decimals < 8 && Swift.abs(s - s.rounded()) > 1e-9 * Swift.max(1, s) {
        s *= 10
        decimals += 1
      }
    }
    return trimmed(String(format: "%.\(decimals)f", value))
  }

  /// A log-axis label: the value itself with its own significant decimals (0.01, 0.5, 20, 1000).
  public static func logLabel(_ value: Double) -> String {
    guard value.isFinite, value > 0 else { return "" }
    let exponent = floor(log10(value) + 1e-9)
    return label(value, step: pow(10, Swift.min(exponent, 0)))
  }

  /// A value for a text label: three significant figures, no exponent for ordinary sizes.
  public static func readable(_ value: Double) -> String {
    guard value.isFinite else { return "—" }
    if value == 0 { return "0" }
    let magnitude = Swift.abs(value)
    if magnitude >= 1e6 || magnitude < 1e-3 { return String(format: "%.2e", value) }
    let decimals = Swift.max(0, 2 - Int(floor(log10(magnitude))))
    return trimmed(String(format: "%.\(decimals)f", value))
  }

  static func trimmed(_ s: String) -> String {
    guard s.contains(".") else { return s }
    var t = s
    while t.last == "0" { t.removeLast() }
    if t.last == "." { t.removeLast() }
    return t == "-0" ? "0" : t
  }
}
