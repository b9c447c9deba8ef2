import PKReport

/// An option a command accepts: `--name <value>` or a bare flag.
struct OptionSpec: Sendable {
  let name: String
  let short: String?
  let valueName: String?
  let help: String
  let repeatable: Bool

  init(_ name: String, short: String? = nil, value: String? = nil, repeatable: Bool = false, _ help: String) {
    self.name = name
    self.short = short
    self.valueName = value
    self.help = help
    self.repeatable = repeatable
  }

  var takesValue: Bool { valueName != nil }
  var label: String { (short.map { "\($0), " } ?? "") + name + (valueName.map { " <\($0)>" } ?? "") }
}

/// Parsed command-line options: `--name value`, `--name=value`, `-o value`, flags, `--`.
/// A value is never taken from a following `--option`. Unknown options get a "did you mean".
struct ParsedOptions {
  private(set) var values: [String: [String]] = [:]
  private(set) var flags: Set<String> = []
  private(set) var positionals: [String] = []
  /// Every option as given, in order (for reports).
  private(set) var given: [String] = []

  init(_ arguments: [String], specs: [OptionSpec], command: String, allowsPositionals: Bool = false) throws(UserError) {
    var byName: [String: OptionSpec] = [:]
    for s in specs {
      byName[s.name] = s
      if let short = s.short { byName[short] = s }
    }
    var i = 0
    var onlyPositionals = false
    while i < arguments.count {
      let arg = arguments[i]
      i += 1
      if onlyPositionals || !arg.hasPrefix("-") || arg == "-" || (arg.count > 1 && Double(arg) != nil) {
        guard allowsPositionals else {
          throw UserError("unexpected argument '\(arg)'", fix: "options start with '--'; see 'posology \(command) --help'", kind: .usage, suggestsHelp: true)
        }
        positionals.append(arg)
        continue
      }
      if arg == "--" { onlyPositionals = true; continue }
      var name = arg
      var inlineValue: String? = nil
      if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
        name = String(arg[..<eq])
        inlineValue = String(arg[arg.index(after: eq)...])
      }
      guard let spec = byName[name] else {
        let candidates = specs.map(\.name)
        let hint = name.hasPrefix("--") ? Suggestion.closest(to: name, among: candidates).map { "Did you mean '\($0)'? " } ?? "" : ""
        throw UserError("unknown option '\(name)' for 'posology \(command)'", fix: "\(hint)See 'posology \(command) --help' for the options", kind: .usage)
      }
      given.append(arg)
      if spec.takesValue {
        let value: String
        if let inlineValue {
          value = inlineValue
        } else {
          guard i < arguments.count, !(arguments[i].hasPrefix("--") && arguments[i].count > 2) else {
            throw UserError("missing value for '\(spec.name) <\(spec.valueName!)>'", fix: spec.help, kind: .usage, suggestsHelp: true)
          }
          value = arguments[i]
          given.append(value)
          i += 1
        }
        if values[spec.name] != nil && !spec.repeatable {
          throw UserError("'\(spec.name)' is given twice", fix: "give it once", kind: .usage, suggestsHelp: true)
        }
        values[spec.name, default: []].append(value)
      } else {
        if inlineValue != nil {
          throw UserError("'\(spec.name)' takes no value", fix: "write it alone, without '='", kind: .usage, suggestsHelp: true)
        }
        flags.insert(spec.name)
      }
    }
  }

  func has(_ name: String) -> Bool { values[name] != nil || flags.contains(name) }
  func value(_ name: String) -> String? { values[name]?.last }
  func all(_ name: String) -> [String] { values[name] ?? [] }

  /// A number option, validated against a range: `The value 'x' is invalid for '--name'`.
  func number(_ name: String, _ what: String, in range: ClosedRange<Double>? = nil, exclusiveLower: Double? = nil) throws(UserError) -> Double? {
    guard let text = value(name) else { return nil }
    guard let v = csvNumber(text.trimmingCharacters()) else {
      throw UserError("the value '\(text)' is invalid for '\(name)'", fix: "give \(what) as a number", kind: .usage, suggestsHelp: true)
    }
    if let lower = exclusiveLower, !(v > lower) {
      throw UserError("'\(name) \(text)' is not possible", fix: "give \(what) greater than \(format(lower))", kind: .usage)
    }
    if let range, !range.contains(v) {
      throw UserError("'\(name) \(text)' is out of range", fix: "give \(what) from \(format(range.lowerBound)) to \(format(range.upperBound))", kind: .usage)
    }
    return v
  }

  func integer(_ name: String, _ what: String, in range: ClosedRange<Int>) throws(UserError) -> Int? {
    guard let text = value(name) else { return nil }
    guard let v = Int(text.trimmingCharacters()) else {
      throw UserError("the value '\(text)' is invalid for '\(name)'", fix: "give \(what) as a whole number", kind: .usage, suggestsHelp: true)
    }
    guard range.contains(v) else {
      throw UserError("'\(name) \(text)' is out of range", fix: "give \(what) from \(range.lowerBound) to \(range.upperBound)", kind: .usage)
    }
    return v
  }
}

func format(_ v: Double) -> String {
  v == v.rounded() && Swift.abs(v) < 1e15 ? String(Int(v)) : String(v)
}

extension String {
  func trimmingCharacters() -> String {
    var s = Substring(self)
    while let f = s.first, f.isWhitespace { s.removeFirst() }
    while let l = s.last, l.isWhitespace { s.removeLast() }
    return String(s)
  }
}
