import Foundation
import PosologyCLI
import Testing

/// One bad command line: the arguments (`$DIR` stands for a fresh temporary folder holding
/// `files`), the exit code DESIGN §6 gives it, and a phrase its message must hold.
struct BadInputCase: Sendable, CustomTestStringConvertible {
  var args: [String]
  var code: Int32
  var says: String?
  var files: [String: String]

  init(_ args: [String], _ code: Int32 = 64, says: String? = nil, files: [String: String] = [:]) {
    self.args = args
    self.code = code
    self.says = says
    self.files = files
  }

  var testDescription: String { String(args.joined(separator: " ").prefix(120)) + " → \(code)" }

  /// Writes the files, runs the CLI in-process and checks the DESIGN §6 error contract.
  func check(sourceLocation: SourceLocation = #_sourceLocation) throws {
    let dir = Paths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for (name, contents) in files {
      try Data(contents.utf8).write(to: dir.appendingPathComponent(name))
    }
    let arguments = args.map { $0.replacingOccurrences(of: "$DIR", with: dir.path) }
    let result = run(arguments)
    BadInput.expectCleanError(result, code: code, says: says, "\(arguments.joined(separator: " "))", sourceLocation: sourceLocation)
    let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
    #expect(left.isEmpty, "temporary files left behind: \(left)", sourceLocation: sourceLocation)
  }
}

enum BadInput {
  /// DESIGN §6: the exit code; nothing on stdout; stderr's first line `Error: <what is wrong>.
  /// <how to fix it>`, then at most one line pointing to `--help`, nothing else.
  static func expectCleanError(
    _ r: (code: Int32, stdout: String, stderr: String), code: Int32, says: String? = nil, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(r.code == code, "\(what): exit \(r.code), expected \(code); stderr: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stdout.isEmpty, "\(what): stdout is not empty: \(r.stdout.prefix(200))", sourceLocation: sourceLocation)
    #expect(r.stderr.hasSuffix("\n"), "\(what): stderr does not end with a line end", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(lines.count == 1 || lines.count == 2, "\(what): \(lines.count) lines on stderr: \(r.stderr)", sourceLocation: sourceLocation)
    guard let first = lines.first else { return }
    #expect(first.hasPrefix("Error: "), "\(what): first line \(first)", sourceLocation: sourceLocation)
    let body = first.dropFirst("Error: ".count)
    #expect(body.count > 2 && body.first != " ", "\(what): no message: \(first)", sourceLocation: sourceLocation)
    #expect(body.contains(". "), "\(what): no '<what>. <fix>' in \(first)", sourceLocation: sourceLocation)
    #expect(!first.contains("\r") && !first.contains("\t"), "\(what): control characters in \(first)", sourceLocation: sourceLocation)
    for banned in ["Fatal error", "Swift runtime failure", "Backtrac", "DecodingError", "Optional("] {
      #expect(!r.stderr.contains(banned), "\(what): \(banned) in \(r.stderr)", sourceLocation: sourceLocation)
    }
    if lines.count == 2 {
      #expect(
        lines.last!.hasPrefix("See 'posology ") && lines.last!.hasSuffix("--help'."), "\(what): second line \(lines.last!)",
        sourceLocation: sourceLocation)
    }
    if let says {
      #expect(first.contains(says), "\(what): '\(says)' not in \(first)", sourceLocation: sourceLocation)
    }
  }

  static let label = "600mg then 300mg q2w"
  /// 100 copies of `--regimen 300mg q2w`.
  static let hundredRegimens = (0..<100).flatMap { _ in ["--regimen", "300mg q2w"] }

