/// Dosing intervals and durations written as text: `qw`, `q2w`, `q4w`, `qNw`, `qNd`, `N`, `Nd`, `Nw`
/// (N > 0; a bare number is days). DESIGN §6.
public enum IntervalText {
  /// Days in an interval such as `q2w`, `14`, `14d` or `2w`; `nil` if the text is not one.
  public static func days(_ text: String) -> Double? {
    var s = Substring(text.lowercased())
    if s.hasPrefix("q") {
      s = s.dropFirst()
      if s == "w" { return 7 }
      if s == "d" { return 1 }
    }
    return duration(s)
  }

  /// Days in a duration such as `16w`, `112d` or `112`; `nil` if the text is not one.
  public static func duration<S: StringProtocol>(_ text: S) -> Double? {
    var s = Substring(text.lowercased())
    var scale = 1.0
    if s.hasSuffix("w") { scale = 7; s = s.dropLast() }
    else if s.hasSuffix("d") { s = s.dropLast() }
    guard let value = parseNumber(s), value > 0 else { return nil }
    let days = value * scale
    return days.isFinite ? days : nil
  }

  /// A plain decimal number (digits, one optional point, optional exponent); no signs, no
  /// `inf`/`nan`/hex spellings that `Double(_:)` would also accept.
  public static func parseNumber<S: StringProtocol>(_ text: S) -> Double? {
    guard !text.isEmpty,
      text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" || $0 == "+") }),
      let first = text.first, first.isNumber || first == "."
    else { return nil }
    guard let v = Double(String(text)), v.isFinite else { return nil }
    return v
  }
}
