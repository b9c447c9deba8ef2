import Foundation
import PosologyCLI
import Testing

/// Outputs are written to a temporary file beside the target and renamed over it (DESIGN §6
/// `-o`): a failed or interrupted run leaves every good file as it was and no temporary file.
@Suite("Atomic outputs, interrupted runs and closed pipes")
struct AtomicOutputTests {
  /// A folder holding good outputs with distinct contents; `check()` asserts they are unchanged
  /// and that nothing else (no temporary file) appeared.
  struct GoodFiles {
    let dir = Paths.temporaryDirectory()
    let names: [String]
    var contents: [String: Data] = [:]

    init(_ names: [String], extra: [String: String] = [:]) throws {
      self.names = names
      for name in names {
        let data = Data("GOOD \(name) \(UUID().uuidString)\n1,2,3\n".utf8)
        try data.write(to: dir.appendingPathComponent(name))
        contents[name] = data
      }
      for (name, text) in extra { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func check(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
      for name in names {
        let now = try Data(contentsOf: dir.appendingPathComponent(name))
        #expect(now == contents[name], "\(what): \(name) changed", sourceLocation: sourceLocation)
      }
      let stray = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") || $0.hasSuffix(".tmp") }
      #expect(stray.isEmpty, "\(what): left behind \(stray)", sourceLocation: sourceLocation)
    }
  }

  /// Far too stiff for the explicit method: it gives up within the first day (exit 1).
  static let failingSolver = ["--method", "dopri5", "--param", "Vm=1e6", "--param", "Km=1e-9"]

  @Test("a run that fails leaves existing outputs byte-identical and no temporary files")
  func failedRunsKeepGoodFiles() throws {
    let g = try GoodFiles(["out.csv", "m.csv", "im.csv", "p.svg", "r.html", "ps.csv", "pa.csv"])
    let outputs = ["-o", g.path("out.csv"), "--metrics", g.path("m.csv"), "--interval-metrics", g.path("im.csv"), "--plot", g.path("p.svg"), "--report", g.path("r.html")]
    let cases: [(String, [String], Int32)] = [
      ("typical, solver fails", ["simulate", "--days", "30"] + Self.failingSolver + outputs, 1),
      ("compare, solver fails", ["compare", "--regimen", "300mg q2w", "--regimen", "600mg q4w", "--days", "30"] + Self.failingSolver + outputs, 1),
      ("cohort, solver fails", ["simulate", "--subjects", "6", "--days", "30", "--per-subject", g.path("ps.csv"), "--parameters", g.path("pa.csv")] + Self.failingSolver + outputs, 1),
      ("shard, solver fails", ["simulate", "--subjects", "6", "--shard", "1/2", "--days", "30", "-o", g.path("out.csv")] + Self.failingSolver, 1),
      ("bad option after the outputs", ["simulate", "--days", "30"] + outputs + ["--rtol", "2"], 64),
      ("bad regimen", ["compare", "--regimen", "300mg q2w", "--regimen", "300mg q0w", "--days", "30"] + outputs, 64),
      ("one output cannot be created", ["simulate", "--days", "30", "-o", g.path("out.csv"), "--metrics", g.path("no/such/m.csv")], 73),
    ]
    for (what, args, code) in cases {
      let r = run(args)
      BadInput.expectCleanError(r, code: code, what)
      try g.check(what)
    }
  }

  @Test("a cohort failing in a later batch discards the per-subject rows already written")
  func laterBatchFails() throws {
    // 4,100 patients: the first batch (4,096) is written to --per-subject's temporary file before
    // the last patient, whose weight makes Vm huge (exponent 20), stops the explicit solver.
    var covariates = "subject,weight_kg\n"
    for i in 1...4_100 { covariates += "\(i),\(i == 4_100 ? 700 : 70)\n" }
    let profile = #"{"drug": "x", "description": "y", "models": [{"name": "m", "title": "t", "citation": "c", "referenceWeightKg": 70, "typical": {"ka": 0.3, "F": 0.6, "Vc": 3, "ke": 0.05, "Vm": 1, "Km": 1e-6}, "weightExponents": {"Vm": 20}}]}"#
    let g = try GoodFiles(["ps.csv", "pa.csv", "out.csv"], extra: ["c.csv": covariates, "p.json": profile])
    let r = run([
      "simulate", "--model", g.path("p.json"), "--covariates", g.path("c.csv"), "--days", "10", "--method", "dopri5",
      "--per-subject", g.path("ps.csv"), "--parameters", g.path("pa.csv"), "-o", g.path("out.csv"), "--threads", "2",
    ])
    BadInput.expectCleanError(r, code: 1, says: "t = ", "late failure")
    try g.check("late failure")
  }

  @Test("a successful run replaces the file; a symbolic link keeps pointing at the new file")
  func replaceAndSymlink() throws {
    let g = try GoodFiles(["real.csv"])
    try FileManager.default.createSymbolicLink(atPath: g.path("link.csv"), withDestinationPath: "real.csv")
    #expect(run(["simulate", "--days", "3", "-o", g.path("link.csv")]).code == 0)
    let attributes = try FileManager.default.attributesOfItem(atPath: g.path("link.csv"))
    #expect(attributes[.type] as? FileAttributeType == .typeSymbolicLink)
    #expect(try String(contentsOfFile: g.path("real.csv"), encoding: .utf8).hasPrefix("time_day,conc_mg_L\n0,0.0\n1,"))
    let names = try FileManager.default.contentsOfDirectory(atPath: g.dir.path).sorted()
    #expect(names == ["link.csv", "real.csv"])
  }

  @Test("a pipe (FIFO) as output is written in place, not replaced by a file")
  func fifoOutput() throws {
    let dir = Paths.temporaryDirectory()
    let fifo = dir.appendingPathComponent("pipe.csv").path
    #expect(mkfifo(fifo, 0o600) == 0)
    let reader = Process()
    reader.executableURL = URL(fileURLWithPath: "/bin/cat")
    reader.arguments = [fifo]
    let pipe = Pipe()
    reader.standardOutput = pipe
    try reader.run()
    let r = run(["simulate", "--days", "3", "-o", fifo])
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    reader.waitUntilExit()
    #expect(r.code == 0 && r.stderr.isEmpty, "\(r.stderr)")
    #expect(String(decoding: data, as: UTF8.self).hasPrefix("time_day,conc_mg_L\n0,0.0\n"))
    let type = try FileManager.default.attributesOfItem(atPath: fifo)[.type] as? FileAttributeType
    #expect(type != .typeRegular, "the FIFO was replaced by a regular file")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["pipe.csv"])
  }

  @Test("an interrupted run (SIGINT, SIGTERM) keeps the good files and removes its temporary files", arguments: [SIGINT, SIGTERM, SIGHUP])
  func interrupted(signal: Int32) throws {
    guard let binary = Paths.binary else { Issue.record("the posology binary was not found"); return }
    let g = try GoodFiles(["ps.csv", "out.csv"])
    let process = Process()
    process.executableURL = binary
    process.arguments = ["simulate", "--subjects", "200000", "--days", "60", "--per-subject", g.path("ps.csv"), "-o", g.path("out.csv"), "--threads", "1"]
    process.standardOutput = FileHandle.nullDevice
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    // Wait until the per-subject temporary file exists and has rows in it.
    let deadline = Date().addingTimeInterval(30)
    var writing = false
    while Date() < deadline && process.isRunning && !writing {
      let temporaries = (try? FileManager.default.contentsOfDirectory(atPath: g.dir.path))?.filter { $0.hasSuffix(".tmp") } ?? []
      writing = temporaries.contains { name in
        ((try? FileManager.default.attributesOfItem(atPath: g.path(name)))?[.size] as? NSNumber)?.intValue ?? 0 > 0
      }
      if !writing { Thread.sleep(forTimeInterval: 0.05) }
    }
    #expect(writing && process.isRunning, "the run never started writing, or ended first")
    kill(process.processIdentifier, signal)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal, "\(process.terminationReason) \(process.terminationStatus)")
    try g.check("signal \(signal)")
    _ = errors.fileHandleForReading.readDataToEndOfFile()
  }