  static func profile(typical: String, extra: String = "") -> [String: String] {
    ["p.json": #"{"drug": "x", "description": "y", "models": [{"name": "m", "title": "t", "citation": "c", "referenceWeightKg": 70, "typical": "# + typical + extra + "}]}"]
  }

  static func shard(_ text: String) -> [String: String] { ["s.csv": text] }
}

@Suite("Bad input: a clean error, the right exit code, nothing on stdout (DESIGN §6)")
struct BadInputTests {
  @Test("doses: negative, zero, NaN, infinite or absurd", arguments: [
    BadInputCase(["simulate", "--dose", "-5", "--interval", "q2w"], says: "--dose"),
    BadInputCase(["simulate", "--dose", "0", "--interval", "q2w"], says: "--dose"),
    BadInputCase(["simulate", "--dose", "nan", "--interval", "q2w"], says: "--dose"),
    BadInputCase(["simulate", "--dose", "NaN", "--interval", "q2w"]),
    BadInputCase(["simulate", "--dose", "inf", "--interval", "q2w"]),
    BadInputCase(["simulate", "--dose", "-infinity", "--interval", "q2w"]),
    BadInputCase(["simulate", "--dose", "1e400", "--interval", "q2w"]),
    BadInputCase(["simulate", "--dose", "1e30", "--interval", "q2w"], says: "absurd"),
    BadInputCase(["simulate", "--dose", "1000001", "--interval", "q2w"], says: "absurd"),
    BadInputCase(["simulate", "--dose", "300mg", "--interval", "q2w"]),
    BadInputCase(["simulate", "--dose", "0x12C", "--interval", "q2w"], says: "--dose"),
    BadInputCase(["simulate", "--dose", "", "--interval", "q2w"]),
    BadInputCase(["simulate", "--loading", "-600"]),
    BadInputCase(["simulate", "--loading", "0"]),
    BadInputCase(["simulate", "--loading", "1e7"], says: "absurd"),
    BadInputCase(["simulate", "--regimen", "0mg q2w"]),
    BadInputCase(["simulate", "--regimen", "-300mg q2w"]),
    BadInputCase(["simulate", "--regimen", "2000000mg q2w"], says: "absurd"),
    BadInputCase(["simulate", "--regimen", "600mg then 0mg q2w"]),
    BadInputCase(["simulate", "--regimen", "nanmg q2w"]),
    BadInputCase(["simulate", "--regimen", "infmg"]),
  ])
  func doses(_ c: BadInputCase) throws { try c.check() }

