import PKCore

/// CSV output (DESIGN §6 "CSV"): header row, commas, LF line ends, numbers as the shortest
/// round-tripping decimal, text fields quoted per RFC 4180 when needed.
public struct CSVBuilder {
  public private(set) var text: String

  public init(header: [String]) {
    text = ""
    text.reserveCapacity(1 << 16)
    appendRow(header.map(Self.field))
  }

  /// Quotes a text field if it holds a comma, quote, CR or LF (RFC 4180 §2.6–2.7).
  public static func field(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  public mutating func appendRow(_ fields: [String]) {
    var first = true
    for f in fields {
      if !first { text.append(",") }
      text.append(f)
      first = false
    }
    text.append("\n")
  }

  /// Appends a raw, already formatted line (without its LF).
  public mutating func appendLine(_ line: String) {
    text.append(line)
    text.append("\n")
  }
}

extension String {
  func replacingOccurrences(of target: String, with replacement: String) -> String {
    var out = ""
    var rest = Substring(self)
    while let range = rest.range(of: target) {
      out += rest[..<range.lowerBound]
      out += replacement
      rest = rest[range.upperBound...]
    }
    return out + rest
  }
}

/// A CSV cell as a finite decimal number: optional sign, digits, one optional point, optional
/// exponent. `nil` for anything else, including the `nan`, `inf`, hex (`0x10`), out-of-range
/// (`1e400`) and NUL-terminated (`"600\0"`) spellings that `Double(_:)` would accept.
public func csvNumber<S: StringProtocol>(_ text: S) -> Double? {
  guard !text.isEmpty,
    text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2B || $0 == 0x2D || $0 == 0x65 || $0 == 0x45 }),
    let v = Double(String(text)), v.isFinite
  else { return nil }
  return v
}

/// Splits one CSV line into fields, honouring RFC 4180 quotes.
public func csvFields<S: StringProtocol>(_ line: S) -> [String] {
  var fields: [String] = []
  var current = ""
  var quoted = false
  var iterator = line.makeIterator()
  var pending: Character? = nil
  while let c = pending ?? iterator.next() {
    pending = nil
    if quoted {
      if c == "\"" {
        if let next = iterator.next() {
          if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
        } else { quoted = false }
      } else { current.append(c) }
    } else if c == "\"" && current.isEmpty {
      quoted = true
    } else if c == "," {
      fields.append(current)
      current = ""
    } else {
      current.append(c)
    }
  }
  fields.append(current)
  return fields
}
