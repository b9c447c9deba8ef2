import PKCore

/// A concentration–time chart as a self-contained SVG document, drawn by hand (no packages):
/// time in weeks, concentration in mg/L (linear or log), every dose marked under the time axis
/// with its amount, the typical curve or cohort median with 5–95 % and 25–75 % bands, up to
/// eight regimens with a legend, LLOQ and threshold lines, and the steady-state trough.
///
/// Element classes, for styling and for tests: `plot-area` (the rectangle curves live in),
/// `series` (one path per regimen), `band` (`band outer` 5–95 %, `band inner` 25–75 %), `dose`
/// (one marker per dose; `dose loading` for a loading dose), `dose-label`, `reference lloq`,
/// `reference threshold`, `trough`, `axis x`, `axis y`, `tick`, `legend`.
public struct SVGChart: Sendable {
  public var series: [ChartSeries]
  public var options: ChartOptions
  /// Total width in pixels; the height follows from the content.
  public var width: Double
  /// Height of the plot area in pixels.
  public var plotHeight: Double

  public init(series: [ChartSeries], options: ChartOptions, width: Double = 960, plotHeight: Double = 360) {
    self.series = series
    self.options = options
    self.width = Swift.max(width, 360)
    self.plotHeight = Swift.max(plotHeight, 120)
  }

  static let fontFamily = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"

  /// The SVG text. `standalone` adds the XML namespace a separate `.svg` file needs; inline SVG
  /// in HTML goes without it.
  public func render(standalone: Bool = true) -> String {
    let layout = SVGChartLayout(chart: self)
    var w = SVGWriter()
    var rootAttributes: [(String, String)] = []
    if standalone { rootAttributes.append(("xmlns", "http://www.w3.org/2000/svg")) }
    rootAttributes += [
      ("width", SVGWriter.number(layout.width)), ("height", SVGWriter.number(layout.height)),
      ("viewBox", "0 0 \(SVGWriter.number(layout.width)) \(SVGWriter.number(layout.height))"),
      ("font-family", Self.fontFamily), ("role", "img"), ("aria-label", options.title.isEmpty ? "Concentration chart" : options.title),
      ("class", "posology-chart"),
    ]
    w.open("svg", rootAttributes)
    w.element("title", [], content: options.title.isEmpty ? "Concentration chart" : options.title)
    w.element("desc", [], content: layout.description)
    w.element("rect", [("class", "background"), ("x", "0"), ("y", "0"), ("width", SVGWriter.number(layout.width)), ("height", SVGWriter.number(layout.height)), ("fill", "#FFFFFF")])
    layout.drawTitle(&w)
    layout.drawPlotArea(&w)
    layout.drawBands(&w)
    layout.drawReferences(&w)
    layout.drawSeries(&w)
    layout.drawTroughs(&w)
    layout.drawAxes(&w)
    layout.drawDoses(&w)
    layout.drawRightLabels(&w)
    layout.drawLegend(&w)
    w.close("svg")
    return w.text
  }
}

/// The geometry of one chart: where everything goes, computed once from the data.
struct SVGChartLayout {
  let chart: SVGChart
  let series: [ChartSeries]
  let options: ChartOptions
  let valueAxis: ValueAxis
  let timeAxis: TimeAxis
  let doseGroups: [[DoseGroup]]
  let width: Double
  let titleHeight: Double
  let plotLeft: Double
  let plotRight: Double
  let plotTop: Double
  let plotBottom: Double
  /// Top of each regimen's dose row, and the strip's bottom.
  let doseRowTops: [Double]
  let doseRowPlans: [DoseLabelPlan]
  let stripBottom: Double
  let legendTop: Double
  let legendRows: [[LegendEntry]]
  let height: Double
  let rightLabels: [RightLabel]

  static let tickFont = 11.0
  static let labelFont = 10.0
  static let legendFont = 12.0
  static let markerZone = 13.0
  static let labelLine = 11.0
  static let legendRowHeight = 20.0

  var plotWidth: Double { plotRight - plotLeft }
  var hasBands: Bool { series.contains { $0.bands != nil } }

