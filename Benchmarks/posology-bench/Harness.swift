// Timing, statistics, peak memory, child processes and the machine line.
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic wall clock, in seconds.
func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// Keeps a value observable so the optimiser cannot drop the work that produced it.
@inline(never) @_optimize(none)
func blackHole<T>(_ value: T) {}

/// CPU time (user + system) of every thread of this process so far, in seconds.
func cpuSeconds() -> Double {
  var usage = rusage()
  #if os(Linux)
  getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
  #else
  getrusage(RUSAGE_SELF, &usage)
  #endif
  return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
}

/// `n` rounds of dependent floating-point arithmetic (a control workload with no memory traffic).
func spin(_ n: Int) -> Double {
  var x = 0.5
  for _ in 0..<n { x = x * 3.999 * (1 - x) }
  return x
}

/// Median, extremes and count of repeated measurements.
struct Stats {
  var median: Double
  var min: Double
  var max: Double
  var runs: Int

  init(_ samples: [Double]) {
    let s = samples.sorted()
    runs = s.count
    min = s.first ?? .nan
    max = s.last ?? .nan
    if s.isEmpty { median = .nan } else if s.count % 2 == 1 { median = s[s.count / 2] } else { median = (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
  }

  /// A figure measured once (a count, an error, a configuration value).
  init(single value: Double) { self.init([value]) }

  func scaled(_ factor: Double) -> Stats {
    var s = self
    s.median *= factor; s.min *= factor; s.max *= factor
    return s
  }
}

/// `warmup` untimed runs, then `repetitions` timed ones; seconds per run.
func measure(warmup: Int, repetitions: Int, _ body: () throws -> Void) rethrows -> [Double] {
  for _ in 0..<warmup { try body() }
  var samples: [Double] = []
  for _ in 0..<repetitions {
    let start = seconds()
    try body()
    samples.append(seconds() - start)
  }
  return samples
}

/// Peak resident set size of this process. Linux keeps it in `VmHWM`; writing "5" to
/// `/proc/self/clear_refs` resets it, so each scenario's peak is its own.
enum PeakMemory {
  @discardableResult
  static func reset() -> Bool {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return write(fd, "5", 1) == 1
  }

  /// Peak RSS in bytes (`VmHWM`, else `getrusage`'s `ru_maxrss`, which cannot be reset).
  static func bytes() -> Int {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
      let kB = Int(line.split(separator: " ").dropFirst().first ?? "")
    {
      return kB * 1024
    }
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return usage.ru_maxrss * 1024
  }
}

/// One run of a child process, as `wait4` reports it.
struct ChildRun {
  var wall: Double
  var user: Double
  var system: Double
  /// The child's own peak RSS in bytes (`ru_maxrss`).
  var peakBytes: Int
  var exitStatus: Int32
  var stdout: String
  var stderr: String
}

struct ChildError: Error, CustomStringConvertible {
  var description: String
}

/// Runs `argv` (the first element a path, or a name looked up on PATH) with stdout and stderr
/// captured to temporary files; times it from spawn to reap.
///
/// Peak RSS: `posix_spawn` starts the child on the parent's memory (vfork), and Linux carries that
/// memory's high-water mark into the child's `ru_maxrss` at exec. So this process's own peak is
/// reset first; a `ru_maxrss` above what is left is the child's own, otherwise the child's
/// `VmHWM`, polled every 5 ms while it runs, is used.
func runChild(_ argv: [String]) throws -> ChildRun {
  let dir = FileManager.default.temporaryDirectory.path
  let tag = "posology-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  let outPath = "\(dir)/\(tag).out", errPath = "\(dir)/\(tag).err"
  defer { unlink(outPath); unlink(errPath) }
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  let cArgs = argv.map { strdup($0) } + [nil]
  defer { for p in cArgs { free(p) } }
  PeakMemory.reset()
  let inherited = PeakMemory.bytes()
  var pid: pid_t = 0
  let start = seconds()
  let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
  guard rc == 0 else { throw ChildError(description: "cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
  let poller = PeakPoller(pid: pid)
  var status: Int32 = 0
  var usage = rusage()
  while wait4(pid, &status, 0, &usage) < 0 {
    guard errno == EINTR else { throw ChildError(description: "wait4 failed for \(argv[0])") }
  }
  let wall = seconds() - start
  let polled = poller.stop()
  let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
  let exited = status & 0x7f == 0
  let maxRSS = usage.ru_maxrss * 1024
  return ChildRun(
    wall: wall,
    user: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6,
    system: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6,
    peakBytes: maxRSS > inherited ? maxRSS : polled,
    exitStatus: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f),
    stdout: read(outPath), stderr: read(errPath))
}

/// Polls a child's `VmHWM` until stopped.
final class PeakPoller: @unchecked Sendable {  // `running` and `peak` are guarded by `lock`
  private let lock = NSLock()
  private var running = true
  private var peak = 0
  private let finished = DispatchSemaphore(value: 0)

  init(pid: pid_t) {
    let path = "/proc/\(pid)/status"
    DispatchQueue.global().async {
      while self.locked({ self.running }) {
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kB = Int(line.split(separator: " ").dropFirst().first ?? "")
        {
          self.locked { self.peak = max(self.peak, kB * 1024) }
        }
        usleep(5000)
      }
      self.finished.signal()
    }
  }

  private func locked<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }

  /// Stops polling; the highest `VmHWM` seen, in bytes.
  func stop() -> Int {
    locked { running = false }
    finished.wait()
    return locked { peak }
  }
}

/// The 1-minute load average (other work on the machine shows here).
func loadAverage() -> Double {
  let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
  return Double(text.split(separator: " ").first ?? "") ?? .nan
}

/// True when this executable was compiled without optimisation: `assert` bodies run only then
/// (the trick google/swift-benchmark uses).
let isDebugBuild: Bool = {
  var debug = false
  assert({ debug = true; return true }())
  return debug
}()

/// Where and when the figures were taken.
struct Machine {
  var cpu: String
  var cores: Int
  var swift: String
  var kernel: String
  var date: String
  var build: String

  static func current() -> Machine {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let cpu = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
      .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    var name = utsname()
    uname(&name)
    let field = { (value: Any) -> String in
      withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
    let swift = (try? runChild(["swift", "--version"]))
      .flatMap { $0.exitStatus == 0 ? $0.stdout.split(separator: "\n").first { $0.contains("Swift version") } : nil }
      .map { String($0).trimmingCharacters(in: .whitespaces) } ?? compilerVersion
    let date = ISO8601DateFormatter().string(from: Date())
    return Machine(
      cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount, swift: swift,
      kernel: "\(field(name.sysname)) \(field(name.release)) \(field(name.machine))", date: date,
      build: isDebugBuild ? "debug" : "release")
  }

  static var compilerVersion: String {
    #if compiler(>=6.3)
    return "compiled with Swift ≥ 6.3"
    #elseif compiler(>=6.2)
    return "compiled with Swift 6.2"
    #elseif compiler(>=6.1)
    return "compiled with Swift 6.1"
    #else
    return "compiled with Swift 6.0"
    #endif
  }

  var line: String { "\(cpu), \(cores) cores, \(swift), \(kernel), \(build) build, \(date)" }
}
