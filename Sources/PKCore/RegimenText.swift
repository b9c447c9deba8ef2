/// Parses regimen text such as `"600mg then 300mg q2w"`, `"300mg q4w x6"` or
/// `"600mg then 300mg q2w until 16w then 300mg q4w"` (DESIGN §6 grammar; case-insensitive,
/// white space anywhere or nowhere).
public enum RegimenText {
  public static let example = "600mg then 300mg q2w"

  public static func parse(_ text: String, route: Route = .sc) throws(RegimenError) -> Regimen {
    var scanner = Scanner(text)
    guard !scanner.atEnd else {
      throw RegimenError("the regimen text is empty", fix: "write it like \"\(example)\"")
    }
    var phases: [Regimen.Phase] = []
    repeat {
      phases.append(try scanner.phase())
    } while scanner.take("then")
    if !scanner.atEnd {
      throw scanner.failure("expected 'then', an interval, 'x', 'for' or 'until'")
    }
    return try Regimen(phases: phases, route: route)
  }

  struct Scanner {
    let original: String
    let chars: [Character]
    var position = 0

    init(_ text: String) {
      original = text
      chars = Array(text.lowercased().filter { !$0.isWhitespace })
    }

    var atEnd: Bool { position >= chars.count }

    func failure(_ expected: String) -> RegimenError {
      let before = String(chars[..<Swift.min(position, chars.count)])
      let rest = String(chars[Swift.min(position, chars.count)...])
      let place = rest.isEmpty ? "at the end" : "at \"\(rest.prefix(12))\"" + (before.isEmpty ? "" : " after \"\(before.suffix(16))\"")
      return RegimenError(
        "cannot read the regimen \"\(original)\": \(expected) \(place)",
        fix: "write it like \"\(RegimenText.example)\" or \"300mg q4w x6\"")
    }

    mutating func take(_ word: String) -> Bool {
      let w = Array(word)
      guard position + w.count <= chars.count, Array(chars[position..<(position + w.count)]) == w else { return false }
      position += w.count
      return true
    }

    mutating func number() -> Double? {
      let start = position
      while position < chars.count, chars[position].isASCII, chars[position].isNumber || chars[position] == "." {
        position += 1
      }
      guard position > start, let v = IntervalText.parseNumber(String(chars[start..<position])) else {
        position = start
        return nil
      }
      return v
    }

    mutating func phase() throws(RegimenError) -> Regimen.Phase {
      guard let amount = number() else { throw failure("expected a dose such as \"300mg\"") }
      guard take("mg") else { throw failure("expected 'mg' after the dose amount") }
      guard amount > 0 else { throw RegimenError("a dose of \(amount) mg is not possible", fix: "give a dose greater than 0 mg") }
      var phase = Regimen.Phase(amount: amount)
      phase.interval = try interval()
      if take("x") {
        guard phase.interval != nil else {
          throw RegimenError("a single dose cannot have a count ('x')", fix: "add an interval before 'x', e.g. \"300mg q2w x6\"")
        }
        let start = position
        guard let n = number(), n == n.rounded(), n >= 1, n <= 1e7 else {
          position = start
          throw failure("expected a whole number of doses (1 or more) after 'x'")
        }
        phase.count = Int(n)
      }
      if take("for") {
        guard phase.interval != nil else { throw failure("'for' needs an interval before it") }
        phase.stop = .duration(try duration())
      } else if take("until") {
        guard phase.interval != nil else { throw failure("'until' needs an interval before it") }
        phase.stop = .until(try duration())
      }
      return phase
    }

    /// `qw`, `q2w`, `qNd`, `N`, `Nd`, `Nw`, or nothing.
    mutating func interval() throws(RegimenError) -> Double? {
      let start = position
      if take("q") {
        if take("w") { return 7 }
        if take("d") { return 1 }
        guard let n = number() else { throw failure("expected an interval such as q2w after 'q'") }
        guard take("w") || take("d") else { throw failure("expected 'w' or 'd' to finish the interval") }
        let unit: Double = chars[position - 1] == "w" ? 7 : 1
        guard n > 0 else { throw RegimenError("an interval of \(n) is not possible", fix: "give an interval greater than 0, e.g. q2w") }
        return n * unit
      }
      guard let n = number() else { return nil }
      var unit = 1.0
      if position < chars.count, chars[position] == "w" { unit = 7; position += 1 }
      else if position < chars.count, chars[position] == "d", !(position + 1 < chars.count && chars[position + 1] == "a") {
        position += 1
      }
      guard n > 0 else {
        position = start
        throw RegimenError("an interval of \(n) days is not possible", fix: "give an interval greater than 0, e.g. q2w")
      }
      return n * unit
    }

    /// `N d` or `N w` (the unit is required).
    mutating func duration() throws(RegimenError) -> Double {
      guard let n = number() else { throw failure("expected a time such as \"16w\" or \"112d\"") }
      let unit: Double
      if take("w") { unit = 7 } else if take("d") { unit = 1 } else {
        throw failure("expected 'd' or 'w' after the number")
      }
      guard n > 0 else { throw RegimenError("a duration of \(n) is not possible", fix: "give a time greater than 0, e.g. 16w") }
      return n * unit
    }
  }
}
