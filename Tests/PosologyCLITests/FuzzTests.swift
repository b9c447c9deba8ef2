import Foundation
import PKCore
import PKReport
import PosologyCLI
import Testing

/// SplitMix64 with a fixed seed: the fuzz cases are the same on every run.
struct FuzzRandom {
  var generator: SplitMix64
  init(seed: UInt64) { generator = SplitMix64(state: seed) }
  mutating func next() -> UInt64 { generator.next() }
  mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
  mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) * 0x1p-53 < p }
  mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}

/// Generators of regimen texts, events files and command lines: drawn from the grammar with
/// good and bad pieces, then mutated character by character.
enum Fuzz {
  static let noise: [Character] = Array("0123456789 .,-+eExXqQwWdDmgMGthenforuntil:;/\"'\\\t\n\r\u{0}é∞😀").map { $0 }

  /// Inserts, deletes, replaces, duplicates or truncates characters.
  static func mutate(_ text: String, _ r: inout FuzzRandom, times: Int) -> String {
    var chars = Array(text)
    for _ in 0..<times {
      let at = chars.isEmpty ? 0 : r.int(0...(chars.count - 1))
      switch r.int(0...4) {
      case 0: chars.insert(r.pick(noise), at: chars.isEmpty ? 0 : at)
      case 1: if !chars.isEmpty { chars.remove(at: at) }
      case 2: if !chars.isEmpty { chars[at] = r.pick(noise) }
      case 3:
        if !chars.isEmpty {
          let end = Swift.min(chars.count, at + r.int(1...6))
          chars.insert(contentsOf: chars[at..<end], at: at)
        }
      default: if !chars.isEmpty { chars = Array(chars[..<at]) }
      }
    }
    return String(chars)
  }

  static let amounts = ["300", "600", "200", "0", "-1", "1e3", ".5", "5.", "00300", "1000000", "1000001", "99999999999999999999", "1e400", "nan", "", "3.0.0", "0.000001"]
  static let units = ["mg", "mg", "mg", "MG", " mg", "mcg", ""]
  static let intervals = ["q2w", "qw", "q4w", "q3d", "14", "14d", "2w", "q0w", "q.5w", "q1e-9d", "0.1d", "q", "qd", "q2", "w", "1e30w", "7d", ""]
  static let counts = ["", "", "x6", "x0", "x1", "x10000000", "x10000001", "x1.5", "x", "X3", "x-2", "x99999999999999999999"]
  static let stops = ["", "", "", "for 16w", "until 16w", "for 0w", "until 1e9d", "for", "until 3", "for 12 w", "until 1e400w", "FOR 2W"]
  static let joins = [" then ", " then ", "then", " THEN ", ", ", " ", " then then "]

  /// Intervals short enough to give millions of doses over a year or more.
  static let tinyIntervals = ["0.001d", "q0.0001d", "q0.00001d x5"]

  /// Regimen text; `tiny` also draws intervals of minutes (parser-level cases with short
  /// horizons, where millions of doses are cheap to list but slow to simulate).
  static func regimen(_ r: inout FuzzRandom, tiny: Bool = false) -> String {
    if r.chance(0.4) { return cleanRegimen(&r) }
    var phases: [String] = []
    for _ in 0..<r.int(1...4) {
      var p = r.pick(amounts) + r.pick(units)
      if r.chance(0.7) { p += " " + r.pick(tiny && r.chance(0.1) ? tinyIntervals : intervals) }
      p += " " + r.pick(counts) + " " + r.pick(stops)
      phases.append(p)
    }
    var text = phases[0]
    for p in phases.dropFirst() { text += r.pick(joins) + p }
    return r.chance(0.4) ? mutate(text, &r, times: r.int(1...4)) : text
  }

  /// Regimen text from good pieces only (it may still break a rule, e.g. an unbounded first phase).
  static func cleanRegimen(_ r: inout FuzzRandom) -> String {
    let n = r.int(1...3)
    return (0..<n).map { i in
      var p = r.pick(["300", "600", "200", "0.5", "1000000", "00300", "150.25"]) + r.pick(["mg", "MG", " mg "])
      if r.chance(0.8) { p += " " + r.pick(["q2w", "qw", "q4w", "q3d", "14", "14d", "2w", "q1.5w", "7d"]) }
      if i < n - 1 || r.chance(0.3) { p += " " + r.pick(["x6", "x1", "X3", "for 16w", "until 16w", "FOR 2W", "x2 for 4w"]) }
      return p
    }.joined(separator: r.pick([" then ", "THEN", "  then  "]))
  }

