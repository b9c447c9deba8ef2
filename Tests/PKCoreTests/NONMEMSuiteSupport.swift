import Foundation
import PKCore
import PKReport
import Testing

/// The public nmtests conformance suite (NONMEM reference runs of model 1001), read where it lives:
/// `$NMTESTS_DIR`, else `../shared/conformance/nmtests` beside the package root. Its files are
/// GPL-2 / unclear-licence data and are never copied into this package.
enum NMTestsSuite {
  static let environmentKey = "NMTESTS_DIR"
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let defaultDirectory = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/nmtests")

  /// Under CI a missing suite is a failure, not a skip.
  static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

  static let directory: URL? = {
    var candidates: [URL] = []
    if let dir = ProcessInfo.processInfo.environment[environmentKey], !dir.isEmpty { candidates.append(URL(fileURLWithPath: dir)) }
    candidates.append(defaultDirectory)
    return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("1001-input.csv").path) }
  }()

  /// Run the conformance tests when the suite is there, and under CI (where its absence fails).
  static var runsOrFails: Bool { directory != nil || isCI }

  static let missingMessage: Comment =
    "nmtests suite not found: set NMTESTS_DIR or place it at ../shared/conformance/nmtests (skipped; fails when CI=true)"

  /// Records the suite's absence as a failure (only reached under CI) and returns nil.
  static func require(_ set: FileSet, sourceLocation: SourceLocation = #_sourceLocation) -> Run? {
    guard directory != nil else {
      Issue.record("nmtests suite not found (CI=true): looked in $\(environmentKey) and \(defaultDirectory.path)", sourceLocation: sourceLocation)
      return nil
    }
    switch set {
    case .basic: return basic
    case .extended: return extended
    }
  }

  enum FileSet: String { case basic = "1001", extended = "extended" }

  /// One expected row: NONMEM's `$TABLE` line for the input record at the same position.
  struct ExpectedRow: Sendable {
    var id: String
    var time: String
    var cp: Double
  }

  /// A whole set simulated once: the dataset, NONMEM's table and our outputs, row-aligned.
  struct Run: Sendable {
    var dataset: NMDataset
    var expected: [ExpectedRow]
    var result: Result<NMSimulationResult, DatasetError>

    /// Row indices of one scenario.
    func rows(of id: String) -> [Int] { dataset.records.indices.filter { dataset.records[$0].idText == id } }
    var ids: [String] {
      var seen: [String] = []
      for r in dataset.records where seen.last != r.idText { seen.append(r.idText) }
      return seen
    }
  }

  static let basic: Run? = load(.basic)
  static let extended: Run? = load(.extended)

  static func load(_ set: FileSet) -> Run? {
    guard let directory else { return nil }
    let input = directory.appendingPathComponent("\(set.rawValue)-input.csv")
    let expectedURL = directory.appendingPathComponent("\(set.rawValue)-expected.csv")
    do {
      let dataset = try NMDatasetParser.parse(try String(contentsOf: input, encoding: .utf8), source: input.lastPathComponent)
      let expected = try String(contentsOf: expectedURL, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst().map { line in
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return ExpectedRow(id: f[0], time: f[1], cp: Double(f[2]) ?? .nan)
      }
      let result: Result<NMSimulationResult, DatasetError>
      do { result = .success(try NMDatasetSimulator.simulate(dataset, model: model)) } catch { result = .failure(error) }
      return Run(dataset: dataset, expected: expected, result: result)
    } catch {
      Issue.record("cannot read the nmtests \(set.rawValue) set: \(error)")
      return nil
    }
  }

  /// The shipped `onecmt` profile (ADVAN2 TRANS2, CL 1.1, V 20, KA 1.5, output 1000·A₂/V).
  static let model: OneCompartmentDepotModel = {
    let library = try! ProfileLibrary.load(directory: packageRoot.appendingPathComponent("Profiles").path)
    let onecmt = try! library.model(named: "onecmt")
    return try! OneCompartmentDepotModel(parameters: onecmt.typical, outputScale: onecmt.outputScale, modelName: onecmt.name)
  }()

  /// The suite README's per-row rule: NONMEM prints 5 significant digits, so `ref` is the exact
  /// value rounded; a row passes when
  /// `|sim − ref| ≤ 0.5·10^(floor(log10|ref|) − 4) + 1e-6·|ref| + 1e-6` (ref ≠ 0), `|sim| ≤ 1e-6` (ref = 0).
  static func matches(_ sim: Double, _ ref: Double) -> Bool {
    guard sim.isFinite, ref.isFinite else { return false }
    if ref == 0 { return Swift.abs(sim) <= 1e-6 }
    let halfUnit = 0.5 * pow(10, floor(log10(Swift.abs(ref))) - 4)
    return Swift.abs(sim - ref) <= halfUnit + 1e-6 * Swift.abs(ref) + 1e-6
  }

  /// Compares the rows of scenario `id` with TIME ≥ `from`; records one issue per scenario
  /// listing the failing rows. Returns the number of rows compared.
  @discardableResult
  static func expectMatches(_ run: Run, id: String, from: Double = -.infinity, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
    let outputs: [Double]
    switch run.result {
    case .success(let r): outputs = r.outputs
    case .failure(let error):
      Issue.record("the dataset was refused: \(error)", sourceLocation: sourceLocation)
      return 0
    }
    let rows = run.rows(of: id)
    #expect(!rows.isEmpty, "scenario \(id) is not in the input", sourceLocation: sourceLocation)
    var failures: [String] = []
    var compared = 0
    for i in rows {
      let record = run.dataset.records[i], expected = run.expected[i]
      #expect(expected.id == record.idText && expected.time == record.timeText, "row \(i + 1) is misaligned", sourceLocation: sourceLocation)
      guard record.time >= from else { continue }
      compared += 1
      if !matches(outputs[i], expected.cp) {
        failures.append("TIME \(record.timeText) EVID \(record.event.rawValue): \(outputs[i]) vs NONMEM \(expected.cp)")
      }
    }
    if !failures.isEmpty {
      Issue.record(
        "ID \(id): \(failures.count) of \(compared) rows outside the suite's per-row rule: \(failures.prefix(8).joined(separator: "; "))",
        sourceLocation: sourceLocation)
    }
    return compared
  }
}
