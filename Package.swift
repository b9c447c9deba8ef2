// swift-tools-version:6.0
// Posology: a pharmacokinetic dosing-schedule simulator. No package dependencies: the toolchain's
// Foundation (and FoundationXML), Dispatch, Swift Testing and the C math library only.
import PackageDescription

#if arch(x86_64) && os(Linux)
  import Foundation

  /// Whether the build machine has what `-target-cpu haswell` assumes (AVX2, FMA, BMI1/2, LZCNT,
  /// MOVBE, F16C: Intel Haswell, AMD Excavator and Zen, and later), read from /proc/cpuinfo, and
  /// `POSOLOGY_PORTABLE` is not set (set it to build a binary for another machine).
  let hostHasAVX2: Bool = {
    guard ProcessInfo.processInfo.environment["POSOLOGY_PORTABLE"] == nil,
      let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return false }
    let set = Set(flags.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
    return ["avx", "avx2", "fma", "bmi1", "bmi2", "abm", "movbe", "f16c"].allSatisfy(set.contains)
  }()
#else
  let hostHasAVX2 = false
#endif

/// On an x86-64 build machine with AVX2, the numerics are compiled for it (`-target-cpu haswell`):
/// the eight-patient lanes (`SIMD8<Double>`) then take two 256-bit registers instead of four
/// 128-bit ones, and cohorts run about 1.3–1.5× faster (Benchmarks/README.md, run P). The output
/// is the same to the byte: Swift does not contract `a*b + c` into fused multiply-adds, so every
/// operation rounds as on the baseline build (checked: 3 models × 19 runs, every curve and
/// summary). A binary built this way needs such a processor to run: build on the machine that
/// runs it (as `swift run` does), or set `POSOLOGY_PORTABLE=1` for a baseline x86-64 build.
let hostTuning: [SwiftSetting] = hostHasAVX2 ? [.unsafeFlags(["-target-cpu", "haswell"])] : []

let optimized: [SwiftSetting] = [
  .unsafeFlags(["-O"], .when(configuration: .debug)),
  .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"]),
] + hostTuning

let package = Package(
  name: "Posology",
  products: [
    .executable(name: "posology", targets: ["posology"]),
    .library(name: "PKNumerics", targets: ["PKNumerics"]),
    .library(name: "PKCore", targets: ["PKCore"]),
    .library(name: "PKReport", targets: ["PKReport"]),
  ],
  targets: [
    // MARK: - Libraries
    /// ODE integrators only; knows nothing of pharmacology. No Foundation.
    .target(name: "PKNumerics", swiftSettings: optimized),
    /// Models, regimens, subject and cohort simulation, RNG, metrics, summaries. No Foundation.
    .target(name: "PKCore", dependencies: ["PKNumerics"], swiftSettings: optimized),
    /// Profiles (JSON), CSV, charts, files. Foundation lives here.
    .target(name: "PKReport", dependencies: ["PKCore"]),
    /// The command-line front end (argument parsing, commands, errors), kept as a library so
    /// tests can drive it in-process.
    .target(name: "PosologyCLI", dependencies: ["PKCore", "PKReport"], path: "Sources/PosologyCLI"),

    // MARK: - Executables
    .executableTarget(name: "posology", dependencies: ["PosologyCLI"]),
    .executableTarget(
      name: "posology-bench", dependencies: ["PKCore", "PKReport", "PosologyCLI"],
      path: "Benchmarks/posology-bench"),

    // MARK: - Tests
    .testTarget(name: "PKNumericsTests", dependencies: ["PKNumerics"]),
    .testTarget(
      name: "PKCoreTests", dependencies: ["PKCore", "PKReport"],
      exclude: ["Fixtures"]),
    .testTarget(name: "PKReportTests", dependencies: ["PKReport"]),
    .testTarget(name: "PosologyCLITests", dependencies: ["PosologyCLI", "PKReport"]),
  ],
  swiftLanguageModes: [.v6]
)
