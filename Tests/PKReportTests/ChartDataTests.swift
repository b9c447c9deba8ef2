import Dispatch
import Foundation
import PKCore
import Testing

@testable import PKReport

@Suite("Chart data: CSV tables, troughs, dose labels, progress")
struct ChartDataTests {
  @Test func typicalTable() throws {
    let t = try ChartTable.parse("\u{FEFF}time_day,conc_mg_L\r\n0,0.0\r\n1,29.7\r\n2,48\r\n", path: "a.csv")
    #expect(t.kind == .typical && !t.hasRegimenColumn)
    #expect(t.groups.count == 1 && t.groups[0].center == [0, 29.7, 48] && t.groups[0].bands == nil)
  }

  @Test func summaryComparison() throws {
    let csv = """
      regimen,time_day,mean,sd,p05,p25,p50,p75,p95
      "600mg then 300mg q2w",0,0,0,0,0,0,0,0
      "600mg then 300mg q2w",1,30,6,21,25,29,34,41
      300mg q4w,0,0,0,0,0,0,0,0
      300mg q4w,1,10,2,7,8,9,11,13

      """
    let t = try ChartTable.parse(csv, path: "c.csv")
    #expect(t.kind == .cohortSummary && t.hasRegimenColumn)
    #expect(t.groups.map(\.regimen) == ["600mg then 300mg q2w", "300mg q4w"])
    #expect(t.groups[1].center == [0, 9] && t.groups[1].bands?.p95 == [0, 13] && t.groups[1].bands?.p05 == [0, 7])
  }

  @Test(arguments: [
    ("", "is empty"),
    ("time,conc\n0,1\n", "does not know"),
    ("time_day,conc_mg_L\n", "no rows"),
    ("time_day,conc_mg_L\n0,1,2\n", "has 3 fields"),
    ("time_day,conc_mg_L\n0,abc\n", "not a number"),
    ("time_day,conc_mg_L\n2,1\n1,1\n", "comes before"),
    ("regimen,time_day,conc_mg_L\na,0,1\nb,0,1\na,1,1\n", "not together"),
  ])
  func badTables(text: String, problem: String) {
    #expect {
      _ = try ChartTable.parse(text, path: "x.csv")
    } throws: { error in
      guard let e = error as? UserError else { return false }
      return e.kind == .dataError && e.problem.contains(problem) && !e.description.contains("\n")
    }
  }

  @Test func observedTrough() {
    let s = fixtureSeries(label: "q2w", horizon: 364 * 2)
    let trough = ObservedTrough.estimate(doses: s.doses, times: s.times, values: s.center)
    #expect(trough != nil)
    if let trough, let last = s.doses.last { #expect(abs(trough - s.center[Int(last.time)]) < 1e-9) }
    var washout = s
    washout.doses = Array(s.doses.prefix(40))
    #expect(ObservedTrough.estimate(doses: washout.doses, times: washout.times, values: fixtureCurve(doses: washout.doses, times: washout.times)) == nil)
    let early = fixtureSeries(label: "q2w", horizon: 60)
    #expect(ObservedTrough.estimate(doses: early.doses, times: early.times, values: early.center) == nil)
  }

  @Test func doseLabelsStackThenSummarise() {
    let groups = DoseGroup.groups(fixtureDoses(interval: 7, horizon: 728))
    #expect(groups.first?.isLoading == true)
    let positions = groups.map { 80 + $0.time / 728 * 800 }
    let plan = DoseLabelPlan(groups: groups, positions: positions, minX: 60, maxX: 950) { text, _ in Double(text.count) * 6 }
    #expect(plan.labels.map(\.text) == ["600 mg", "300 mg ×103"])
    #expect(plan.linesUsed == 2)
    let roomy = DoseGroup.groups(fixtureDoses(loading: nil, interval: 28, horizon: 364))
    let wide = DoseLabelPlan(groups: roomy, positions: roomy.map { 80 + $0.time / 364 * 800 }, minX: 60, maxX: 950) { text, _ in Double(text.count) * 6 }
    #expect(wide.labels.count == roomy.count && wide.linesUsed == 1)
  }

  @Test func progressIsSilentOffTerminals() {
    let sink = Sink()
    let p = ProgressReporter(total: 100, isTerminal: false, delay: 0) { sink.append($0) }
    for _ in 0..<100 { p.advance(by: 1) }
    p.finish()
    #expect(sink.text.isEmpty)
  }

  @Test func progressOnTerminalsFromManyThreads() {
    let sink = Sink()
    let p = ProgressReporter(total: 1000, isTerminal: true, delay: 0) { sink.append($0) }
    DispatchQueue.concurrentPerform(iterations: 1000) { _ in p.advance(by: 1) }
    #expect(sink.text.contains("100% ["))
    #expect(sink.text.contains("1000/1000 subjects"))
    #expect(sink.writes <= 101)
    p.finish()
    p.finish()
    #expect(sink.text.hasSuffix("\r\u{1B}[K"))
    p.advance(by: 5)
    #expect(sink.text.hasSuffix("\r\u{1B}[K"))
  }

  @Test func progressWaitsForItsDelay() {
    let sink = Sink()
    let p = ProgressReporter(total: 10, isTerminal: true, delay: 3600) { sink.append($0) }
    p.advance(by: 10)
    p.finish()
    #expect(sink.text.isEmpty)
  }

  final class Sink: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ s: String) { lock.lock(); parts.append(s); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return parts.joined() }
    var writes: Int { lock.lock(); defer { lock.unlock() }; return parts.count }
  }
}