  init(chart: SVGChart) {
    self.chart = chart
    series = chart.series
    options = chart.options
    width = chart.width
    let valueAxis = ValueAxis.fit(chart.series, options: chart.options, tickCount: Swift.max(3, Int(chart.plotHeight / 60)))
    self.valueAxis = valueAxis
    let doseGroups = chart.series.map { DoseGroup.groups($0.doses) }
    self.doseGroups = doseGroups

    titleHeight = options.title.isEmpty ? 10 : 50
    let yLabelWidth = valueAxis.ticks.map { TextMetrics.width(valueAxis.label($0), fontSize: Self.tickFont) }.max() ?? 20
    let plotLeft = Swift.max(26 + 8 + yLabelWidth + 8, series.count > 1 ? 80 : 62)
    self.plotLeft = plotLeft

    // Right gutter: LLOQ, threshold and trough labels.
    var gutterTexts: [String] = []
    if let v = options.lloq, v.isFinite, v > 0 { gutterTexts.append("LLOQ " + AxisTicks.readable(v)) }
    if let v = options.threshold, v.isFinite, v > 0 { gutterTexts.append("threshold " + AxisTicks.readable(v)) }
    for s in series { if let t = s.steadyStateTrough, t.isFinite { gutterTexts.append("trough " + AxisTicks.readable(t)) } }
    let gutter = gutterTexts.map { TextMetrics.width($0, fontSize: Self.tickFont) }.max().map { $0 + 16 } ?? 24
    plotRight = width - Swift.max(gutter, 24)
    plotTop = titleHeight + 12
    let plotBottom = plotTop + chart.plotHeight
    self.plotBottom = plotBottom
    let plotWidth = plotRight - plotLeft
    let timeAxis = TimeAxis.fit(series, tickCount: Swift.max(3, Int(plotWidth / 56)))
    self.timeAxis = timeAxis
    let width = self.width

    // Dose rows under the axis, one per regimen.
    var tops: [Double] = []
    var plans: [DoseLabelPlan] = []
    var y = plotBottom + 3
    for groups in doseGroups {
      let positions = groups.map { Self.x($0.time, timeAxis, plotLeft, plotWidth) }
      let plan = DoseLabelPlan(groups: groups, positions: positions, minX: plotLeft - 20, maxX: width - 4) { text, bold in
        TextMetrics.width(text, fontSize: Self.labelFont, bold: bold)
      }
      tops.append(y)
      plans.append(plan)
      y += Self.markerZone + Double(plan.linesUsed) * Self.labelLine + 4
    }
    doseRowTops = tops
    doseRowPlans = plans
    stripBottom = y
    legendTop = stripBottom + 44

    // Right-hand labels, pushed apart so they never overlap.
    var labels: [RightLabel] = []
    let plotHeight = chart.plotHeight
    func yOf(_ v: Double) -> Double { plotBottom - (valueAxis.fraction(v) ?? 0) * plotHeight }
    if let v = options.lloq, v.isFinite, v > 0 { labels.append(RightLabel(target: yOf(v), y: 0, text: "LLOQ " + AxisTicks.readable(v), color: ChartPalette.lloq)) }
    if let v = options.threshold, v.isFinite, v > 0 { labels.append(RightLabel(target: yOf(v), y: 0, text: "threshold " + AxisTicks.readable(v), color: ChartPalette.threshold)) }
    for (i, s) in series.enumerated() {
      if let t = s.steadyStateTrough, t.isFinite {
        let color = ChartPalette.style(i).color == "#F0E442" ? ChartPalette.mutedInk : ChartPalette.style(i).color
        labels.append(RightLabel(target: yOf(t), y: 0, text: "trough " + AxisTicks.readable(t), color: color))
      }
    }
    rightLabels = RightLabel.spread(labels, top: plotTop + 4, bottom: plotBottom, gap: 13)

    // Legend entries, flowed into rows.
    var entries: [LegendEntry] = series.enumerated().map { LegendEntry(kind: .series($0.offset), text: $0.element.label) }
    if series.contains(where: { $0.bands != nil }) { entries.append(LegendEntry(kind: .bands, text: "shaded: 25–75 % (darker) and 5–95 % of subjects")) }
    if doseGroups.contains(where: { !$0.isEmpty }) { entries.append(LegendEntry(kind: .dose, text: "dose (mg)")) }
    if doseGroups.contains(where: { $0.first?.isLoading == true }) { entries.append(LegendEntry(kind: .loading, text: "loading dose")) }
    if series.contains(where: { $0.steadyStateTrough?.isFinite == true }) { entries.append(LegendEntry(kind: .trough, text: "steady-state trough")) }
    if let v = options.lloq, v.isFinite, v > 0 { entries.append(LegendEntry(kind: .lloq, text: "LLOQ")) }
    if let v = options.threshold, v.isFinite, v > 0 { entries.append(LegendEntry(kind: .threshold, text: "threshold")) }
    var rows: [[LegendEntry]] = [[]]
    var x = plotLeft
    let maxTextWidth = width - plotLeft - 24 - LegendEntry.sampleWidth
    for var e in entries {
      e.text = Self.truncated(e.text, fontSize: Self.legendFont, maxWidth: maxTextWidth)
      let w = e.width
      if !rows[rows.count - 1].isEmpty && (x + w > width - 12 || (series.count > 1 && e.isSeries != rows[rows.count - 1].last?.isSeries)) {
        rows.append([])
        x = plotLeft
      }
      e.x = x
      rows[rows.count - 1].append(e)
      x += w + 22
    }
    legendRows = rows.filter { !$0.isEmpty }
    height = legendTop + Double(legendRows.count) * Self.legendRowHeight + 8
  }

