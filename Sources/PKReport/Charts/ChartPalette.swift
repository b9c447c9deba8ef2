/// Colours and line styles for chart series: the Okabe–Ito palette, which stays distinguishable
/// for the common forms of colour blindness, ordered so the strongest contrasts on white come
/// first. Series 5 to 8 also get dash patterns, so they stay apart in greyscale print too.
public enum ChartPalette {
  /// One series' look.
  public struct Style: Sendable, Equatable {
    /// `#RRGGBB`.
    public var color: String
    /// An SVG `stroke-dasharray`, or `nil` for a solid line.
    public var dash: String?
    /// ANSI 256-colour index closest to `color`, or `nil` for the terminal's own foreground.
    public var terminalColor: Int?
  }

  /// The eight Okabe–Ito colours: blue, vermillion, bluish green, reddish purple, orange, sky
  /// blue, black, yellow.
  public static let styles: [Style] = [
    Style(color: "#0072B2", dash: nil, terminalColor: 32),
    Style(color: "#D55E00", dash: nil, terminalColor: 166),
    Style(color: "#009E73", dash: nil, terminalColor: 36),
    Style(color: "#CC79A7", dash: nil, terminalColor: 175),
    Style(color: "#E69F00", dash: "8 3", terminalColor: 214),
    Style(color: "#56B4E9", dash: "2 2.5", terminalColor: 74),
    Style(color: "#000000", dash: "9 3 2 3", terminalColor: nil),
    Style(color: "#F0E442", dash: "5 2 1.5 2", terminalColor: 185),
  ]

  /// The style of series `index` (wrapping after eight).
  public static func style(_ index: Int) -> Style { styles[((index % styles.count) + styles.count) % styles.count] }

  /// Ink for axes, text and reference lines.
  static let ink = "#222222"
  static let grid = "#E4E4E4"
  static let mutedInk = "#555555"
  /// Reference line colours: LLOQ grey, threshold dark red (neither is a series colour).
  static let lloq = "#7A7A7A"
  static let threshold = "#8B1A1A"
}
