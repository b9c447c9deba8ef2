import Foundation
import PosologyCLI
import Testing

@Suite("posology simulate/compare --subjects, --shard and merge")
struct CohortCommandTests {
  static let base = ["--subjects", "400", "--days", "42", "--weight-dist", "normal:75,15", "--observed"]

  @Test("summary columns; byte-identical for --threads 1 and --threads 4")
  func threads() {
    let one = run(["simulate"] + Self.base + ["--threads", "1"])
    let four = run(["simulate"] + Self.base + ["--threads", "4"])
    #expect(one.code == 0 && one.stderr.isEmpty)
    #expect(one.stdout.hasPrefix("time_day,mean,sd,p05,p25,p50,p75,p95\n0,"))
    #expect(one.stdout.split(separator: "\n").count == 44)
    #expect(one.stdout == four.stdout)
  }

  @Test("4 shards merged (in any order) are byte-identical to one run; compare too")
  func shards() throws {
    let dir = Paths.temporaryDirectory()
    for command in ["simulate", "compare"] {
      let regimens = command == "compare" ? ["--regimen", "ad-adult", "--regimen", "600mg then 300mg q4w"] : []
      let whole = run([command] + regimens + Self.base)
      var files: [String] = []
      for k in 1...4 {
        let path = dir.appendingPathComponent("\(command)-\(k).csv").path
        let r = run([command] + regimens + Self.base + ["--shard", "\(k)/4", "--threads", "\(k % 2 + 1)", "-o", path])
        #expect(r.code == 0, "\(r.stderr)")
        files.append(path)
      }
      let merged = run(["merge"] + files.reversed())
      #expect(merged.code == 0, "\(merged.stderr)")
      #expect(merged.stdout == whole.stdout, "\(command)")
      // A missing shard or a shard from another run is refused.
      #expect(run(["merge"] + files.dropLast()).code == 65)
      #expect(run(["merge", files[0], files[0], files[2], files[3]]).code == 65)
    }
    let other = dir.appendingPathComponent("other.csv").path
    _ = run(["simulate", "--subjects", "400", "--days", "43", "--shard", "1/4", "-o", other])
    #expect(run(["merge", other] + (2...4).map { dir.appendingPathComponent("simulate-\($0).csv").path }).code == 65)
  }

  @Test("compare runs every regimen on the same patients (common random numbers)")
  func commonPatients() throws {
    let dir = Paths.temporaryDirectory()
    let a = dir.appendingPathComponent("a.csv").path, b = dir.appendingPathComponent("b.csv").path
    _ = run(["simulate", "--subjects", "20", "--days", "5", "--weight-dist", "normal:75,15", "--regimen", "300mg q2w", "--parameters", a])
    _ = run(["simulate", "--subjects", "20", "--days", "5", "--weight-dist", "normal:75,15", "--regimen", "600mg q4w", "--parameters", b])
    let pa = try String(contentsOfFile: a, encoding: .utf8), pb = try String(contentsOfFile: b, encoding: .utf8)
    #expect(pa == pb)
    #expect(pa.split(separator: "\n").count == 21)
    #expect(pa.hasPrefix("subject,weight_kg,eta_Vc,eta_ke,ka,F,Vc,ke,"))
  }

  @Test("per-subject output: subject,time_day,conc_mg_L[,blq], subjects from 1; BLQ written as 0")
  func perSubject() throws {
    let dir = Paths.temporaryDirectory()
    let path = dir.appendingPathComponent("ps.csv").path
    let r = run(["simulate", "--subjects", "3", "--days", "2", "--observed", "--per-subject", path])
    #expect(r.code == 0)
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    #expect(lines[0] == "subject,time_day,conc_mg_L,blq")
    #expect(lines.count == 1 + 3 * 3)
    #expect(lines[1].hasPrefix("1,0,0.0,1"))
    #expect(lines.last!.hasPrefix("3,2,"))
  }

  @Test("covariates file sets weights and the subject count")
  func covariates() throws {
    let dir = Paths.temporaryDirectory()
    let path = dir.appendingPathComponent("cov.csv")
    try "subject,weight_kg\n1,50\n2,100\n".write(to: path, atomically: true, encoding: .utf8)
    let r = run(["simulate", "--covariates", path.path, "--days", "3"])
    #expect(r.code == 0 && r.stdout.split(separator: "\n").count == 5)
    #expect(run(["simulate", "--covariates", path.path, "--subjects", "3"]).code == 65)
    try "subject,weight_kg\n1,50\n3,100\n".write(to: path, atomically: true, encoding: .utf8)
    #expect(run(["simulate", "--covariates", path.path]).code == 65)
  }

  @Test("bad cohort options exit 64 with one Error: line", arguments: [
    ["--subjects", "0"], ["--subjects", "100000001"], ["--subjects", "-5"], ["--subjects", "10", "--threads", "0"],
    ["--subjects", "10", "--shard", "0/4"], ["--subjects", "10", "--shard", "5/4"], ["--subjects", "10", "--shard", "2"],
    ["--subjects", "3", "--shard", "1/4"], ["--seed", "5"], ["--subjects", "10", "--adherence", "1.5"],
    ["--subjects", "10", "--weight-dist", "normal:75"], ["--subjects", "10", "--weight-dist", "normal:75,15", "--covariates", "x.csv"],
  ])
  func badOptions(args: [String]) {
    let r = run(["simulate"] + args)
    #expect(r.code == 64 && r.stdout.isEmpty && r.stderr.hasPrefix("Error: "), "\(args): \(r.stderr)")
  }
}