  // MARK: - Mapping

  static func x(_ days: Double, _ axis: TimeAxis, _ left: Double, _ width: Double) -> Double {
    left + (axis.fraction(days: days) ?? 0) * width
  }

  func x(days: Double) -> Double { Self.x(days, timeAxis, plotLeft, plotWidth) }
  func xWeeks(_ weeks: Double) -> Double { x(days: weeks * 7) }
  /// The y of a value, clipped to the plot area; `nil` for not-a-number.
  func y(_ value: Double) -> Double? { valueAxis.fraction(value).map { plotBottom - $0 * chart.plotHeight } }

  static func truncated(_ text: String, fontSize: Double, maxWidth: Double) -> String {
    guard TextMetrics.width(text, fontSize: fontSize) > maxWidth else { return text }
    var t = text
    while !t.isEmpty && TextMetrics.width(t + "…", fontSize: fontSize) > maxWidth { t.removeLast() }
    return t + "…"
  }

  var description: String {
    let names = series.map(\.label).joined(separator: "; ")
    let doses = series.map { "\($0.doses.count)" }.joined(separator: ", ")
    return "Concentration (mg/L) against time (weeks) for: \(names). Doses marked: \(doses)."
      + (valueAxis.isLog ? " Logarithmic concentration axis." : "")
  }

  // MARK: - Drawing

  func drawTitle(_ w: inout SVGWriter) {
    guard !options.title.isEmpty else { return }
    let title = Self.truncated(options.title, fontSize: 17, maxWidth: width - 32)
    w.element("text", [("class", "title"), ("x", SVGWriter.number(width / 2)), ("y", "26"), ("text-anchor", "middle"), ("font-size", "17"), ("font-weight", "bold"), ("fill", ChartPalette.ink)], content: title)
    let subtitle = hasBands
      ? "Cohort median" + (series.count > 1 ? "s" : "") + " with 25–75 % and 5–95 % bands"
      : (series.count > 1 ? "Typical patient, \(series.count) regimens" : "Typical patient")
    w.element("text", [("class", "subtitle"), ("x", SVGWriter.number(width / 2)), ("y", "44"), ("text-anchor", "middle"), ("font-size", "12"), ("fill", ChartPalette.mutedInk)], content: subtitle)
  }