  /// Runs the binary, reads `bytes` bytes of its stdout, closes the pipe and waits.
  static func closeEarly(_ arguments: [String], after bytes: Int) throws -> (reason: Process.TerminationReason, status: Int32, stderr: String, read: String) {
    guard let binary = Paths.binary else { Issue.record("the posology binary was not found"); return (.exit, -1, "", "") }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let head = out.fileHandleForReading.readData(ofLength: bytes)
    try out.fileHandleForReading.close()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationReason, process.terminationStatus, String(decoding: errData, as: UTF8.self), String(decoding: head, as: UTF8.self))
  }

  @Test("'posology … | head' exits quietly: status 0, nothing on stderr", arguments: [
    ["simulate", "--days", "36525", "--step", "0.01"],
    ["compare", "--regimen", "300mg q2w", "--regimen", "300mg q4w", "--days", "3650", "--step", "0.01"],
    ["simulate", "--subjects", "3000", "--days", "300", "--shard", "1/1"],
    ["simulate", "--days", "36525", "--step", "0.01", "-o", "/dev/fd/1"],
    ["regimens"],
  ])
  func closedPipe(_ arguments: [String]) throws {
    let r = try Self.closeEarly(arguments, after: 20)
    #expect(r.reason == .exit && r.status == 0, "\(arguments): \(r.reason) \(r.status)")
    #expect(r.stderr.isEmpty, "\(arguments): \(r.stderr)")
    #expect(!r.read.isEmpty)
  }
}
