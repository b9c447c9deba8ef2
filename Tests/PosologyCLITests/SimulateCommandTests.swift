import Foundation
import PKReport
import PosologyCLI
import Testing

@Suite("posology simulate: contract (DESIGN §6)")
struct SimulateCommandTests {
  static func rows(_ csv: String) -> [[String]] {
    csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
  }

  @Test("no options: default model, 75 kg, 600 → 300 mg q2w, 52 weeks, 365 rows")
  func defaultRun() {
    let (code, out, err) = run(["simulate"])
    #expect(code == 0 && err.isEmpty)
    let r = Self.rows(out)
    #expect(r[0] == ["time_day", "conc_mg_L"])
    #expect(r.count == 366)
    #expect(r[1] == ["0", "0.0"])
    #expect(r.last![0] == "364")
    #expect(!out.contains("\r"))
    // Same as the explicit form.
    #expect(run(["simulate", "--model", "kovalenko2020", "--weight", "75", "--regimen", "600mg then 300mg q2w", "--weeks", "52"]).stdout == out)
    #expect(run(["simulate", "--loading", "600", "--dose", "300", "--interval", "q2w"]).stdout == out)
    #expect(run(["simulate", "--regimen", "ad-adult"]).stdout == out)
  }

  @Test("flag form replaces the default entirely: no loading dose unless --loading")
  func flagFormReplaces() {
    let r = Self.rows(run(["simulate", "--dose", "300", "--interval", "q2w", "--days", "20"]).stdout)
    #expect(r.count == 22)
    // Without a load, day-14 (pre-dose) concentration is far below the loaded one (reference §4.3).
    let loaded = Self.rows(run(["simulate", "--days", "20"]).stdout)
    #expect(Double(r[15][1])! < 0.6 * Double(loaded[15][1])!)
    #expect(run(["simulate", "--loading", "600", "--days", "20"]).code == 0)
  }

  @Test("flag rules: --dose needs --interval; --interval/--doses need --dose; --doses ≥ 1", arguments: [
    ["--dose", "300"], ["--interval", "q2w"], ["--doses", "3"], ["--dose", "300", "--interval", "q2w", "--doses", "0"],
    ["--loading", "600", "--interval", "q2w"],
  ])
  func flagRules(args: [String]) {
    let (code, out, err) = run(["simulate"] + args)
    #expect(code == 64 && out.isEmpty && err.hasPrefix("Error: "))
  }

  @Test("one regimen source only (exit 64)", arguments: [
    ["--regimen", "300mg q2w", "--dose", "300", "--interval", "q2w"], ["--regimen", "300mg q2w", "--events", "x.csv"],
    ["--indication", "ad", "--age", "30", "--regimen", "300mg q2w"], ["--days", "10", "--weeks", "2"],
  ])
  func exclusivity(args: [String]) {
    let (code, out, err) = run(["simulate"] + args)
    #expect(code == 64 && out.isEmpty && err.hasPrefix("Error: "))
  }

  @Test("grid: --step and --days give k·step rows with clean times")
  func grid() {
    let r = Self.rows(run(["simulate", "--days", "1", "--step", "0.1"]).stdout)
    #expect(r.dropFirst().map { $0[0] } == ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"])
  }

  @Test("--route iv gives a bolus: the value at a dose time is the trough before it")
  func ivRoute() {
    let r = Self.rows(run(["simulate", "--route", "iv", "--regimen", "300mg q2w", "--days", "15"]).stdout)
    #expect(r[1][1] == "0.0")
    let day1 = Double(r[2][1])!, day14 = Double(r[15][1])!, day15 = Double(r[16][1])!
    #expect(day1 > 80 && day14 < day1 && day15 > day14 + 50)
  }