  static let headers = ["time_day,amount_mg", "time_day,amount_mg", "time_day,amount_mg,route", "Time_Day , AMOUNT_MG", "time,amount", "time_day;amount_mg", "", "\"time_day\",\"amount_mg\"", "time_day,amount_mg,route,x"]
  static let times = ["0", "14", "1.5", "28", "-1", "-0", "1e3", "1e400", "nan", "inf", "0x10", "", " 7 ", "\"28\"", "abc", "3e-300", "1e308", "56.000000001"]
  static let doseAmounts = ["600", "300", "0", "-300", "1e6", "1e7", "nan", "", "1e-300", "\"300\"", "3,00", "300mg", "0.5"]
  static let routes = ["sc", "iv", "IV", "Sc", "oral", "", " iv "]
  static let lineEnds = ["\n", "\n", "\r\n", "\r"]

  /// An events file and whether it was drawn from the valid pieces only (then it must parse).
  static func events(_ r: inout FuzzRandom) -> (text: String, valid: Bool, doses: [(Double, Double, Route)]) {
    let valid = r.chance(0.3)
    let withRoute = r.chance(0.5)
    let end = r.pick(lineEnds)
    var text = (r.chance(0.2) ? "\u{FEFF}" : "") + (valid ? (withRoute ? "time_day,amount_mg,route" : "time_day,amount_mg") : r.pick(headers)) + end
    var doses: [(Double, Double, Route)] = []
    var t = 0.0
    for _ in 0..<r.int(valid ? 1...6 : 0...6) {
      if valid {
        t += Double(r.int(0...20)) / 2
        let amount = Double(r.int(1...1000))
        let route: Route = r.chance(0.5) ? .sc : .iv
        doses.append((t, amount, withRoute ? route : .sc))
        text += "\(t),\(amount)" + (withRoute ? ",\(route.rawValue.uppercased())" : "") + end
      } else {
        text += r.pick(times) + "," + r.pick(doseAmounts) + (r.chance(0.5) ? "," + r.pick(routes) : "") + end
      }
      if r.chance(0.1) { text += end }
    }
    if !valid && r.chance(0.5) { text = mutate(text, &r, times: r.int(1...3)) }
    return (text, valid, doses)
  }

  static let models = ["kovalenko2020", "kovalenko2016", "zhang2021", "onecmt", "twocmt", "kovalenko2012", "", "ONECMT"]
  static let steps = ["1", "0.5", "0.25", "2", "7", "0", "-1", "nan", "1e-300", "1e300", "0.3"]
  static let values = ["0", "-1", "1", "nan", "inf", "1e400", "abc", "", "9223372036854775807", "99999999999999999999", "1e30", "0.5", "3", "2/3", "1:2d", "=", "--days"]

