import Foundation
import PKCore

/// One profile file: a drug's models and label regimens.
public struct Profile: Codable, Sendable {
  public var drug: String
  public var description: String
  public var defaultModel: String?
  public var defaultRegimen: String?
  public var models: [PopulationModel]
  public var regimens: [LabelRegimen]?
}

/// Every model and regimen the tool knows, from `Profiles/*.json` or the copy built into the binary.
public struct ProfileLibrary: Sendable {
  public let profiles: [(file: String, profile: Profile)]
  /// The directory they were read from, or "built-in".
  public let origin: String

  public var models: [PopulationModel] { profiles.flatMap(\.profile.models) }
  public var regimens: [LabelRegimen] { profiles.flatMap { $0.profile.regimens ?? [] } }
  public var defaultModelName: String { profiles.lazy.compactMap(\.profile.defaultModel).first ?? "kovalenko2020" }
  public var defaultRegimenName: String { profiles.lazy.compactMap(\.profile.defaultRegimen).first ?? "ad-adult" }

  /// Parses and validates profile files given as (name, contents).
  public static func parse(_ files: [(name: String, contents: String)], origin: String) throws(UserError) -> ProfileLibrary {
    var profiles: [(String, Profile)] = []
    var seen: Set<String> = []
    for (name, contents) in files {
      let profile = try decode(contents, file: origin == "built-in" ? "built-in \(name)" : "\(origin)/\(name)")
      for model in profile.models {
        guard seen.insert(model.name).inserted else {
          throw UserError("the model name '\(model.name)' appears twice in \(origin)", fix: "give each model a unique name", kind: .dataError)
        }
      }
      profiles.append((name, profile))
    }
    return ProfileLibrary(profiles: profiles, origin: origin)
  }

  /// Decodes and validates one profile file's text.
  public static func decode(_ contents: String, file: String) throws(UserError) -> Profile {
    let profile: Profile
    do {
      profile = try JSONDecoder().decode(Profile.self, from: Data(contents.utf8))
    } catch let error as DecodingError {
      throw UserError("the profile '\(file)' is not valid: \(describe(error))", fix: "fix the JSON (see Profiles/dupilumab.json for the format)", kind: .dataError)
    } catch {
      throw UserError("the profile '\(file)' is not valid JSON", fix: "fix the JSON (see Profiles/dupilumab.json for the format)", kind: .dataError)
    }
    for model in profile.models {
      let problems = model.problems()
      if let first = problems.first {
        throw UserError("the model '\(model.name)' in '\(file)' is not usable: \(first)", fix: "correct its values in the profile", kind: .dataError)
      }
    }
    for regimen in profile.regimens ?? [] {
      do { _ = try RegimenText.parse(regimen.regimen) } catch {
        throw UserError("the regimen '\(regimen.name)' in '\(file)' is not valid: \(error.problem)", fix: "correct it in the profile", kind: .dataError)
      }
    }
    return profile
  }

  static func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      return p.isEmpty ? "at the top level" : "at \(p.hasPrefix(".") ? String(p.dropFirst()) : p)"
    }
    switch error {
    case .keyNotFound(let key, let context): return "the field '\(key.stringValue)' is missing \(path(context))"
    case .typeMismatch(let type, let context): return "expected \(type == Double.self ? "a number" : "\(type)") \(path(context))"
    case .valueNotFound(_, let context): return "a value is missing \(path(context))"
    case .dataCorrupted(let context):
      let what = context.debugDescription.hasSuffix(".") ? String(context.debugDescription.dropLast()) : context.debugDescription
      return "\(what) \(path(context))"
    @unknown default: return "\(error)"
    }
  }

  /// The profiles compiled into the binary (a copy of `Profiles/*.json` at build time).
  public static func builtIn() -> ProfileLibrary {
    // The embedded copy is tested to equal Profiles/*.json and to decode; failing here is a build defect.
    do { return try parse(EmbeddedProfiles.files, origin: "built-in") } catch {
      fatalError("built-in profiles are invalid: \(error)")
    }
  }

  public static var builtInFiles: [(name: String, contents: String)] { EmbeddedProfiles.files }

  /// Reads every `*.json` in `directory`.
  public static func load(directory: String) throws(UserError) -> ProfileLibrary {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw UserError("cannot open the profiles directory '\(directory)'", fix: "give --profiles the folder that holds dupilumab.json", kind: .noInput)
    }
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    guard !names.isEmpty else {
      throw UserError("the profiles directory '\(directory)' has no .json files", fix: "give --profiles the folder that holds dupilumab.json", kind: .noInput)
    }
    var files: [(name: String, contents: String)] = []
    for name in names { files.append((name, try TextFile.read(directory + "/" + name, what: "profile"))) }
    return try parse(files, origin: directory)
  }

  /// `--profiles DIR` if given; else a `Profiles/` folder beside the executable or up to four
  /// levels above it (the package root for `.build/<config>/posology`); else the built-in copy.
  public static func locate(explicit: String?) throws(UserError) -> ProfileLibrary {
    if let explicit { return try load(directory: explicit) }
    if let found = searchBesideExecutable() { return try load(directory: found) }
    return builtIn()
  }

  static func searchBesideExecutable() -> String? {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
    var dir = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<5 {
      let candidate = dir.appendingPathComponent("Profiles")
      if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("dupilumab.json").path) {
        return candidate.path
      }
      dir = dir.deletingLastPathComponent()
    }
    return nil
  }

  /// A model by name, or from a profile file path (`--model my.json`, its only or default model).
  public func model(named name: String) throws(UserError) -> PopulationModel {
    if let m = models.first(where: { $0.name.lowercased() == name.lowercased() }) { return m }
    if name.hasSuffix(".json") || name.contains("/") {
      let text = try TextFile.read(name, what: "profile")
      let profile = try Self.decode(text, file: name)
      if profile.models.count == 1 { return profile.models[0] }
      if let d = profile.defaultModel, let m = profile.models.first(where: { $0.name == d }) { return m }
      throw UserError("the profile '\(name)' holds \(profile.models.count) models and names no defaultModel", fix: "set \"defaultModel\" in it", kind: .dataError)
    }
    let names = models.map(\.name)
    let hint = Suggestion.closest(to: name, among: names).map { "Did you mean '\($0)'? " } ?? ""
    throw UserError("unknown model '\(name)'", fix: "\(hint)Known models: \(names.joined(separator: ", ")) (or a profile file path)", kind: .usage, suggestsHelp: false)
  }

  public func labelRegimen(named name: String) -> LabelRegimen? {
    regimens.first { $0.name.lowercased() == name.lowercased() }
  }
}

/// "Did you mean …?" by edit distance (as swift-argument-parser: suggest when distance < 4).
public enum Suggestion {
  public static func closest(to word: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 < 4, best.1 < Swift.max(word.count, 2) else { return nil }
    return best.0
  }

  static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
      var current = [i] + [Int](repeating: 0, count: b.count)
      for j in 1...b.count {
        current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return previous[b.count]
  }
}
