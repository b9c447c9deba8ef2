// posology-bench: times Posology's scenarios and checks their accuracy. See Benchmarks/README.md.
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct BenchOptions {
  var filters: [String] = []
  var repetitions = 5
  /// Whether `--repetitions` was given (the 1,000,000-patient cohorts run once unless it was).
  var repetitionsGiven = false
  var smoke = false
  var long = false
  var probe: String?
  var posologyPath: String?
  var threads: Int?
  var format = "table"
  var output: String?
  var allowDebug = false
  var list = false

  static let usage = """
    Usage: posology-bench [options]
      --filter NAME       run only the scenario named NAME, or else those whose names contain NAME
                          (repeatable, or comma-separated; --list shows the names)
      --repetitions N     timed runs per scenario, after one warm-up run [5; 1 for 1M patients]
      --smoke             small sizes, one run, no warm-up: checks that everything runs and that the
                          accuracy and determinism checks pass (exit 1 if one fails); times mean nothing
      --long              also run the 1,000,000-patient cohorts
      --probe PATH        the C yardstick (gcc -O2 -o /tmp/dopri_probe dopri_probe.c -lm), timed in
                          alternation with the posology process for the ratio
      --posology PATH     the posology executable [the one beside posology-bench]
      --threads T         threads for the cohorts [all cores]
      --format F          table, csv or json [table]
      --output FILE       write the CSV/JSON there (the table still goes to stdout)
      --allow-debug       run even if this is a debug build
      --list              list the scenarios and exit
    """

  static func parse(_ arguments: [String]) -> BenchOptions {
    var o = BenchOptions()
    var i = 0
    func value() -> String {
      i += 1
      guard i < arguments.count else { fail("\(arguments[i - 1]) needs a value") }
      return arguments[i]
    }
    while i < arguments.count {
      switch arguments[i] {
      case "--filter": o.filters += value().split(separator: ",").map(String.init)
      case "--repetitions": guard let n = Int(value()), n >= 1 else { fail("--repetitions needs a whole number ≥ 1") }; o.repetitions = n; o.repetitionsGiven = true
      case "--smoke": o.smoke = true
      case "--long": o.long = true
      case "--probe": o.probe = value()
      case "--posology": o.posologyPath = value()
      case "--threads": guard let n = Int(value()), n >= 1 else { fail("--threads needs a whole number ≥ 1") }; o.threads = n
      case "--format":
        o.format = value().lowercased()
        guard ["table", "csv", "json"].contains(o.format) else { fail("--format is table, csv or json") }
      case "--output", "-o": o.output = value()
      case "--allow-debug": o.allowDebug = true
      case "--list": o.list = true
      case "--help", "-h": print(usage); exit(0)
      default: fail("unknown option '\(arguments[i])'")
      }
      i += 1
    }
    if let probe = o.probe, !FileManager.default.isExecutableFile(atPath: probe) {
      fail("the probe '\(probe)' is not an executable file. Build it: gcc -O2 -o /tmp/dopri_probe /work/shared/bench/dopri_probe.c -lm")
    }
    return o
  }

  /// A filter that is a scenario's whole name selects that scenario only; otherwise every
  /// scenario whose name contains it (so `cohort/kovalenko2016/10000` is not also the 100000 one).
  func selects(_ scenario: Scenario, among all: [Scenario]) -> Bool {
    guard !scenario.long || long else { return false }
    return filters.isEmpty || filters.contains { f in all.contains { $0.name == f } ? scenario.name == f : scenario.name.contains(f) }
  }
}

func fail(_ message: String) -> Never {
  log("Error: \(message). See posology-bench --help.")
  exit(64)
}

let options = BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
if isDebugBuild && !options.allowDebug && !options.list {
  log("Error: this is a debug build, whose timings mean nothing. Build with -c release (or pass --allow-debug).")
  exit(2)
}
let machine = Machine.current()
let report = Report(machine: machine, settings: [
  ("mode", options.smoke ? "smoke" : "full"), ("repetitions", "\(options.smoke ? 1 : options.repetitions)"),
  ("threads", "\(options.threads ?? machine.cores)"), ("probe", options.probe ?? "none"),
])
let bench: Bench
do { bench = Bench(options: options, report: report, workload: try Workload()) } catch {
  log("Error: cannot set up the workload: \(error)")
  exit(1)
}
let all = bench.scenarios()
let selected = all.filter { options.selects($0, among: all) }
if options.list {
  for s in all { print(s.name + (s.long ? "  (--long)" : "")) }
  exit(0)
}
if selected.isEmpty { fail("no scenario matches --filter \(options.filters.joined(separator: ",")) (--list shows the names)") }

log("posology-bench — \(machine.line)")
let started = seconds()
for scenario in selected {
  log("running \(scenario.name) …")
  let start = seconds(), load = loadAverage()
  do { try scenario.run() } catch {
    report.check("\(scenario.name): runs", false, "\(error)")
  }
  let elapsed = seconds() - start
  log("  \(scenario.name): \(Report.number(elapsed)) s")
  // Other work on the machine: load average before and after (this run's own threads count too).
  report.add("environment", scenario.name, "elapsed", "s", Stats(single: elapsed))
  report.add("environment", scenario.name, "load_1min_before", "", Stats(single: load))
  report.add("environment", scenario.name, "load_1min_after", "", Stats(single: loadAverage()))
}
log("total \(Report.number(seconds() - started)) s")

let rendered = options.format == "csv" ? report.csv() : options.format == "json" ? report.json() : nil
if let output = options.output {
  do { try (rendered ?? report.csv()).write(toFile: output, atomically: true, encoding: .utf8) } catch {
    log("Error: cannot write '\(output)': \(error)")
    exit(73)
  }
  print(report.table(), terminator: "")
} else if let rendered {
  log(report.table())
  print(rendered, terminator: "")
} else {
  print(report.table(), terminator: "")
}
exit(report.failed ? 1 : 0)