  func drawPlotArea(_ w: inout SVGWriter) {
    w.element("rect", [("class", "plot-area"), ("x", SVGWriter.number(plotLeft)), ("y", SVGWriter.number(plotTop)), ("width", SVGWriter.number(plotWidth)), ("height", SVGWriter.number(chart.plotHeight)), ("fill", "#FFFFFF"), ("stroke", "none")])
    // Grid: horizontal at value ticks, vertical at week ticks (through the dose strip too).
    w.open("g", [("class", "grid"), ("stroke", ChartPalette.grid), ("stroke-width", "1")])
    for t in valueAxis.ticks {
      guard let y = y(t) else { continue }
      w.element("line", [("x1", SVGWriter.number(plotLeft)), ("y1", SVGWriter.number(y)), ("x2", SVGWriter.number(plotRight)), ("y2", SVGWriter.number(y))])
    }
    if valueAxis.isLog && valueAxis.upper / valueAxis.lower <= 1e3 * (1 + 1e-9) {
      // Minor lines at 2…9 × each decade, fainter (only when there are few decades).
      var decade = valueAxis.lower
      while decade < valueAxis.upper {
        for m in 2...9 {
          let v = Double(m) * decade
          guard v < valueAxis.upper, !valueAxis.ticks.contains(v), let y = y(v) else { continue }
          w.element("line", [("x1", SVGWriter.number(plotLeft)), ("y1", SVGWriter.number(y)), ("x2", SVGWriter.number(plotRight)), ("y2", SVGWriter.number(y)), ("stroke-opacity", "0.45")])
        }
        decade *= 10
      }
    }
    for t in timeAxis.ticks {
      let x = xWeeks(t)
      w.element("line", [("x1", SVGWriter.number(x)), ("y1", SVGWriter.number(plotTop)), ("x2", SVGWriter.number(x)), ("y2", SVGWriter.number(stripBottom))])
    }
    w.close("g")
  }

  func drawBands(_ w: inout SVGWriter) {
    for (i, s) in series.enumerated() {
      guard let b = s.bands else { continue }
      let n = [s.times.count, b.p05.count, b.p25.count, b.p75.count, b.p95.count].min() ?? 0
      guard n >= 2 else { continue }
      let xs = s.times.prefix(n).map { x(days: $0) }
      let color = ChartPalette.style(i).color
      for (name, lower, upper, opacity) in [("band outer", b.p05, b.p95, "0.16"), ("band inner", b.p25, b.p75, "0.3")] {
        // Where even the upper edge is under a log axis, the band stops.
        let upperYs = curveYs(Array(upper.prefix(n)), times: Array(s.times.prefix(n)))
        let lowerYs = (0..<n).map { k in upperYs[k] == nil ? nil : y(lower[k]) }
        let d = ChartPaths.band(x: xs, lower: lowerYs, upper: upperYs)
        guard !d.isEmpty else { continue }
        w.element("path", [("class", name), ("d", d), ("fill", color), ("fill-opacity", opacity), ("stroke", "none")])
      }
    }
  }

  func drawReferences(_ w: inout SVGWriter) {
    for (value, name, color, dash) in [(options.lloq, "reference lloq", ChartPalette.lloq, "6 4"), (options.threshold, "reference threshold", ChartPalette.threshold, "10 4 2 4")] {
      guard let v = value, v.isFinite, v > 0, let y = y(v) else { continue }
      w.element("line", [("class", name), ("x1", SVGWriter.number(plotLeft)), ("y1", SVGWriter.number(y)), ("x2", SVGWriter.number(plotRight)), ("y2", SVGWriter.number(y)), ("stroke", color), ("stroke-width", "1.5"), ("stroke-dasharray", dash)])
    }
  }

  /// The y of each value of a curve, `nil` for gaps. Values under a log axis (zero, negative or
  /// just small) leave the picture through the bottom edge: the point next to a visible one is
  /// drawn on the edge, the others are left out, so nothing runs along the axis as if measured.
  func curveYs(_ values: [Double], times: [Double]) -> [Double?] {
    let raw: [Double?] = values.indices.map { k in times[k].isFinite ? y(values[k]) : nil }
    guard valueAxis.isLog else { return raw }
    let below = values.map { !($0 >= valueAxis.lower) && !$0.isNaN }
    return raw.indices.map { k in
      guard below[k] else { return raw[k] }
      let previousVisible = k > 0 && raw[k - 1] != nil && !below[k - 1]
      let nextVisible = k + 1 < raw.count && raw[k + 1] != nil && !below[k + 1]
      return previousVisible || nextVisible ? raw[k] : nil
    }
  }