  /// A command line: mostly plausible options with plausible values, some bad ones, then mutated.
  static func commandLine(_ r: inout FuzzRandom, files: FuzzFiles) -> [String] {
    let command = r.pick(["simulate", "simulate", "simulate", "simulate", "compare", "compare", "regimens", "models", "merge", "help", "plot", "simulat", ""])
    var args = [command]
    func option(_ name: String, _ value: String) { args += r.chance(0.1) ? ["\(name)=\(value)"] : [name, value] }
    switch command {
    case "merge":
      args += (0..<r.int(0...3)).map { _ in r.pick(files.shards) }
      if r.chance(0.3) { option("-o", files.output(&r)) }
    case "regimens", "models":
      if r.chance(0.5) { option("--indication", r.pick(["ad", "asthma", "adx", "", "AD"])) }
    case "help":
      if r.chance(0.7) { args.append(r.pick(["simulate", "compare", "merge", "nothing", "--help"])) }
    default:
      option(r.chance(0.85) ? "--days" : r.pick(["--weeks", "--days"]), r.chance(0.85) ? "\(r.int(7...60))" : r.pick(values))
      if r.chance(0.3) { option("--model", r.pick(models)) }
      if r.chance(0.3) { option("--step", r.pick(steps)) }
      if command == "compare" || r.chance(0.4) {
        for _ in 0..<r.int(1...3) { option("--regimen", r.chance(0.5) ? regimen(&r) : r.pick(["600mg then 300mg q2w", "300mg q4w x6", "ad-adult", "ad-adlt", "asthma-400"])) }
      }
      if r.chance(0.2) {
        option("--dose", r.pick(["300", "0", "-5", "1e30", "nan"]))
        if r.chance(0.8) { option("--interval", r.pick(intervals)) }
        if r.chance(0.3) { option("--doses", r.pick(["1", "3", "0", "1e30", "9223372036854775807", "nan"])) }
        if r.chance(0.3) { option("--loading", r.pick(["600", "0", "-1", "2e6"])) }
      }
      if r.chance(0.15) { option("--events", r.pick(files.events)) }
      if r.chance(0.1) { option("--route", r.pick(["sc", "iv", "oral", "IV"])) }
      if r.chance(0.1) { option("--weight", r.pick(["75", "30", "0", "700", "1e400", "-3"])) }
      if r.chance(0.15) { option("--param", r.pick(["ka=0.5", "ke=0.1", "Vm=0", "Km=1e-9", "ntr=2.5", "kz=1", "V=3", "CL=0.3", "ka=-1", "F=2", "ka=1000", "ka=1e-4"])) }
      if r.chance(0.1) { option("--method", r.pick(["dopri5", "rodas4", "auto", "rk4"])) }
      if r.chance(0.1) { option(r.pick(["--rtol", "--atol"]), r.pick(["1e-6", "1e-9", "0", "1", "nan", "-1e-8"])) }
      if r.chance(0.1) { option(r.pick(["--miss", "--delay", "--late"]), r.pick(["2", "2,3", "0", "2:5d", "3:1w", "99999999999999999999", "2:-1d", "1:1e400d", ""])) }
      if r.chance(0.08) { option("--indication", r.pick(["ad", "asthma", "adx"])); option("--age", r.pick(["30", "8", "-1", "nan"])) }
      if r.chance(0.1) {
        option("--subjects", r.pick(["1", "2", "3", "0", "-1", "9e18", "100000001", "abc"]))
        option("--threads", r.pick(["1", "2", "0"]))
        if r.chance(0.3) { option("--seed", r.pick(["1", "42", "-1", "99999999999999999999"])) }
        if r.chance(0.2) { option("--weight-dist", r.pick(["normal:75,15", "normal:75,15,40,150", "normal:nan,1", "uniform:1,2"])) }
        if r.chance(0.2) { option("--shard", r.pick(["1/2", "2/2", "0/1", "3/2", "1/0"])) }
        if r.chance(0.1) { option("--adherence", r.pick(["0.8", "2", "nan"])) }
        if r.chance(0.1) { option("--per-subject", files.output(&r)) }
        if r.chance(0.1) { option("--covariates", r.pick(files.covariates)) }
      }
      if r.chance(0.08) { option(r.pick(["--metrics", "--interval-metrics"]), files.output(&r)) }
      if r.chance(0.05) { option("--threshold", r.pick(["10", "-1", "nan"])) }
      if r.chance(0.05) { option("--lloq", r.pick(["0.078", "0", "nan"])) }
      if r.chance(0.08) { option("-o", files.output(&r)) }
      if r.chance(0.05) { args.append(r.pick(["--bogus", "--days", "--observed", "extra", "-", "--", "-5", "--subjects"])) }
    }
    // Mutate: drop, duplicate or swap an argument, replace a value, or garble characters.
    if r.chance(0.3) {
      for _ in 0..<r.int(1...3) where args.count > 1 {
        let i = r.int(1...(args.count - 1))
        switch r.int(0...4) {
        case 0: args.remove(at: i)
        case 1: args.insert(args[i], at: i)
        case 2: args.swapAt(i, r.int(1...(args.count - 1)))
        case 3: args[i] = r.pick(values)
        default: args[i] = mutate(args[i], &r, times: r.int(1...3))
        }
      }
    }
    return files.confine(args)
  }
}

