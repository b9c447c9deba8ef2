/// A tiny SVG text builder: escaped text and attributes, coordinates with two decimals.
struct SVGWriter {
  private(set) var text = ""

  init() { text.reserveCapacity(1 << 15) }

  mutating func raw(_ s: String) { text += s }

  /// `<name a="v" …/>` (or with content when `content` is given; content is escaped).
  mutating func element(_ name: String, _ attributes: [(String, String)], content: String? = nil) {
    text += "<" + name
    for (key, value) in attributes {
      text += " " + key + "=\"" + Self.escape(value) + "\""
    }
    if let content {
      text += ">" + Self.escape(content) + "</" + name + ">\n"
    } else {
      text += "/>\n"
    }
  }

  mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
    text += "<" + name
    for (key, value) in attributes { text += " " + key + "=\"" + Self.escape(value) + "\"" }
    text += ">\n"
  }

  mutating func close(_ name: String) { text += "</" + name + ">\n" }

  /// Escapes `&`, `<`, `>`, `"` and `'` for text and attribute values, and drops control
  /// characters XML does not allow.
  static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for scalar in s.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      case "\t", "\n", "\r": out += " "
      default:
        if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) || (0xD800...0xDFFF).contains(scalar.value) { continue }
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// A coordinate with at most two decimals ("12", "12.5", "-3.25"); never "nan" or "inf"
  /// (callers clip first; a non-finite value here becomes 0).
  static func number(_ v: Double) -> String {
    guard v.isFinite, Swift.abs(v) < 1e12 else { return "0" }
    let hundredths = Int64((v * 100).rounded())
    if hundredths == 0 { return "0" }
    let sign = hundredths < 0 ? "-" : ""
    let a = hundredths.magnitude
    let whole = a / 100
    let fraction = a % 100
    if fraction == 0 { return sign + String(whole) }
    if fraction % 10 == 0 { return sign + String(whole) + "." + String(fraction / 10) }
    return sign + String(whole) + "." + (fraction < 10 ? "0" : "") + String(fraction)
  }
}

/// An estimate of how wide a text is in pixels for a sans-serif font (no font metrics offline):
/// narrow letters count less, wide ones more.
enum TextMetrics {
  static func width(_ s: String, fontSize: Double, bold: Bool = false) -> Double {
    var units = 0.0
    for c in s {
      switch c {
      case "i", "l", "j", "'", "|", ".", ",", ":", ";", "!", "I", "f", "t", "r", " ": units += 0.34
      case "m", "w", "M", "W", "%", "@": units += 0.9
      case "0"..."9": units += 0.64
      default: units += c.isUppercase ? 0.7 : 0.58
      }
    }
    return units * fontSize * (bold ? 1.08 : 1)
  }
}
