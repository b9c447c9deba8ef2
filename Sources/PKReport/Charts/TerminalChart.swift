/// A quick chart for the terminal in Unicode braille (2×4 dots per character): the curves (a
/// single cohort also gets its 5 % and 95 % lines, dotted), the LLOQ and threshold as dotted
/// lines, a row of dose marks per regimen under the time axis (▲ loading dose, ╹ other doses),
/// week labels and a legend. Every line fits in `width` columns; colours (ANSI 256) only when
/// asked.
public struct TerminalChart: Sendable {
  public var series: [ChartSeries]
  public var options: ChartOptions
  public var width: Int
  /// Rows of braille for the plot.
  public var height: Int
  public var useColor: Bool

  public init(series: [ChartSeries], options: ChartOptions, width: Int = 80, height: Int = 14, useColor: Bool = false) {
    self.series = series
    self.options = options
    self.width = Swift.max(width, 30)
    self.height = Swift.max(height, 4)
    self.useColor = useColor
  }

  static let loadingMark: Character = "▲"
  static let doseMark: Character = "╹"

  public func render() -> String {
    let valueAxis = ValueAxis.fit(series, options: options, tickCount: Swift.max(2, height / 3))
    let timeAxis = TimeAxis.fit(series, tickCount: Swift.max(2, width / 12))
    let tickLabels = valueAxis.ticks.map { valueAxis.label($0) }
    let gutter = Swift.max(tickLabels.map(\.count).max() ?? 1, 5)
    let columns = width - gutter - 2
    var canvas = BrailleCanvas(columns: columns, rows: height)

    func dotX(_ days: Double) -> Int { Int(((timeAxis.fraction(days: days) ?? 0) * Double(canvas.dotWidth - 1)).rounded()) }
    func dotY(_ value: Double) -> Int? { valueAxis.fraction(value).map { Int(((1 - $0) * Double(canvas.dotHeight - 1)).rounded()) } }

    // Reference lines, sparse dots (drawn first: curves win the cell colour).
    for v in [options.lloq, options.threshold].compactMap({ $0 }) where v.isFinite && v > 0 {
      guard let y = dotY(v) else { continue }
      for x in stride(from: 0, to: canvas.dotWidth, by: 3) { canvas.set(x, y, color: nil) }
    }
    for (i, s) in series.enumerated() {
      let color = useColor ? ChartPalette.style(i).terminalColor : nil
      let n = Swift.min(s.times.count, s.center.count)
      if let b = s.bands, series.count == 1 {
        for edge in [b.p05, b.p95] {
          for k in 0..<Swift.min(n, edge.count) where k % 2 == 0 {
            if let y = dotY(edge[k]) { canvas.set(dotX(s.times[k]), y, color: color) }
          }
        }
      }
      var previous: (Int, Int)? = nil
      for k in 0..<n {
        guard let y = dotY(s.center[k]), s.times[k].isFinite else { previous = nil; continue }
        let x = dotX(s.times[k])
        if let p = previous { canvas.line(from: p, to: (x, y), color: color) } else { canvas.set(x, y, color: color) }
        previous = (x, y)
      }
    }

    var out = ""
    let title = options.title.isEmpty ? "Concentration (mg/L)" : options.title
    out += Self.fit(title + (valueAxis.isLog ? " (log scale)" : ""), width) + "\n"
    out += Self.fit(String(repeating: " ", count: gutter - 1) + "mg/L", width) + "\n"
    // Tick labels on the rows they fall on.
    var rowLabels = [String?](repeating: nil, count: height)
    for (t, text) in zip(valueAxis.ticks, tickLabels) {
      guard let y = dotY(t) else { continue }
      let row = Swift.min(height - 1, y / 4)
      if rowLabels[row] == nil { rowLabels[row] = text }
    }
    for row in 0..<height {
      let label = rowLabels[row] ?? ""
      out += String(repeating: " ", count: gutter - label.count) + label + " " + (rowLabels[row] == nil ? "│" : "┤")
      out += canvas.render(row: row, useColor: useColor) + "\n"
    }
    // Time axis with ticks.
    var axis = [Character](repeating: "─", count: columns)
    var labelLine = [Character](repeating: " ", count: columns + 8)
    var lastEnd = -2
    for t in timeAxis.ticks {
      let c = Swift.min(columns - 1, dotX(t * 7) / 2)
      axis[c] = "┬"
      let text = Array(timeAxis.label(t))
      let start = Swift.max(0, Swift.min(c - text.count / 2, columns - text.count))
      guard start > lastEnd + 1 else { continue }
      for (k, ch) in text.enumerated() where start + k < labelLine.count { labelLine[start + k] = ch }
      lastEnd = start + text.count - 1
    }
    out += String(repeating: " ", count: gutter + 1) + "└" + String(axis) + "\n"
    // Dose marks, one row per regimen.
    for (i, s) in series.enumerated() {
      var marks = [Character](repeating: " ", count: columns)
      for g in DoseGroup.groups(s.doses) {
        let c = Swift.min(columns - 1, dotX(g.time) / 2)
        if marks[c] != Self.loadingMark { marks[c] = g.isLoading ? Self.loadingMark : Self.doseMark }
      }
      let caption = series.count > 1 ? "#\(i + 1)" : "doses"
      out += String(repeating: " ", count: gutter - caption.count) + caption + "  " + paint(String(marks), i) + "\n"
    }
    let unit = timeAxis.style == .weeks ? "weeks" : "time"
    out += Self.fit(String(repeating: " ", count: gutter - unit.count) + unit + "  " + String(labelLine).trimmingTrailingSpaces(), width) + "\n"
    // Legend.
    for (i, s) in series.enumerated() {
      let key = series.count > 1 ? "#\(i + 1) " : ""
      var text = " " + key + s.label
      if s.bands != nil { text += series.count == 1 ? " (median, dots 5–95 %)" : " (median)" }
      if let t = s.steadyStateTrough, t.isFinite { text += "; trough " + AxisTicks.readable(t) + " mg/L" }
      out += paint("━━", i) + Self.fit(text, width - 2) + "\n"
      out += Self.fit("   doses: " + Self.runs(DoseGroup.groups(s.doses)), width) + "\n"
    }
    var references: [String] = []
    if let v = options.lloq, v.isFinite, v > 0 { references.append("LLOQ " + AxisTicks.readable(v)) }
    if let v = options.threshold, v.isFinite, v > 0 { references.append("threshold " + AxisTicks.readable(v)) }
    if !references.isEmpty { out += Self.fit("⠉⠉ " + references.joined(separator: ", ") + " mg/L (dotted)", width) + "\n" }
    return out
  }