/// Input files shared by the command-line cases: events, covariates, shard files (valid and
/// mutated) and output paths in one temporary folder.
struct FuzzFiles {
  let dir: URL
  var events: [String] = []
  var covariates: [String] = []
  var shards: [String] = []

  init(_ r: inout FuzzRandom) throws {
    dir = Paths.temporaryDirectory()
    for i in 0..<24 {
      let path = dir.appendingPathComponent("events\(i).csv").path
      try Data(Fuzz.events(&r).text.utf8).write(to: URL(fileURLWithPath: path))
      events.append(path)
    }
    events += [dir.appendingPathComponent("missing.csv").path, dir.path]
    for (i, text) in ["subject,weight_kg\n1,70\n2,90\n", "subject,weight_kg\n1,abc\n", "id,wt\n1,70\n", "subject,weight_kg\n1,0x46\n"].enumerated() {
      let path = dir.appendingPathComponent("cov\(i).csv").path
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
      covariates.append(path)
    }
    // Two real shards, then mutated copies of them.
    var real: [String] = []
    for k in 1...2 {
      let path = dir.appendingPathComponent("shard\(k).csv").path
      let code = Posology.run(["simulate", "--subjects", "4", "--days", "3", "--shard", "\(k)/2", "-o", path], console: CapturingConsole())
      #expect(code == 0)
      real.append(path)
    }
    shards = real
    for i in 0..<16 {
      let text = (try? String(contentsOfFile: real[i % 2], encoding: .utf8)) ?? ""
      let path = dir.appendingPathComponent("mutated-shard\(i).csv").path
      try Data(Fuzz.mutate(text, &r, times: r.int(1...4)).utf8).write(to: URL(fileURLWithPath: path))
      shards.append(path)
    }
  }

  static let outputOptions = ["-o", "--output", "--metrics", "--interval-metrics", "--per-subject", "--parameters", "--plot", "--report"]

  /// Keeps every output inside the fuzz folder: a mutation may turn an output path into any
  /// text, which must not become a file in the working directory.
  func confine(_ args: [String]) -> [String] {
    var args = args
    for i in args.indices {
      if Self.outputOptions.contains(args[i]), i + 1 < args.count, !args[i + 1].isEmpty, !args[i + 1].hasPrefix(dir.path), !args[i + 1].hasPrefix("--") {
        args[i + 1] = dir.appendingPathComponent("confined.csv").path
      }
      if let eq = args[i].firstIndex(of: "="), Self.outputOptions.contains(String(args[i][..<eq])),
        !args[i][args[i].index(after: eq)...].hasPrefix(dir.path)
      {
        args[i] = String(args[i][..<eq]) + "=" + dir.appendingPathComponent("confined.csv").path
      }
    }
    return args
  }

  func output(_ r: inout FuzzRandom) -> String {
    r.pick([dir.appendingPathComponent("out.csv").path, dir.appendingPathComponent("no/such/out.csv").path, dir.path, ""])
  }
}

@Suite("Fuzz: generated and mutated input never traps; every case is valid or a clean error")
struct FuzzTests {
  @Test("regimen text: 5,000 generated and mutated strings")
  func regimenText() {
    var r = FuzzRandom(seed: 0xF022_0001)
    var valid = 0
    for i in 0..<5_000 {
      let text = Fuzz.regimen(&r, tiny: true)
      let horizon = r.chance(0.9) ? r.pick([1, 7, 30, 60, 90.5]) : r.pick([364, 36_525])
      do {
        let regimen = try RegimenText.parse(text)
        try regimen.checkDoseCount(horizon: horizon)
        let doses = regimen.doses(horizon: horizon)
        valid += 1
        #expect(doses.count <= Regimen.maximumDoses, "case \(i) \(text.debugDescription)")
        #expect(zip(doses, doses.dropFirst()).allSatisfy { $0.time <= $1.time }, "case \(i): unsorted \(text.debugDescription)")
        for d in doses {
          #expect(d.time >= 0 && d.time < horizon && d.amount > 0 && d.amount <= 1e6 && d.amount.isFinite, "case \(i): \(d) from \(text.debugDescription)")
        }
      } catch {
        #expect(!error.problem.isEmpty && !error.fix.isEmpty, "case \(i) \(text.debugDescription)")
        let message = UserError(error.problem, fix: error.fix, kind: .usage).description
        #expect(message.hasPrefix("Error: ") && !message.contains("\n"), "case \(i): \(message)")
      }
    }
    #expect(valid > 250 && valid < 4_750, "\(valid) of 5,000 regimen texts parsed: the generator is degenerate")
  }

