/// One tier of the label's dosing table: who it is for and what they get.
/// Ages in years and weights in kg, both as half-open bands `[min, max)`; `nil` = unbounded.
public struct LabelRegimen: Codable, Sendable, Equatable {
  /// Preset name (`--regimen ad-adult`).
  public var name: String
  /// Indication code (`--indication ad`).
  public var indication: String
  /// Who, in words.
  public var population: String
  public var ageMin: Double?
  public var ageMax: Double?
  public var weightMin: Double?
  public var weightMax: Double?
  /// The regimen in the text grammar, e.g. "600mg then 300mg q2w".
  public var regimen: String
  /// Where the label says so (reference §3 row and its source).
  public var source: String
  /// Anything a prescriber should know (alternatives, exceptions).
  public var note: String?

  public func covers(age: Double, weight: Double) -> Bool {
    (ageMin.map { age >= $0 } ?? true) && (ageMax.map { age < $0 } ?? true)
      && (weightMin.map { weight >= $0 } ?? true) && (weightMax.map { weight < $0 } ?? true)
  }
}

/// Indications and their names, for listings and errors.
public enum Indication {
  public static let names: [String: String] = [
    "ad": "atopic dermatitis", "asthma": "asthma", "crswnp": "chronic rhinosinusitis with nasal polyps",
    "eoe": "eosinophilic esophagitis", "pn": "prurigo nodularis", "copd": "COPD (eosinophilic phenotype)",
    "csu": "chronic spontaneous urticaria", "bp": "bullous pemphigoid",
  ]
}
