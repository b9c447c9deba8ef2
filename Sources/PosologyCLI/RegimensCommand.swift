import PKCore
import PKReport

/// `posology regimens`: the label's regimens from the profiles.
enum RegimensCommand {
  static var info: Posology.CommandInfo {
    Posology.CommandInfo(
      name: "regimens", abstract: "List the label's regimens (presets for --regimen and --indication).",
      usage: "posology regimens [--indication <code>] [--profiles <dir>]", discussion: "Ages in years and weights in kg are half-open bands [min, max).",
      options: [
        OptionSpec("--indication", value: "code", "Only this indication: ad, asthma, crswnp, eoe, pn, copd, csu, bp."),
        OptionSpec("--profiles", value: "dir", "Folder holding the profile JSON files."),
      ],
      allowsPositionals: false, run: run)
  }

  static func run(_ o: ParsedOptions, _ console: Console) throws {
    let library = try ProfileLibrary.locate(explicit: o.value("--profiles"))
    var regimens = library.regimens
    if let indication = o.value("--indication")?.lowercased() {
      regimens = regimens.filter { $0.indication == indication }
      if regimens.isEmpty {
        let known = Array(Set(library.regimens.map(\.indication))).sorted()
        let hint = Suggestion.closest(to: indication, among: known).map { "Did you mean '\($0)'? " } ?? ""
        throw UserError("unknown indication '\(indication)'", fix: "\(hint)Known: \(known.joined(separator: ", "))", kind: .usage)
      }
    }
    var csv = CSVBuilder(header: ["name", "indication", "population", "age_min_y", "age_max_y", "weight_min_kg", "weight_max_kg", "regimen", "source"])
    for r in regimens {
      csv.appendRow([
        r.name, r.indication, r.population, r.ageMin.map(format) ?? "", r.ageMax.map(format) ?? "",
        r.weightMin.map(format) ?? "", r.weightMax.map(format) ?? "", r.regimen, r.source,
      ].map(CSVBuilder.field))
    }
    console.out(csv.text)
  }
}
