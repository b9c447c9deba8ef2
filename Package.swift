// swift-tools-version:6.0
// Posology: a pharmacokinetic dosing-schedule simulator. No package dependencies: the toolchain's
// Foundation (and FoundationXML), Dispatch, Swift Testing and the C math library only.
import PackageDescription

#if arch(x86_64) && os(Linux)
  import Foundation

  /// Whether the build machine has the x86-64 "v3" extensions (AVX2, FMA, BMI2: Intel Haswell,
  /// AMD Excavator and later), read from /proc/cpuinfo.
  let hostHasAVX2: Bool = {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return false }
    let set = Set(flags.split(separator: " "))
    return ["avx2", "fma", "bmi2"].allSatisfy { set.contains(Substring($0)) }
  }()
#else
  let hostHasAVX2 = false
#endif

/// On an x86-64 build machine with AVX2, the numerics are compiled for it (`-target-cpu haswell`):
/// the eight-patient lanes (`SIMD8<Double>`) then take two 256-bit registers instead of four
/// 128-bit ones, and cohorts run 1.3–1.5× faster (Benchmarks/README.md, run P). The output is the
/// same to the byte: Swift does not contract `a*b + c` into fused multiply-adds, so every
/// operation rounds as on the baseline build (checked: 3 models × 3,000 patients, every curve
/// and the summary). A binary built this way needs an AVX2 processor to run; build on the
/// machine that runs it (as `swift run` does).
let hostTuning: [SwiftSetting] = hostHasAVX2 ? [.unsafeFlags(["-target-cpu", "haswell"])] : []

/// The numerics are always compiled optimised (also in debug builds, so `swift test` runs the
/// cohort and accuracy tests at full speed) with cross-module optimisation, so the generic
/// integrator is specialised for each model. Dynamic exclusivity checks are off in these two
/// modules: their mutable state is per-worker by construction (see the `@unchecked Sendable`
/// notes), and the checks cost ~15 % of a cohort run (measured with perf).
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
