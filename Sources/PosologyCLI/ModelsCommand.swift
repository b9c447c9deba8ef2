import PKCore
import PKReport

/// `posology models`: the shipped models, their parameters and citations.
enum ModelsCommand {
  static var info: Posology.CommandInfo {
    Posology.CommandInfo(
      name: "models", abstract: "List the shipped models, their parameters and citations.",
      usage: "posology models [--profiles <dir>]", discussion: "",
      options: [OptionSpec("--profiles", value: "dir", "Folder holding the profile JSON files.")],
      allowsPositionals: false, run: run)
  }

  static func run(_ o: ParsedOptions, _ console: Console) throws {
    let library = try ProfileLibrary.locate(explicit: o.value("--profiles"))
    var s = "Profiles: \(library.origin)\n"
    for model in library.models {
      let isDefault = model.name == library.defaultModelName ? " (default)" : ""
      s += "\n\(model.name)\(isDefault): \(model.title)\n"
      s += "  citation:   \(model.citation)\n"
      s += "  source:     \(model.source)\n"
      s += "  population: \(model.population)\n"
      let p = model.typical
      var params = ParameterName.allCases.filter { $0 != .tlag || p.tlag != 0 }.filter { $0 != .mtt || p.ntr > 0 }
      if p.ntr == 0 { params.removeAll { $0 == .ntr } }
      s += "  typical at \(format(model.referenceWeightKg)) kg: " + params.map { "\($0.rawValue) \(format(p[$0]))" }.joined(separator: ", ") + "\n"
      if !model.weightExponents.isEmpty {
        s += "  weight effects: " + model.weightExponents.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) × (WT/\(format(model.referenceWeightKg)))^\($0.value)" }.joined(separator: ", ") + "\n"
      }
      if let r = model.randomEffects {
        s += "  variability (log-normal, ω as \(r.scale == .sd ? "SD" : "variance") as published): "
        s += zip(r.parameters, r.omega).map { "\($0.rawValue) \($1)" }.joined(separator: ", ")
        if let c = r.correlation, c.count > 1 {
          var pairs: [String] = []
          for i in 0..<c.count { for j in (i + 1)..<c.count where c[i][j] != 0 { pairs.append("corr(\(r.parameters[i].rawValue), \(r.parameters[j].rawValue)) = \(c[i][j])") } }
          if !pairs.isEmpty { s += "; " + pairs.joined(separator: ", ") }
        }
        s += "\n"
      }
      if let e = model.residualError {
        s += "  residual error: proportional \(e.proportional) (SD), additive \(e.additive) mg/L (SD)\n"
      }
      if model.outputScale != 1 { s += "  output: \(format(model.outputScale)) × A/V\n" }
    }
    console.out(s)
  }
}