  func drawSeries(_ w: inout SVGWriter) {
    for (i, s) in series.enumerated() {
      let n = Swift.min(s.times.count, s.center.count)
      let ys = curveYs(Array(s.center.prefix(n)), times: Array(s.times.prefix(n)))
      let points = (0..<n).map { k in (x: x(days: s.times[k]), y: ys[k]) }
      let style = ChartPalette.style(i)
      var attributes: [(String, String)] = [("class", "series"), ("d", ChartPaths.line(points)), ("fill", "none"), ("stroke", style.color), ("stroke-width", series.count > 4 ? "1.8" : "2.2"), ("stroke-linejoin", "round"), ("stroke-linecap", "round")]
      if let dash = style.dash { attributes.append(("stroke-dasharray", dash)) }
      if style.color == "#F0E442" {
        // Yellow is faint on white: a thin dark casing underneath keeps it visible.
        var casing = attributes
        casing[0] = ("class", "series-casing")
        casing[3] = ("stroke", "#6B6400")
        casing[4] = ("stroke-width", series.count > 4 ? "3" : "3.4")
        w.element("path", casing)
      }
      w.element("path", attributes)
    }
  }

  func drawTroughs(_ w: inout SVGWriter) {
    for (i, s) in series.enumerated() {
      guard let t = s.steadyStateTrough, t.isFinite, let y = y(t) else { continue }
      w.element("line", [("class", "trough"), ("x1", SVGWriter.number(plotLeft + 0.82 * plotWidth)), ("y1", SVGWriter.number(y)), ("x2", SVGWriter.number(plotRight)), ("y2", SVGWriter.number(y)), ("stroke", ChartPalette.style(i).color), ("stroke-width", "1.5"), ("stroke-dasharray", "1.5 3"), ("stroke-linecap", "round")])
      w.element("circle", [("class", "trough"), ("cx", SVGWriter.number(plotRight)), ("cy", SVGWriter.number(y)), ("r", "3"), ("fill", "#FFFFFF"), ("stroke", ChartPalette.style(i).color), ("stroke-width", "1.5")])
    }
  }

