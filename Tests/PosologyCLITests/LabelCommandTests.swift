import Foundation
import PosologyCLI
import Testing

@Suite("Label regimens on the command line: --indication/--age, presets, regimens, metrics")
struct LabelCommandTests {
  @Test("--indication ad --age 8 --weight 25 picks 600 mg then 300 mg q4w")
  func tierSelection() {
    let picked = run(["simulate", "--indication", "ad", "--age", "8", "--weight", "25", "--days", "60"])
    let explicit = run(["simulate", "--regimen", "600mg then 300mg q4w", "--weight", "25", "--days", "60"])
    #expect(picked.code == 0 && picked.stdout == explicit.stdout)
  }

  @Test("no tier: a clear error listing the tiers (AD under 6 months, EoE under 15 kg)", arguments: [
    ["--indication", "ad", "--age", "0.3", "--weight", "6"], ["--indication", "eoe", "--age", "4", "--weight", "12"],
  ])
  func noTier(args: [String]) {
    let r = run(["simulate"] + args)
    #expect(r.code == 64 && r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("Error: the label has no") && r.stderr.contains("tiers are"))
  }

  @Test("two regimens for one tier: the error lists both and how to choose")
  func twoRegimens() {
    let r = run(["simulate", "--indication", "asthma", "--age", "30", "--weight", "70"])
    #expect(r.code == 64 && r.stderr.contains("asthma-400") && r.stderr.contains("asthma-600") && r.stderr.contains("--regimen"))
    #expect(run(["simulate", "--indication", "asthmaa", "--age", "30"]).stderr.contains("Did you mean 'asthma'"))
    #expect(run(["simulate", "--indication", "ad"]).code == 64)
  }

  @Test("posology regimens lists every tier, or one indication's, with sources")
  func listing() {
    let all = run(["regimens"]).stdout.split(separator: "\n")
    #expect(all.first == "name,indication,population,age_min_y,age_max_y,weight_min_kg,weight_max_kg,regimen,source")
    #expect(all.count == 21)
    let eoe = run(["regimens", "--indication", "eoe"]).stdout.split(separator: "\n")
    #expect(eoe.count == 4 && eoe.dropFirst().allSatisfy { $0.hasPrefix("eoe-") })
    #expect(run(["regimens", "--indication", "xyz"]).code == 64)
  }

  @Test("compare writes a leading regimen column, rows grouped in the order given; metrics per regimen")
  func compareAndMetrics() throws {
    let dir = Paths.temporaryDirectory()
    let metrics = dir.appendingPathComponent("m.csv").path
    let r = run(["compare", "--regimen", "600mg then 300mg q4w", "--regimen", "ad-adult", "--days", "28", "--metrics", metrics, "--threshold", "20"])
    #expect(r.code == 0)
    let rows = r.stdout.split(separator: "\n")
    #expect(rows[0] == "regimen,time_day,conc_mg_L")
    #expect(rows.count == 1 + 2 * 29)
    #expect(rows[1].hasPrefix("600mg then 300mg q4w,0,") && rows[30].hasPrefix("ad-adult,0,"))
    let m = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
    #expect(m[0] == "regimen,statistic,cmax_first_mg_L,tmax_first_day,cmax_ss_mg_L,cmin_ss_mg_L,auc_tau_ss_mg_day_L,cavg_ss_mg_L,time_to_ss_day,accumulation_ratio,time_above_threshold_pct,washout_day")
    #expect(m.count == 3 && m[1].hasPrefix("600mg then 300mg q4w,typical,") && m[2].hasPrefix("ad-adult,typical,"))
  }

  @Test("cohort metrics: mean, sd and percentiles per regimen")
  func cohortMetrics() throws {
    let dir = Paths.temporaryDirectory()
    let metrics = dir.appendingPathComponent("m.csv").path
    let r = run(["simulate", "--subjects", "50", "--days", "56", "--metrics", metrics])
    #expect(r.code == 0)
    let m = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
    #expect(m.dropFirst().map { $0.split(separator: ",")[1] } == ["mean", "sd", "p05", "p25", "p50", "p75", "p95"])
  }
}