  @Test("intervals: zero, negative, malformed", arguments: [
    BadInputCase(["simulate", "--dose", "300", "--interval", "0"], says: "--interval"),
    BadInputCase(["simulate", "--dose", "300", "--interval", "-14"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "q0w"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "q-2w"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "0d"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "nan"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "inf"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "1e400"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "q2m"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", ""]),
    BadInputCase(["simulate", "--regimen", "300mg q0w"]),
    BadInputCase(["simulate", "--regimen", "300mg 0d"]),
    BadInputCase(["simulate", "--regimen", "300mg q0.0d"]),
  ])
  func intervals(_ c: BadInputCase) throws { try c.check() }

  @Test("horizon: ≤ 0, over 100 years, not a number", arguments: [
    BadInputCase(["simulate", "--days", "0"], says: "--days"),
    BadInputCase(["simulate", "--days", "-1"]),
    BadInputCase(["simulate", "--days", "nan"]),
    BadInputCase(["simulate", "--days", "inf"]),
    BadInputCase(["simulate", "--days", "36526"], says: "--days"),
    BadInputCase(["simulate", "--days", "1e308"]),
    BadInputCase(["simulate", "--weeks", "0"]),
    BadInputCase(["simulate", "--weeks", "-52"]),
    BadInputCase(["simulate", "--weeks", "5218"], says: "--weeks"),
    BadInputCase(["simulate", "--weeks", "52w"]),
    BadInputCase(["simulate", "--days", "10", "--weeks", "2"]),
    BadInputCase(["compare", "--regimen", "300mg q2w", "--days", "0"]),
  ])
  func horizon(_ c: BadInputCase) throws { try c.check() }

  @Test("output step: ≤ 0, not a number, or a grid over 10^8 rows", arguments: [
    BadInputCase(["simulate", "--step", "0"], says: "--step"),
    BadInputCase(["simulate", "--step", "-1"]),
    BadInputCase(["simulate", "--step", "nan"]),
    BadInputCase(["simulate", "--step", "inf"]),
    BadInputCase(["simulate", "--step", "1e-6", "--days", "36525"], says: "rows"),
    BadInputCase(["simulate", "--step", "1e-6", "--weeks", "2600"], says: "rows"),
    BadInputCase(["simulate", "--step", "1e-300"], says: "rows"),
    BadInputCase(["simulate", "--step", "5e-324"], says: "rows"),
    BadInputCase(["simulate", "--step", "0.000001", "--days", "100.000001"], says: "rows"),
    BadInputCase(["compare", "--regimen", "300mg q2w", "--step", "1e-9"], says: "rows"),
  ])
  func step(_ c: BadInputCase) throws { try c.check() }

  @Test("unknown names get a 'did you mean'", arguments: [
    BadInputCase(["simulate", "--model", "kovalenko2021"], says: "Did you mean 'kovalenko2020'?"),
    BadInputCase(["simulate", "--model", "zhang"], says: "Known models"),
    BadInputCase(["simulate", "--regimen", "ad-adlt"], says: "Did you mean 'ad-adult'?"),
    BadInputCase(["compare", "--regimen", "ashtma-400"], says: "Did you mean 'asthma-400'?"),
    BadInputCase(["simulate", "--regimen", "qwerty"], says: "posology regimens"),
    BadInputCase(["simulate", "--modle", "onecmt"], says: "Did you mean '--model'?"),
    BadInputCase(["simulate", "--subject", "10"], says: "Did you mean '--subjects'?"),
    BadInputCase(["compare", "--regimn", "300mg q2w"], says: "Did you mean '--regimen'?"),
    BadInputCase(["merge", "--ouput", "x.csv"], says: "Did you mean '--output'?"),
    BadInputCase(["simulat"], says: "Did you mean 'simulate'?"),
    BadInputCase(["help", "comapre"], says: "Did you mean 'compare'?"),
    BadInputCase(["simulate", "--param", "kz=1"], says: "Did you mean"),
    BadInputCase(["simulate", "--indication", "astma", "--age", "30"], says: "Did you mean 'asthma'?"),
    BadInputCase(["regimens", "--indication", "adx"], says: "Did you mean 'ad'?"),
    BadInputCase(["simulate", "--method", "rk4"], says: "dopri5"),
    BadInputCase(["simulate", "--route", "oral"], says: "iv"),
    BadInputCase(["simulate", "-x"]),
    BadInputCase(["simulate", "extra"]),
    BadInputCase(["simulate", "--chart=yes"]),
    BadInputCase(["simulate", "--weight"]),
  ])
  func unknownNames(_ c: BadInputCase) throws { try c.check() }

  @Test("malformed regimen text", arguments: [
    "600mg thn 300mg q2w", "300 q2w", "300mg q2", "300mg x3", "300mg q2w x0", "300mg q2w x-1", "300mg q2w x2.5", "300mg q2w for",
    "300mg q2w until 16", "300mg q2w then", "then 300mg", "300mg q2w then 600mg q4w", "300mg q2w x3 x4", "300mg q2w for 0w",
    "mg", "600mg then 300mg", "300mg q2w for 4w until 8w", "300mg q2w x99999999999999999999", "300mg q2w x1e30", "", "   ",
    "600mg, 300mg q2w", "600 mg then then 300 mg q2w", "300mg q2w for 16x", "300mg qqw", "300mg q2w x3 for", "300mg\u{0}q2w",
    "６００mg", "600mg then 300mg q2w until 1e400w",
  ].map { BadInputCase(["simulate", "--regimen", $0]) })
  func regimenText(_ c: BadInputCase) throws { try c.check() }

  static let header = "time_day,amount_mg\n"

  @Test("events file: wrong header, non-numeric cells, negative or unsorted times, bad rows (65); unreadable (66)", arguments: [
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "header", files: ["e.csv": "time,amount\n0,600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "header", files: ["e.csv": "time_day;amount_mg\n0;600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "header", files: ["e.csv": "0,600\n14,300\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, files: ["e.csv": "time_day,amount_mg,route,extra\n0,600,sc,1\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + "0,abc\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + "zero,600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + "nan,600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + "0,inf\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + "0x10,600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + "1e400,600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + "0,600\u{0}\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + ",600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + "0,\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not a number", files: ["e.csv": header + "14 days,300\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "negative", files: ["e.csv": header + "-1,600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "negative", files: ["e.csv": header + "0,600\n-0.5,300\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "before the previous", files: ["e.csv": header + "14,600\n0,300\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "line 4", files: ["e.csv": header + "0,600\n14,300\n13.999,300\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not possible", files: ["e.csv": header + "0,-600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not possible", files: ["e.csv": header + "0,0\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "not possible", files: ["e.csv": header + "0,1e30\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "route", files: ["e.csv": "time_day,amount_mg,route\n0,600,oral\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "route", files: ["e.csv": "time_day,amount_mg,route\n0,600,\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "fields", files: ["e.csv": header + "0,600,3\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "fields", files: ["e.csv": header + "0\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "fields", files: ["e.csv": header + "\"0,600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "no doses", files: ["e.csv": header]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "empty", files: ["e.csv": ""]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv"], 65, says: "empty", files: ["e.csv": "\u{FEFF}\r\n\r\n"]),
    BadInputCase(["simulate", "--events", "$DIR/missing.csv"], 66, says: "cannot open"),
    BadInputCase(["simulate", "--events", "$DIR"], 66, says: "directory"),
    BadInputCase(["simulate", "--events", "$DIR/e.csv", "--days", "7"], 64, says: "horizon", files: ["e.csv": header + "30,600\n"]),
    BadInputCase(["simulate", "--events", "$DIR/e.csv", "--miss", "3"], 64, says: "dose 3", files: ["e.csv": header + "0,600\n0,300\n"]),
  ])
  func eventsFile(_ c: BadInputCase) throws { try c.check() }

  @Test("a non-UTF-8 events file is exit 65")
  func eventsNotUTF8() throws {
    let dir = Paths.temporaryDirectory()
    let url = dir.appendingPathComponent("e.csv")
    try Data([0x74, 0x69, 0xFF, 0xFE, 0x0A, 0x30, 0x2C, 0x36, 0x0A]).write(to: url)
    BadInput.expectCleanError(run(["simulate", "--events", url.path]), code: 65, says: "UTF-8", "binary events file")
  }

  @Test("events file: BOM, CRLF and CR accepted; equal times are separate doses, numbered in file order")
  func eventsAccepted() throws {
    let dir = Paths.temporaryDirectory()
    func curve(_ text: String, _ extra: [String] = []) throws -> String {
      let url = dir.appendingPathComponent("e\(UUID().uuidString).csv")
      try Data(text.utf8).write(to: url)
      let r = run(["simulate", "--events", url.path, "--days", "20"] + extra)
      #expect(r.code == 0 && r.stderr.isEmpty, "\(text.debugDescription): \(r.stderr)")
      return r.stdout
    }
    let plain = try curve("time_day,amount_mg\n0,600\n14,300\n")
    #expect(plain.split(separator: "\n").count == 22)
    #expect(try curve("\u{FEFF}time_day,amount_mg\r\n0,600\r\n14,300\r\n") == plain)
    #expect(try curve("time_day,amount_mg\r0,600\r14,300") == plain)
    #expect(try curve(" Time_Day , Amount_mg \n\n 0 , 600 \n\n\"14\",\"300\"\n\n") == plain)
    #expect(try curve("time_day,amount_mg,route\n0,600,SC\n14,300,sc\n") == plain)
    // Equal times: two doses at day 0 add up (to round-off, then the solver's tolerance);
    // --miss counts them in file order.
    let both = try curve("time_day,amount_mg\n0,400\n0,200\n14,300\n")
    let values = { (csv: String) in csv.split(separator: "\n").dropFirst().map { Double($0.split(separator: ",")[1])! } }
    #expect(values(both).count == values(plain).count)
    for (a, b) in zip(values(both), values(plain)) { #expect(abs(a - b) <= 10 * 1e-7 * max(abs(a), abs(b)) + 1e-9, "\(a) vs \(b)") }
    #expect(try curve("time_day,amount_mg\n0,600\n0,300\n", ["--miss", "2"]) == (try curve("time_day,amount_mg\n0,600\n")))
    #expect(try curve("time_day,amount_mg\n0,600\n0,300\n", ["--miss", "1"]) == (try curve("time_day,amount_mg\n0,300\n")))
  }

  @Test("profile JSON: missing fields, wrong types, negative volumes or rates (65); missing file (66)", arguments: [
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "'Vc' is missing", files: BadInput.profile(typical: #"{"ka": 0.3, "F": 1, "ke": 0.05}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "expected a number", files: BadInput.profile(typical: #"{"ka": "fast", "Vc": 3, "ke": 0.05}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "Vc", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": -3, "ke": 0.05}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "Vc", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 0, "ke": 0.05}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "ke", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 3, "ke": -0.05}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "ka", files: BadInput.profile(typical: #"{"ka": -0.3, "Vc": 3, "ke": 0.05}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "k21", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 3, "ke": 0.05, "k12": 0.1, "k21": -1}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "Km", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 3, "ke": 0.05, "Vm": 1, "Km": 0}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "ntr", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 3, "ke": 0.05, "mtt": 0.1, "ntr": 2.5}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "ntr", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 3, "ke": 0.05, "mtt": 0.1, "ntr": 1e30}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "a value is missing", files: BadInput.profile(typical: "null")),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "referenceWeightKg", files: ["p.json": #"{"drug": "x", "description": "y", "models": [{"name": "m", "title": "t", "citation": "c", "typical": {"Vc": 3, "ke": 0.1}}]}"#]),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "weightExponents", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 3, "ke": 0.1}"#, extra: #", "weightExponents": {"zz": 1}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "omega", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 3, "ke": 0.1}"#, extra: #", "randomEffects": {"parameters": ["ke"], "scale": "sd", "omega": [-1]}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 3, "ke": 0.1}"#, extra: #", "randomEffects": {"parameters": ["ke"], "scale": "cv", "omega": [0.1]}"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "outputScale", files: BadInput.profile(typical: #"{"ka": 0.3, "Vc": 3, "ke": 0.1}"#, extra: #", "outputScale": -1"#)),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "not valid", files: ["p.json": "{"]),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "not valid", files: ["p.json": ""]),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "not valid", files: ["p.json": "[1, 2]"]),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "'description' is missing", files: ["p.json": #"{"drug": "x"}"#]),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, files: ["p.json": #"{"drug": "x", "description": "y", "models": []}"#]),
    BadInputCase(["simulate", "--model", "$DIR/p.json"], 65, says: "regimen", files: ["p.json": #"{"drug": "x", "description": "y", "models": [{"name": "m", "title": "t", "citation": "c", "referenceWeightKg": 70, "typical": {"ka": 0.3, "Vc": 3, "ke": 0.1}}], "regimens": [{"name": "r", "indication": "ad", "population": "p", "regimen": "300mg q0w", "source": "s"}]}"#]),
    BadInputCase(["simulate", "--model", "$DIR/missing.json"], 66, says: "cannot open"),
    BadInputCase(["simulate", "--profiles", "$DIR"], 65, says: "not valid", files: ["a.json": "{\"drug\": 1}"]),
    BadInputCase(["models", "--profiles", "$DIR/nothing"], 66),
    BadInputCase(["models", "--profiles", "$DIR"], 66, says: "no .json", files: ["readme.txt": "x"]),
  ])
  func profile(_ c: BadInputCase) throws { try c.check() }

  @Test("covariates file (65)", arguments: [
    BadInputCase(["simulate", "--covariates", "$DIR/c.csv", "--days", "2"], 65, says: "header", files: ["c.csv": "id,wt\n1,70\n"]),
    BadInputCase(["simulate", "--covariates", "$DIR/c.csv", "--days", "2"], 65, files: ["c.csv": "subject,weight_kg\n1,abc\n"]),
    BadInputCase(["simulate", "--covariates", "$DIR/c.csv", "--days", "2"], 65, files: ["c.csv": "subject,weight_kg\n1,0x46\n"]),
    BadInputCase(["simulate", "--covariates", "$DIR/c.csv", "--days", "2"], 65, files: ["c.csv": "subject,weight_kg\n1,nan\n"]),
    BadInputCase(["simulate", "--covariates", "$DIR/c.csv", "--days", "2"], 65, says: "kg", files: ["c.csv": "subject,weight_kg\n1,-70\n"]),
    BadInputCase(["simulate", "--covariates", "$DIR/c.csv", "--days", "2"], 65, says: "kg", files: ["c.csv": "subject,weight_kg\n1,7000\n"]),
    BadInputCase(["simulate", "--covariates", "$DIR/c.csv", "--days", "2"], 65, says: "subject 2", files: ["c.csv": "subject,weight_kg\n2,70\n"]),
    BadInputCase(["simulate", "--covariates", "$DIR/c.csv", "--days", "2"], 65, says: "no patients", files: ["c.csv": "subject,weight_kg\n"]),
    BadInputCase(["simulate", "--covariates", "$DIR/c.csv", "--days", "2", "--subjects", "3"], 65, says: "2 patients", files: ["c.csv": "subject,weight_kg\n1,70\n2,80\n"]),
    BadInputCase(["simulate", "--covariates", "$DIR/none.csv", "--days", "2"], 66),
  ])
  func covariates(_ c: BadInputCase) throws { try c.check() }

  @Test("cohort size: --subjects 0, negative, over the cap, not a whole number", arguments: [
    BadInputCase(["simulate", "--subjects", "0"], says: "100,000,000"),
    BadInputCase(["simulate", "--subjects", "-1"], says: "100,000,000"),
    BadInputCase(["simulate", "--subjects", "100000001"], says: "cap"),
    BadInputCase(["simulate", "--subjects", "9223372036854775807"], says: "cap"),
    BadInputCase(["simulate", "--subjects", "-9223372036854775808"]),
    BadInputCase(["simulate", "--subjects", "99999999999999999999"]),
    BadInputCase(["simulate", "--subjects", "9e18"]),
    BadInputCase(["simulate", "--subjects", "1e3"]),
    BadInputCase(["simulate", "--subjects", "nan"]),
    BadInputCase(["simulate", "--subjects", "2.5"]),
    BadInputCase(["compare", "--regimen", "300mg q2w", "--subjects", "0"]),
    BadInputCase(["simulate", "--seed", "5"], says: "cohorts"),
  ])
  func subjects(_ c: BadInputCase) throws { try c.check() }

  @Test("memory the machine does not have is refused before allocating", arguments: [
    BadInputCase(["simulate", "--step", "1e-6", "--days", "36525"], says: "rows"),
    BadInputCase(["simulate", "--subjects", "1000", "--step", "0.001", "--days", "36525"], says: "memory"),
    BadInputCase(["simulate", "--subjects", "100000000", "--step", "0.001", "--days", "36525"], says: "memory"),
    BadInputCase(["compare", "--days", "36525", "--step", "0.0004"] + BadInput.hundredRegimens, says: "memory"),
    BadInputCase(["compare", "--days", "36525", "--step", "0.0004", "--subjects", "100000000"] + BadInput.hundredRegimens, says: "memory"),
    BadInputCase(["simulate", "--regimen", "1mg q0.0001d", "--days", "36525", "--step", "100"], says: "doses"),
    BadInputCase(["simulate", "--dose", "300", "--interval", "1e-9", "--days", "7"], says: "doses"),
  ])
  func memory(_ c: BadInputCase) throws { try c.check() }

  @Test("threads, shards and tolerances", arguments: [
    BadInputCase(["simulate", "--subjects", "10", "--threads", "0"], says: "--threads"),
    BadInputCase(["simulate", "--subjects", "10", "--threads", "-1"]),
    BadInputCase(["simulate", "--subjects", "10", "--threads", "1025"]),
    BadInputCase(["simulate", "--subjects", "10", "--threads", "9223372036854775807"]),
    BadInputCase(["simulate", "--subjects", "10", "--threads", "nan"]),
    BadInputCase(["merge", "$DIR/x.csv", "--threads", "0"]),
    BadInputCase(["simulate", "--subjects", "10", "--shard", "0/3"], says: "--shard"),
    BadInputCase(["simulate", "--subjects", "10", "--shard", "4/3"]),
    BadInputCase(["simulate", "--subjects", "10", "--shard", "1/0"]),
    BadInputCase(["simulate", "--subjects", "10", "--shard", "-1/2"]),
    BadInputCase(["simulate", "--subjects", "10", "--shard", "1/2/3"]),
    BadInputCase(["simulate", "--subjects", "10", "--shard", "abc"]),
    BadInputCase(["simulate", "--subjects", "10", "--shard", "1/11"], says: "subjects"),
    BadInputCase(["simulate", "--subjects", "10", "--shard", "1/9223372036854775807"]),
    BadInputCase(["simulate", "--subjects", "10", "--shard", "99999999999999999999/3"]),
    BadInputCase(["simulate", "--shard", "1/2"], says: "cohorts"),
    BadInputCase(["simulate", "--rtol", "0"], says: "--rtol"),
    BadInputCase(["simulate", "--rtol", "-1e-8"]),
    BadInputCase(["simulate", "--rtol", "1"]),
    BadInputCase(["simulate", "--rtol", "2"]),
    BadInputCase(["simulate", "--rtol", "nan"]),
    BadInputCase(["simulate", "--atol", "0"], says: "--atol"),
    BadInputCase(["simulate", "--atol", "-1e-9"]),
    BadInputCase(["simulate", "--atol", "1"]),
    BadInputCase(["simulate", "--atol", "inf"]),
  ])
  func threadsShardsTolerances(_ c: BadInputCase) throws { try c.check() }

  @Test("arithmetic that could trap: huge counts, huge numbers, NaN where a whole number is needed", arguments: [
    BadInputCase(["simulate", "--dose", "300", "--interval", "q2w", "--doses", "1e30"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "q2w", "--doses", "nan"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "q2w", "--doses", "9223372036854775807"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "q2w", "--doses", "99999999999999999999"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "q2w", "--doses", "0"]),
    BadInputCase(["simulate", "--dose", "300", "--interval", "1e-300"], says: "doses"),
    BadInputCase(["simulate", "--dose", "1e-300", "--interval", "1e-300"]),
    BadInputCase(["simulate", "--regimen", "300mg q0.00001d", "--days", "36525"], says: "doses"),
    BadInputCase(["simulate", "--subjects", "2", "--seed", "99999999999999999999"]),
    BadInputCase(["simulate", "--subjects", "2", "--seed", "1e3"]),
    BadInputCase(["simulate", "--miss", "99999999999999999999"]),
    BadInputCase(["simulate", "--miss", "9223372036854775807"], says: "no dose"),
    BadInputCase(["simulate", "--miss", "0"]),
    BadInputCase(["simulate", "--miss", "1,,2"]),
    BadInputCase(["simulate", "--delay", "9223372036854775807:1d"], says: "no dose"),
    BadInputCase(["simulate", "--delay", "2:1e400d"]),
    BadInputCase(["simulate", "--delay", "2:nan"]),
    BadInputCase(["simulate", "--late", "2:-5d"]),
    BadInputCase(["simulate", "--regimen", "300mg q3w", "--late", "2:5d"], says: "rule"),
    BadInputCase(["simulate", "--delay", "2:5d", "--delay", "2:6d"]),
    BadInputCase(["simulate", "--weight", "1e400"]),
    BadInputCase(["simulate", "--weight", "0"]),
    BadInputCase(["simulate", "--weight", "1e308"]),
    BadInputCase(["simulate", "--indication", "ad", "--age", "1e300"]),
    BadInputCase(["simulate", "--indication", "ad", "--age", "nan"]),
    BadInputCase(["simulate", "--subjects", "5", "--adherence", "1.5"]),
    BadInputCase(["simulate", "--subjects", "5", "--weight-dist", "normal:1e300,1e300"]),
    BadInputCase(["simulate", "--subjects", "5", "--weight-dist", "normal:nan,10"]),
    BadInputCase(["simulate", "--threshold", "-1", "--metrics", "$DIR/m.csv"]),
    BadInputCase(["simulate", "--lloq", "nan", "--metrics", "$DIR/m.csv"]),
  ])
  func arithmetic(_ c: BadInputCase) throws { try c.check() }

  @Test("--param: unknown, not a number, impossible", arguments: [
    BadInputCase(["simulate", "--param", "ka=abc"]),
    BadInputCase(["simulate", "--param", "ka"]),
    BadInputCase(["simulate", "--param", "=1"]),
    BadInputCase(["simulate", "--param", "ka=-1"], says: "ka"),
    BadInputCase(["simulate", "--param", "Vc=0"], says: "Vc"),
    BadInputCase(["simulate", "--param", "V=-3"], says: "Vc"),
    BadInputCase(["simulate", "--param", "Km=0"], says: "Km"),
    BadInputCase(["simulate", "--param", "ke=nan"]),
    BadInputCase(["simulate", "--param", "F=inf"]),
    BadInputCase(["simulate", "--param", "ka=0x1p-2"], says: "not a number"),
    BadInputCase(["simulate", "--days", "0x10"], says: "--days"),
    BadInputCase(["simulate", "--param", "ntr=2.5"], says: "ntr"),
    BadInputCase(["simulate", "--param", "ntr=1e30"], says: "ntr"),
    BadInputCase(["simulate", "--param", "ntr=-1"], says: "ntr"),
    BadInputCase(["simulate", "--param", "CL=-1"]),
    BadInputCase(["simulate", "--model", "onecmt", "--param", "k12=1"], says: "k21"),
  ])
  func parameters(_ c: BadInputCase) throws { try c.check() }

  @Test("output files that cannot be created (73) or are not named (64)", arguments: [
    BadInputCase(["simulate", "--days", "3", "-o", "$DIR/no/such/dir/x.csv"], 73),
    BadInputCase(["simulate", "--days", "3", "-o", "$DIR"], 73, says: "directory"),
    BadInputCase(["simulate", "--days", "3", "--metrics", "$DIR/no/m.csv"], 73),
    BadInputCase(["simulate", "--days", "3", "--plot", "$DIR/no/p.svg"], 73),
    BadInputCase(["simulate", "--days", "3", "--report", "$DIR"], 73),
    BadInputCase(["simulate", "--days", "3", "--subjects", "2", "--per-subject", "$DIR"], 73),
    BadInputCase(["simulate", "--days", "3", "--subjects", "2", "--parameters", "$DIR/no/p.csv"], 73),
    BadInputCase(["compare", "--regimen", "300mg q2w", "--days", "3", "-o", "$DIR/no/x.csv"], 73),
    BadInputCase(["simulate", "--days", "3", "-o", ""]),
    BadInputCase(["simulate", "--days", "3", "--plot", ""]),
    BadInputCase(["simulate", "--days", "3", "-o", "$DIR/a.csv", "--plot", "$DIR/a.csv"]),
  ])
  func outputs(_ c: BadInputCase) throws { try c.check() }

  @Test("merge: damaged or foreign shard files (65), missing ones (66)", arguments: [
    BadInputCase(["merge"]),
    BadInputCase(["merge", "$DIR/none.csv"], 66),
    BadInputCase(["merge", "$DIR/s.csv"], 65, files: BadInput.shard("time_day,conc_mg_L\n0,0.0\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, files: BadInput.shard("")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "header", files: BadInput.shard("posology-shard,simulate,9000000000000000000,1/1,9000000000000000000\nsubject,regimen,0\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "header", files: BadInput.shard("posology-shard,simulate,4,1/9000000000000000000,3\nsubject,regimen,0,1,2\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "header", files: BadInput.shard("posology-shard,simulate,-4,1/1,3\nsubject,regimen,0,1,2\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "header", files: BadInput.shard("posology-shard,simulate,4,0/0,3\nsubject,regimen,0,1,2\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "header", files: BadInput.shard("posology-shard,simulate,4,3/2,3\nsubject,regimen,0,1,2\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "memory", files: BadInput.shard("posology-shard,simulate,4,1/1,3000000000\nsubject,regimen,0,1,2\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "missing", files: BadInput.shard("posology-shard,simulate,100000000,1/100000000,3\nsubject,regimen,0,1,2\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "inf", files: BadInput.shard("posology-shard,simulate,1,1/1,3\nsubject,regimen,0,1,2\n1,x,1,2,inf\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "nan", files: BadInput.shard("posology-shard,simulate,1,1/1,3\nsubject,regimen,0,1,2\n1,x,1,2,nan\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, files: BadInput.shard("posology-shard,simulate,1,1/1,3\nsubject,regimen,0,1,2\n1,x,1,2,0x1p3\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, says: "incomplete", files: BadInput.shard("posology-shard,simulate,2,1/1,3\nsubject,regimen,0,1,2\n1,x,1,2,3\n")),
    BadInputCase(["merge", "$DIR/s.csv"], 65, files: BadInput.shard("posology-shard,simulate,1,1/1,3\nsubject,regimen,0,1,2\n9223372036854775807,x,1,2,3\n")),
  ])
  func merge(_ c: BadInputCase) throws { try c.check() }

  @Test("extreme but legal parameters over 50 years: non-negative curves (exit 0), or exit 1 naming the time reached", arguments: [
    ["--method", "rodas4", "--param", "ka=1000"], ["--method", "rodas4", "--param", "ka=1e-4"], ["--method", "rodas4", "--param", "Km=1e-9"],
    ["--method", "rodas4", "--param", "Vm=1e4", "--route", "iv"], ["--method", "rodas4", "--param", "Vm=1e6"],
    ["--method", "rodas4", "--param", "Vm=1e6", "--param", "Km=1e-9"], ["--method", "dopri5", "--param", "ka=1e-4"],
    ["--method", "dopri5", "--param", "Km=1e-9"], ["--method", "dopri5", "--param", "Vm=1e6"], ["--param", "Vm=1e4", "--route", "iv"],
  ])
  func extremeParameters(_ extra: [String]) throws {
    let r = run(["simulate", "--weeks", "2600", "--step", "7"] + extra)
    if r.code == 0 {
      #expect(r.stderr.isEmpty)
      let values = r.stdout.split(separator: "\n").dropFirst().map { Double($0.split(separator: ",")[1])! }
      #expect(values.count == 2601)
      // Non-negative to the solver's tolerance: 100·atol/Vc (atol 1e-9 mg, Vc 2.76 L; see PropertyTests).
      #expect(values.allSatisfy { $0.isFinite && $0 >= -100 * 1e-9 / 2.76 }, "\(extra): \(values.min()!)")
    } else {
      BadInput.expectCleanError(r, code: 1, says: "t = ", "\(extra)")
    }
  }

  @Test("the solver giving up is exit 1, naming the time reached")
  func solverGivesUp() {
    // Michaelis–Menten with Vm/Km = 1e15/day is far too stiff for the explicit method: it runs
    // out of steps within the first day.
    let r = run(["simulate", "--method", "dopri5", "--param", "Vm=1e6", "--param", "Km=1e-9", "--days", "30"])
    BadInput.expectCleanError(r, code: 1, says: "t = ", "stiff problem on dopri5")
    #expect(r.stderr.contains("solver"))
  }
}