  func drawAxes(_ w: inout SVGWriter) {
    let ink = ChartPalette.ink
    // y axis: line, ticks, labels, title.
    w.open("g", [("class", "axis y"), ("fill", ink), ("font-size", SVGWriter.number(Self.tickFont))])
    w.element("line", [("x1", SVGWriter.number(plotLeft)), ("y1", SVGWriter.number(plotTop)), ("x2", SVGWriter.number(plotLeft)), ("y2", SVGWriter.number(plotBottom)), ("stroke", ink), ("stroke-width", "1")])
    for t in valueAxis.ticks {
      guard let y = y(t) else { continue }
      w.element("line", [("class", "tick"), ("x1", SVGWriter.number(plotLeft - 5)), ("y1", SVGWriter.number(y)), ("x2", SVGWriter.number(plotLeft)), ("y2", SVGWriter.number(y)), ("stroke", ink)])
      w.element("text", [("x", SVGWriter.number(plotLeft - 8)), ("y", SVGWriter.number(y + 4)), ("text-anchor", "end")], content: valueAxis.label(t))
    }
    let yTitle = options.yLabel + (valueAxis.isLog ? " — log scale" : "")
    let middle = (plotTop + plotBottom) / 2
    w.element("text", [("class", "axis-title"), ("x", "0"), ("y", "0"), ("transform", "translate(18 \(SVGWriter.number(middle))) rotate(-90)"), ("text-anchor", "middle"), ("font-size", "12")], content: yTitle)
    w.close("g")

    // x axis: line at the plot's bottom, ticks, day ticks for short spans, labels under the dose strip.
    w.open("g", [("class", "axis x"), ("fill", ink), ("font-size", SVGWriter.number(Self.tickFont))])
    w.element("line", [("x1", SVGWriter.number(plotLeft)), ("y1", SVGWriter.number(plotBottom)), ("x2", SVGWriter.number(plotRight)), ("y2", SVGWriter.number(plotBottom)), ("stroke", ink), ("stroke-width", "1")])
    if timeAxis.showsDayTicks {
      var day = (timeAxis.lowerWeeks * 7).rounded(.up)
      while day <= timeAxis.upperWeeks * 7 + 1e-9 {
        let x = x(days: day)
        w.element("line", [("class", "tick day"), ("x1", SVGWriter.number(x)), ("y1", SVGWriter.number(plotBottom - 4)), ("x2", SVGWriter.number(x)), ("y2", SVGWriter.number(plotBottom)), ("stroke", ink)])
        day += 1
      }
    }
    var lastRight = -Double.infinity
    for t in timeAxis.ticks {
      let x = xWeeks(t)
      w.element("line", [("class", "tick"), ("x1", SVGWriter.number(x)), ("y1", SVGWriter.number(plotBottom - 6)), ("x2", SVGWriter.number(x)), ("y2", SVGWriter.number(plotBottom)), ("stroke", ink)])
      let text = timeAxis.label(t)
      let half = TextMetrics.width(text, fontSize: Self.tickFont) / 2
      guard x - half > lastRight + 4 else { continue }
      lastRight = x + half
      w.element("text", [("x", SVGWriter.number(x)), ("y", SVGWriter.number(stripBottom + 14)), ("text-anchor", "middle")], content: text)
    }
    let xTitle = timeAxis.title + (timeAxis.showsDayTicks ? "; small ticks mark days" : "")
    w.element("text", [("class", "axis-title"), ("x", SVGWriter.number((plotLeft + plotRight) / 2)), ("y", SVGWriter.number(stripBottom + 32)), ("text-anchor", "middle"), ("font-size", "12")], content: xTitle)
    w.close("g")
  }

  func drawDoses(_ w: inout SVGWriter) {
    w.open("g", [("class", "doses")])
    for (i, groups) in doseGroups.enumerated() {
      let top = doseRowTops[i]
      let style = ChartPalette.style(i)
      // Row caption in the left margin.
      let captionY = top + 12
      if series.count > 1 {
        var a: [(String, String)] = [("class", "dose-row-key"), ("x1", SVGWriter.number(plotLeft - 24)), ("y1", SVGWriter.number(captionY - 3)), ("x2", SVGWriter.number(plotLeft - 8)), ("y2", SVGWriter.number(captionY - 3)), ("stroke", style.color), ("stroke-width", "2.5")]
        if let dash = style.dash { a.append(("stroke-dasharray", dash)) }
        w.element("line", a)
        if i == 0 {
          w.element("text", [("class", "dose-caption"), ("x", SVGWriter.number(plotLeft - 28)), ("y", SVGWriter.number(captionY)), ("text-anchor", "end"), ("font-size", "10"), ("fill", ChartPalette.mutedInk)], content: "doses")
        }
      } else {
        w.element("text", [("class", "dose-caption"), ("x", SVGWriter.number(plotLeft - 8)), ("y", SVGWriter.number(captionY)), ("text-anchor", "end"), ("font-size", "10"), ("fill", ChartPalette.mutedInk)], content: "doses")
      }
      guard !groups.isEmpty else { continue }
      let xs = groups.map { x(days: $0.time) }
      var spacing = plotWidth
      for k in 1..<Swift.max(xs.count, 1) { spacing = Swift.min(spacing, xs[k] - xs[k - 1]) }
      let halfWidth = Swift.min(Swift.max(spacing * 0.42, 0.6), 4.5)
      let outlined = halfWidth >= 2.5 || style.color == "#F0E442"
      for (g, group) in groups.enumerated() {
        let loading = group.isLoading
        let half = loading ? Swift.max(halfWidth * 1.45, Swift.min(6.5, halfWidth + 2.5)) : halfWidth
        let height = loading ? 12.0 : 9.0
        let count = group.doses.count
        for (k, dose) in group.doses.enumerated() {
          // Doses at the same time sit side by side.
          let cx = xs[g] + (Double(k) - Double(count - 1) / 2) * Swift.min(half * 1.3, 8 / Double(count))
          let d = "M" + SVGWriter.number(cx) + " " + SVGWriter.number(top + 1) + "L" + SVGWriter.number(cx + half) + " " + SVGWriter.number(top + 1 + height) + "L" + SVGWriter.number(cx - half) + " " + SVGWriter.number(top + 1 + height) + "Z"
          var a: [(String, String)] = [("class", loading ? "dose loading" : "dose"), ("d", d), ("fill", style.color)]
          if loading || outlined { a += [("stroke", loading ? ChartPalette.ink : "#00000066"), ("stroke-width", loading ? "1.2" : "0.6")] }
          w.open("path", a)
          w.element("title", [], content: "\(DoseGroup.amountText(dose.amount)) mg \(dose.route == .iv ? "IV" : "SC") at day \(AxisTicks.readable(dose.time)) (week \(AxisTicks.readable(dose.time / 7)))")
          w.close("path")
        }
      }
      for label in doseRowPlans[i].labels {
        let baseline = top + Self.markerZone + 8.5 + Double(label.line) * Self.labelLine
        var a: [(String, String)] = [("class", "dose-label"), ("x", SVGWriter.number(label.left)), ("y", SVGWriter.number(baseline)), ("font-size", SVGWriter.number(Self.labelFont)), ("fill", ChartPalette.ink)]
        if label.bold { a.append(("font-weight", "bold")) }
        w.element("text", a, content: label.text)
      }
    }
    w.close("g")
  }