  @Test("--param overrides a typical value; CL and V aliases")
  func params() {
    let base = Self.rows(run(["simulate", "--days", "30"]).stdout)
    let faster = Self.rows(run(["simulate", "--days", "30", "--param", "ke=0.09"]).stdout)
    #expect(Double(faster[31][1])! < Double(base[31][1])!)
    let viaCL = Self.rows(run(["simulate", "--days", "30", "--param", "V=3", "--param", "CL=0.27"]).stdout)
    let viaKe = Self.rows(run(["simulate", "--days", "30", "--param", "Vc=3", "--param", "ke=0.09"]).stdout)
    for (a, b) in zip(viaCL.dropFirst(), viaKe.dropFirst()) {
      let x = Double(a[1])!, y = Double(b[1])!
      #expect(abs(x - y) <= 1e-9 * max(abs(x), 1e-300))
    }
    #expect(run(["simulate", "--param", "Vc=-1"]).code == 64)
    #expect(run(["simulate", "--param", "kz=1"]).stderr.contains("Did you mean"))
  }

  @Test("-o writes the CSV atomically and nothing to stdout; unwritable paths exit 73")
  func outputFile() throws {
    let dir = Paths.temporaryDirectory()
    let path = dir.appendingPathComponent("out.csv").path
    let (code, out, _) = run(["simulate", "--days", "3", "-o", path])
    #expect(code == 0 && out.isEmpty)
    #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("time_day,conc_mg_L\n0,0.0\n"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.csv"])
    let bad = run(["simulate", "-o", dir.appendingPathComponent("no/such/dir/x.csv").path])
    #expect(bad.code == 73 && bad.stderr.hasPrefix("Error: "))
  }

  @Test("events file: header, BOM and CRLF accepted; bad contents exit 65; missing file 66")
  func eventsFile() throws {
    let dir = Paths.temporaryDirectory()
    let good = dir.appendingPathComponent("e.csv")
    try "\u{FEFF}time_day,amount_mg,route\r\n0,600,sc\r\n14,300,SC\r\n14,100,iv\r\n".write(to: good, atomically: true, encoding: .utf8)
    let (code, out, _) = run(["simulate", "--events", good.path, "--days", "20"])
    #expect(code == 0 && out.split(separator: "\n").count == 22)
    let cases = [
      "time,amount\n0,600\n", "time_day,amount_mg\n0,abc\n", "time_day,amount_mg\n-1,600\n", "time_day,amount_mg\n14,600\n0,300\n",
      "time_day,amount_mg\n0,-600\n", "time_day,amount_mg,route\n0,600,oral\n", "time_day,amount_mg\n", "time_day,amount_mg\n0,600,3\n",
    ]
    for (i, text) in cases.enumerated() {
      let url = dir.appendingPathComponent("bad\(i).csv")
      try text.write(to: url, atomically: true, encoding: .utf8)
      let r = run(["simulate", "--events", url.path])
      #expect(r.code == 65 && r.stdout.isEmpty && r.stderr.hasPrefix("Error: "), "case \(i): \(r.stderr)")
    }
    #expect(run(["simulate", "--events", dir.appendingPathComponent("missing.csv").path]).code == 66)
  }

  @Test("errors: one Error: line (plus at most a --help pointer), nothing on stdout", arguments: [
    ["simulate", "--wieght", "70"], ["simulate", "--weight", "abc"], ["simulate", "--weight", "-3"], ["simulate", "--days", "0"],
    ["simulate", "--days", "40000"], ["simulate", "--step", "0"], ["simulate", "--rtol", "0"], ["simulate", "--rtol", "1"],
    ["simulate", "--atol", "-1"], ["simulate", "--model", "kovalenko2012"], ["simulate", "--regimen", "600mg thn 300mg"],
    ["simulat"], ["simulate", "--interval", "q0w", "--dose", "300"], ["simulate", "--dose", "nan", "--interval", "q2w"],
    ["simulate", "--weight"], ["simulate", "extra"], ["simulate", "--route", "oral"], ["simulate", "--step", "1e-7", "--days", "36500"],
  ])
  func badInput(args: [String]) {
    let (code, out, err) = run(args)
    #expect(code == 64, "\(args): \(code) \(err)")
    #expect(out.isEmpty)
    let lines = err.split(separator: "\n")
    #expect(lines.first?.hasPrefix("Error: ") == true)
    #expect(lines.count == 1 || (lines.count == 2 && lines[1].contains("--help")), "\(err)")
  }

