/// Comma-separated fields of one line (RFC 4180 quoting: `"a,b"` is one field, `""` inside quotes
/// is a quote), each trimmed of surrounding spaces. Foundation-free twin of PKReport's `csvFields`.
func datasetFields(_ line: Substring) -> [String] {
  var fields: [String] = []
  var current = ""
  var quoted = false
  var wasQuoted = false
  var iterator = line.makeIterator()
  var pending: Character? = nil
  func finish() {
    fields.append(wasQuoted ? current : datasetTrimmed(current))
    current = ""
    wasQuoted = false
  }
  while let c = pending ?? iterator.next() {
    pending = nil
    if quoted {
      if c == "\"" {
        if let next = iterator.next() {
          if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
        } else { quoted = false }
      } else {
        current.append(c)
      }
    } else if c == "\"" && current.allSatisfy({ $0 == " " || $0 == "\t" }) {
      quoted = true
      wasQuoted = true
      current = ""
    } else if c == "," {
      finish()
    } else if !(wasQuoted && (c == " " || c == "\t")) {
      current.append(c)
    }
  }
  finish()
  return fields
}

/// `s` without leading and trailing spaces and tabs.
func datasetTrimmed<S: StringProtocol>(_ s: S) -> String {
  var sub = Substring(s)
  while let f = sub.first, f == " " || f == "\t" { sub.removeFirst() }
  while let l = sub.last, l == " " || l == "\t" { sub.removeLast() }
  return String(sub)
}