  func drawRightLabels(_ w: inout SVGWriter) {
    guard !rightLabels.isEmpty else { return }
    w.open("g", [("class", "reference-labels"), ("font-size", SVGWriter.number(Self.tickFont))])
    for l in rightLabels {
      if Swift.abs(l.y - l.target) > 1 {
        w.element("line", [("x1", SVGWriter.number(plotRight)), ("y1", SVGWriter.number(l.target)), ("x2", SVGWriter.number(plotRight + 5)), ("y2", SVGWriter.number(l.y - 4)), ("stroke", l.color), ("stroke-width", "0.8")])
      }
      w.element("text", [("x", SVGWriter.number(plotRight + 7)), ("y", SVGWriter.number(l.y)), ("fill", l.color)], content: l.text)
    }
    w.close("g")
  }

  func drawLegend(_ w: inout SVGWriter) {
    w.open("g", [("class", "legend"), ("font-size", SVGWriter.number(Self.legendFont)), ("fill", ChartPalette.ink)])
    for (r, row) in legendRows.enumerated() {
      let cy = legendTop + Double(r) * Self.legendRowHeight + 6
      for e in row {
        let sx = e.x
        let ex = sx + LegendEntry.sampleWidth - 6
        switch e.kind {
        case .series(let i):
          let style = ChartPalette.style(i)
          if series[i].bands != nil {
            w.element("rect", [("x", SVGWriter.number(sx)), ("y", SVGWriter.number(cy - 6)), ("width", SVGWriter.number(ex - sx)), ("height", "12"), ("fill", style.color), ("fill-opacity", "0.16")])
          }
          var a: [(String, String)] = [("x1", SVGWriter.number(sx)), ("y1", SVGWriter.number(cy)), ("x2", SVGWriter.number(ex)), ("y2", SVGWriter.number(cy)), ("stroke", style.color), ("stroke-width", "2.5")]
          if let dash = style.dash { a.append(("stroke-dasharray", dash)) }
          if style.color == "#F0E442" {
            var casing = a
            casing[4] = ("stroke", "#6B6400")
            casing[5] = ("stroke-width", "3.8")
            w.element("line", casing)
          }
          w.element("line", a)
        case .bands:
          w.element("rect", [("x", SVGWriter.number(sx)), ("y", SVGWriter.number(cy - 7)), ("width", SVGWriter.number(ex - sx)), ("height", "14"), ("fill", ChartPalette.mutedInk), ("fill-opacity", "0.16")])
          w.element("rect", [("x", SVGWriter.number(sx)), ("y", SVGWriter.number(cy - 3.5)), ("width", SVGWriter.number(ex - sx)), ("height", "7"), ("fill", ChartPalette.mutedInk), ("fill-opacity", "0.3")])
        case .dose, .loading:
          let half = e.kind == .loading ? 6.0 : 4.0
          let h = e.kind == .loading ? 12.0 : 9.0
          let mx = (sx + ex) / 2
          let d = "M\(SVGWriter.number(mx)) \(SVGWriter.number(cy - h / 2))L\(SVGWriter.number(mx + half)) \(SVGWriter.number(cy + h / 2))L\(SVGWriter.number(mx - half)) \(SVGWriter.number(cy + h / 2))Z"
          var a: [(String, String)] = [("d", d), ("fill", ChartPalette.mutedInk)]
          if e.kind == .loading { a += [("stroke", ChartPalette.ink), ("stroke-width", "1.2")] }
          w.element("path", a)
        case .trough:
          w.element("line", [("x1", SVGWriter.number(sx)), ("y1", SVGWriter.number(cy)), ("x2", SVGWriter.number(ex)), ("y2", SVGWriter.number(cy)), ("stroke", ChartPalette.mutedInk), ("stroke-width", "1.5"), ("stroke-dasharray", "1.5 3"), ("stroke-linecap", "round")])
          w.element("circle", [("cx", SVGWriter.number(ex - 3)), ("cy", SVGWriter.number(cy)), ("r", "3"), ("fill", "#FFFFFF"), ("stroke", ChartPalette.mutedInk), ("stroke-width", "1.5")])
        case .lloq:
          w.element("line", [("x1", SVGWriter.number(sx)), ("y1", SVGWriter.number(cy)), ("x2", SVGWriter.number(ex)), ("y2", SVGWriter.number(cy)), ("stroke", ChartPalette.lloq), ("stroke-width", "1.5"), ("stroke-dasharray", "6 4")])
        case .threshold:
          w.element("line", [("x1", SVGWriter.number(sx)), ("y1", SVGWriter.number(cy)), ("x2", SVGWriter.number(ex)), ("y2", SVGWriter.number(cy)), ("stroke", ChartPalette.threshold), ("stroke-width", "1.5"), ("stroke-dasharray", "10 4 2 4")])
        }
        w.element("text", [("x", SVGWriter.number(sx + LegendEntry.sampleWidth)), ("y", SVGWriter.number(cy + 4))], content: e.text)
      }
    }
    w.close("g")
  }
}