  @Test("events files: 3,000 generated and mutated files")
  func eventsFiles() {
    var r = FuzzRandom(seed: 0xF022_0002)
    var parsed = 0
    for i in 0..<3_000 {
      let (text, valid, expected) = Fuzz.events(&r)
      // As read from disk: TextFile drops a byte-order mark.
      let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
      do {
        let doses = try EventsFile.parse(body, path: "e.csv")
        parsed += 1
        #expect(!doses.isEmpty && doses.count <= Regimen.maximumDoses)
        #expect(zip(doses, doses.dropFirst()).allSatisfy { $0.time <= $1.time }, "case \(i): unsorted \(text.debugDescription)")
        for d in doses {
          #expect(d.time >= 0 && d.time.isFinite && d.amount > 0 && d.amount <= 1e6, "case \(i): \(d) from \(text.debugDescription)")
        }
        if valid {
          #expect(doses.map { [$0.time, $0.amount] } == expected.map { [$0.0, $0.1] } && doses.map(\.route) == expected.map(\.2), "case \(i) \(text.debugDescription)")
        }
      } catch {
        #expect(!valid, "case \(i): a valid file was refused: \(error.description) \(text.debugDescription)")
        #expect(error.exitCode == 65, "case \(i): \(error.exitCode)")
        #expect(error.description.hasPrefix("Error: ") && !error.description.contains("\n") && !error.description.contains("\r"), "case \(i): \(error.description)")
      }
    }
    #expect(parsed > 300 && parsed < 2_700, "\(parsed) of 3,000 events files parsed: the generator is degenerate")
  }

  @Test("command lines: 4,000 generated and mutated flag sets, run in-process")
  func commandLines() throws {
    var r = FuzzRandom(seed: 0xF022_0003)
    let files = try FuzzFiles(&r)
    defer { try? FileManager.default.removeItem(at: files.dir) }
    var outcomes: [Int32: Int] = [:]
    let before = Set((try? FileManager.default.contentsOfDirectory(atPath: FileManager.default.currentDirectoryPath)) ?? [])
    var used: Set<String> = []
    for i in 0..<4_000 {
      let args = Fuzz.commandLine(&r, files: files)
      used.formUnion(args)
      let console = CapturingConsole()
      let code = Posology.run(args, console: console)
      outcomes[code, default: 0] += 1
      let what = "case \(i): \(args.map(\.debugDescription).joined(separator: " "))"
      #expect([0, 1, 64, 65, 66, 73].contains(code), "\(what): exit \(code)")
      if code == 0 {
        #expect(console.stderr.isEmpty, "\(what): stderr on success: \(console.stderr.prefix(300))")
      } else {
        BadInput.expectCleanError((code, console.stdout, console.stderr), code: code, what)
      }
      let stray = (try? FileManager.default.contentsOfDirectory(atPath: files.dir.path))?.filter { $0.hasSuffix(".tmp") } ?? []
      #expect(stray.isEmpty, "\(what): temporary files left: \(stray)")
    }
    let after = Set((try? FileManager.default.contentsOfDirectory(atPath: FileManager.default.currentDirectoryPath)) ?? [])
    let created = after.subtracting(before).intersection(used)
    #expect(created.isEmpty, "files created in the working directory: \(created)")
    #expect((outcomes[0] ?? 0) > 400 && (outcomes[64] ?? 0) > 400, "outcomes \(outcomes): the generator is degenerate")
    #expect((outcomes[65] ?? 0) > 0 && (outcomes[66] ?? 0) > 0 && (outcomes[73] ?? 0) > 0, "outcomes \(outcomes)")
  }
}
