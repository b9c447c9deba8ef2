import PKCore
import PKNumerics
import PKReport

/// The `posology` command line: dispatches to a command, prints errors as DESIGN §6 says
/// (`Error: <what>. <fix>` on stderr's first line, maybe a `--help` pointer, nothing else) and
/// returns the exit code.
public enum Posology {
  public static let version = "0.1.0"

  struct CommandInfo {
    let name: String
    let abstract: String
    let usage: String
    let discussion: String
    let options: [OptionSpec]
    let allowsPositionals: Bool
    let run: (ParsedOptions, Console) throws -> Void
  }

  static var commands: [CommandInfo] {
    [SimulateCommand.info, CompareCommand.info, RegimensCommand.info, ModelsCommand.info, MergeCommand.info, PlotCommand.info]
  }

  /// Runs the command line `arguments` (without the program name) and returns the exit code.
  public static func run(_ arguments: [String], console: Console = StandardConsole()) -> Int32 {
    do {
      try dispatch(arguments, console: console)
      return 0
    } catch let error as UserError {
      console.err(error.description + "\n")
      if error.suggestsHelp, let command = arguments.first, commands.contains(where: { $0.name == command }) {
        console.err("See 'posology \(command) --help'.\n")
      }
      return error.exitCode
    } catch let error as ODEError {
      let advice = arguments.contains { $0.lowercased().hasSuffix("rodas4") }
        ? "Tighten or loosen --rtol/--atol, or check the parameters"
        : "Try --method rodas4 (for stiff models), tighten or loosen --rtol/--atol, or check the parameters"
      console.err("Error: the solver gave up: \(error.description). \(advice)\n")
      return 1
    } catch {
      console.err("Error: \(String(describing: error).replacingNewlines()). Please report this with the command line that caused it\n")
      return 1
    }
  }

  static func dispatch(_ arguments: [String], console: Console) throws {
    guard let first = arguments.first else {
      console.out(HelpText.root(commands))
      return
    }
    switch first {
    case "--help", "-h":
      console.out(HelpText.root(commands))
      return
    case "--version":
      console.out("posology \(version)\n")
      return
    case "help":
      if arguments.count == 1 { console.out(HelpText.root(commands)); return }
      guard let command = commands.first(where: { $0.name == arguments[1] }) else {
        throw unknownCommand(arguments[1])
      }
      console.out(HelpText.command(command))
      return
    default:
      break
    }
    guard let command = commands.first(where: { $0.name == first }) else { throw unknownCommand(first) }
    let rest = Array(arguments.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
      console.out(HelpText.command(command))
      return
    }
    if rest.contains("--version") {
      console.out("posology \(version)\n")
      return
    }
    let parsed = try ParsedOptions(rest, specs: command.options, command: command.name, allowsPositionals: command.allowsPositionals)
    try command.run(parsed, console)
  }

  static func unknownCommand(_ name: String) -> UserError {
    let names = commands.map(\.name) + ["help"]
    let hint = Suggestion.closest(to: name, among: names).map { "Did you mean '\($0)'? " } ?? ""
    return UserError("unknown command '\(name)'", fix: "\(hint)Commands: \(names.joined(separator: ", ")); see 'posology --help'", kind: .usage)
  }
}

extension String {
  func replacingNewlines() -> String { String(map { $0 == "\n" || $0 == "\r" ? " " : $0 }) }
}