/// One legend item: a sample (line, band, marker) and its text.
struct LegendEntry {
  enum Kind: Equatable { case series(Int), bands, dose, loading, trough, lloq, threshold }
  var kind: Kind
  var text: String
  var x = 0.0
  static let sampleWidth = 36.0
  var width: Double { Self.sampleWidth + TextMetrics.width(text, fontSize: SVGChartLayout.legendFont) }
  var isSeries: Bool { if case .series = kind { return true } else { return false } }
}

/// A label in the right-hand gutter (LLOQ, threshold, trough) at the height of its line.
struct RightLabel {
  var target: Double
  var y: Double
  var text: String
  var color: String

  /// Baselines near their targets, at least `gap` apart, within `top…bottom`.
  static func spread(_ labels: [RightLabel], top: Double, bottom: Double, gap: Double) -> [RightLabel] {
    var out = labels.sorted { $0.target < $1.target }
    for i in out.indices {
      let wanted = out[i].target + 4
      out[i].y = i == 0 ? Swift.max(wanted, top) : Swift.max(wanted, out[i - 1].y + gap)
    }
    for i in out.indices.reversed() {
      let limit = i == out.count - 1 ? bottom : out[i + 1].y - gap
      out[i].y = Swift.min(out[i].y, limit)
    }
    return out
  }
}
