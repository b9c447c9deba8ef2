/// An error meant for the person at the keyboard: what is wrong, how to fix it, and the exit code
/// (DESIGN §6: 64 command line, 65 bad file contents, 66 input file cannot be opened,
/// 73 output cannot be created, 1 anything else).
public struct UserError: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Kind: Int32, Sendable {
    case usage = 64
    case dataError = 65
    case noInput = 66
    case cannotCreate = 73
    case failure = 1
  }
  public let problem: String
  public let fix: String
  public let kind: Kind
  /// Whether a second line should point to `--help`.
  public let suggestsHelp: Bool

  public init(_ problem: String, fix: String, kind: Kind, suggestsHelp: Bool = false) {
    self.problem = problem
    self.fix = fix
    self.kind = kind
    self.suggestsHelp = suggestsHelp
  }

  public var exitCode: Int32 { kind.rawValue }

  /// `Error: <what is wrong>. <how to fix it>` on one line (line ends and other control
  /// characters, which may come from the input quoted in it, become spaces).
  public var description: String {
    let what = problem.hasSuffix(".") ? String(problem.dropLast()) : problem
    let advice = fix.prefix(1).uppercased() + fix.dropFirst()
    return "Error: \(what). \(advice)".replacingNewlines()
  }
}

extension String {
  func replacingNewlines() -> String {
    String(map { $0.isNewline || $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? " " : $0 })
  }
}
