/// Help in swift-argument-parser's layout: OVERVIEW, USAGE, OPTIONS, SUBCOMMANDS; two-space
/// indent, a 26-column label, wrapped at 100 columns.
enum HelpText {
  static let width = 100
  static let labelColumn = 26

  static func root(_ commands: [Posology.CommandInfo]) -> String {
    var s = "OVERVIEW: Posology \(Posology.version): pharmacokinetic dosing-schedule simulator for subcutaneous\n"
    s += "monoclonal antibodies (dupilumab first): concentration curves, cohorts, metrics, charts.\n\n"
    s += "USAGE: posology <subcommand> [options]\n\n"
    s += "OPTIONS:\n"
    s += row("--version", "Show the version.")
    s += row("-h, --help", "Show help information.")
    s += "\nSUBCOMMANDS:\n"
    for c in commands { s += row(c.name, c.abstract) }
    s += row("help <subcommand>", "Same as '<subcommand> --help'.")
    s += "\n  See 'posology help <subcommand>' for detailed help.\n"
    return s
  }

  static func command(_ c: Posology.CommandInfo) -> String {
    var s = "OVERVIEW: \(c.abstract)\n"
    if !c.discussion.isEmpty { s += "\n" + wrap(c.discussion, indent: 0) }
    s += "\nUSAGE: \(c.usage)\n\nOPTIONS:\n"
    for o in c.options { s += row(o.label, o.help) }
    s += row("-h, --help", "Show help information.")
    return s
  }

  static func row(_ label: String, _ help: String) -> String {
    let padded = "  " + label
    if padded.count < labelColumn {
      let first = padded + String(repeating: " ", count: labelColumn - padded.count)
      return first + wrap(help, indent: labelColumn).dropFirst(labelColumn)
    }
    return padded + "\n" + wrap(help, indent: labelColumn)
  }

  static func wrap(_ text: String, indent: Int) -> String {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ") {
      if !line.isEmpty && indent + line.count + 1 + word.count > width {
        lines.append(line)
        line = ""
      }
      line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    let pad = String(repeating: " ", count: indent)
    return lines.map { pad + $0 + "\n" }.joined()
  }
}