  @Test("help and version go to stdout with exit 0")
  func helpAndVersion() {
    for args in [["--help"], ["help"], ["simulate", "--help"], ["help", "simulate"], ["-h"], ["models", "-h"]] {
      let (code, out, err) = run(args)
      #expect(code == 0 && !out.isEmpty && err.isEmpty, "\(args)")
    }
    #expect(run(["simulate", "--help"]).stdout == run(["help", "simulate"]).stdout)
    #expect(run(["--version"]).stdout == "posology \(Posology.version)\n")
    #expect(run(["help", "nothing"]).code == 64)
  }

  @Test("models lists every shipped model with its citation")
  func models() {
    let out = run(["models"]).stdout
    for name in ["kovalenko2020 (default)", "kovalenko2016", "zhang2021", "onecmt", "doi:10.1002/cpdd.780", "doi:10.1002/psp4.12667"] {
      #expect(out.contains(name), "\(name)")
    }
  }
}

@Suite("The built binary, end to end")
struct BinaryTests {
  @Test("default run from another working directory: header, 365 rows, exit 0")
  func defaultRun() throws {
    let r = try runBinary(["simulate"], currentDirectory: FileManager.default.temporaryDirectory)
    #expect(r.code == 0 && r.stderr.isEmpty)
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.first == "time_day,conc_mg_L" && lines.count == 366)
  }

  @Test("a bad flag exits 64 with an Error: line and nothing on stdout")
  func badFlag() throws {
    let r = try runBinary(["simulate", "--bogus"])
    #expect(r.code == 64 && r.stdout.isEmpty && r.stderr.hasPrefix("Error: "))
  }

  @Test("a copied binary still works (built-in profiles), and agrees with Profiles/")
  func copiedBinary() throws {
    guard let binary = Paths.binary else { Issue.record("no binary"); return }
    let dir = Paths.temporaryDirectory()
    let copy = dir.appendingPathComponent("posology")
    try FileManager.default.copyItem(at: binary, to: copy)
    let process = Process()
    process.executableURL = copy
    process.arguments = ["simulate"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    #expect(String(decoding: data, as: UTF8.self) == (try runBinary(["simulate"])).stdout)
  }
}

@Suite("Built-in profiles")
struct EmbeddedProfilesTests {
  @Test("the embedded copy is byte-identical to Profiles/*.json (run Profiles/embed.sh after editing)")
  func embeddedMatchesFiles() throws {
    let dir = Paths.packageRoot.appendingPathComponent("Profiles")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
    let embedded = ProfileLibrary.builtInFiles
    #expect(embedded.map(\.name) == names)
    for (name, contents) in embedded {
      let onDisk = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
      #expect(onDisk == contents + "\n" || onDisk == contents, "\(name) differs from the built-in copy")
    }
    let fromDisk = try ProfileLibrary.load(directory: dir.path)
    #expect(fromDisk.models == ProfileLibrary.builtIn().models)
    #expect(fromDisk.regimens == ProfileLibrary.builtIn().regimens)
  }

  @Test("--profiles DIR is honoured; a broken profile is exit 65, a missing folder 66")
  func profilesOption() throws {
    let dir = Paths.temporaryDirectory()
    try "{\"drug\": \"x\", \"description\": \"y\", \"models\": [{\"name\": \"m\", \"title\": \"t\", \"citation\": \"c\", \"referenceWeightKg\": 70, \"typical\": {\"Vc\": -2, \"ke\": 0.1}}]}"
      .write(to: dir.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
    let r = run(["simulate", "--profiles", dir.path, "--model", "m"])
    #expect(r.code == 65 && r.stderr.hasPrefix("Error: ") && r.stderr.contains("Vc"))
    #expect(run(["models", "--profiles", dir.appendingPathComponent("nope").path]).code == 66)
    try "{\"drug\": 1}".write(to: dir.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
    #expect(run(["models", "--profiles", dir.path]).code == 65)
  }
}