  /// Doses as runs: "600 mg, 300 mg ×25".
  static func runs(_ groups: [DoseGroup]) -> String {
    guard !groups.isEmpty else { return "none" }
    var parts: [String] = []
    var i = 0
    while i < groups.count {
      var j = i
      while j + 1 < groups.count && groups[j + 1].text == groups[i].text && !groups[i].isLoading { j += 1 }
      let n = j - i + 1
      parts.append(groups[i].text + (n > 1 ? " ×\(n)" : "") + (groups[i].isLoading ? " (loading)" : ""))
      i = j + 1
    }
    return parts.joined(separator: ", ")
  }

  func paint(_ text: String, _ index: Int) -> String {
    guard useColor, let c = ChartPalette.style(index).terminalColor else { return text }
    return "\u{1B}[38;5;\(c)m" + text + "\u{1B}[0m"
  }

  /// `text` cut to `width` characters (with "…").
  static func fit(_ text: String, _ width: Int) -> String {
    guard text.count > width else { return text }
    return String(text.prefix(Swift.max(width - 1, 0))) + "…"
  }
}

/// Braille dots on a grid of characters, with a colour per character (the last drawn wins).
struct BrailleCanvas {
  let columns: Int
  let rows: Int
  private var bits: [UInt8]
  private var colors: [Int?]
  var dotWidth: Int { columns * 2 }
  var dotHeight: Int { rows * 4 }

  init(columns: Int, rows: Int) {
    self.columns = Swift.max(columns, 1)
    self.rows = Swift.max(rows, 1)
    bits = [UInt8](repeating: 0, count: self.columns * self.rows)
    colors = [Int?](repeating: nil, count: self.columns * self.rows)
  }

  static let dotBits: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]

  mutating func set(_ x: Int, _ y: Int, color: Int?) {
    guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
    let cell = (y / 4) * columns + x / 2
    bits[cell] |= Self.dotBits[y % 4][x % 2]
    if color != nil { colors[cell] = color }
  }

  /// Bresenham's line.
  mutating func line(from a: (Int, Int), to b: (Int, Int), color: Int?) {
    var (x0, y0) = a
    let (x1, y1) = b
    let dx = Swift.abs(x1 - x0), sx = x0 < x1 ? 1 : -1
    let dy = -Swift.abs(y1 - y0), sy = y0 < y1 ? 1 : -1
    var err = dx + dy
    while true {
      set(x0, y0, color: color)
      if x0 == x1 && y0 == y1 { break }
      let e2 = 2 * err
      if e2 >= dy { err += dy; x0 += sx }
      if e2 <= dx { err += dx; y0 += sy }
    }
  }

  func render(row: Int, useColor: Bool) -> String {
    var out = ""
    var current: Int? = nil
    for c in 0..<columns {
      let cell = row * columns + c
      let b = bits[cell]
      let ch: Character = b == 0 ? " " : (Unicode.Scalar(0x2800 + UInt32(b)).map(Character.init) ?? " ")
      if useColor {
        let wanted = b == 0 ? nil : colors[cell]
        if wanted != current {
          out += wanted.map { "\u{1B}[38;5;\($0)m" } ?? "\u{1B}[0m"
          current = wanted
        }
      }
      out.append(ch)
    }
    if useColor && current != nil { out += "\u{1B}[0m" }
    return out
  }
}

extension String {
  func trimmingTrailingSpaces() -> String {
    var s = self
    while s.last == " " { s.removeLast() }
    return s
  }
}
