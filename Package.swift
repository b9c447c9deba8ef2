// swift-tools-version:6.0
// Posology: a pharmacokinetic dosing-schedule simulator. No package dependencies: the toolchain's
// Foundation (and FoundationXML), Dispatch, Swift Testing and the C math library only.
import PackageDescription

/// The numerics are always compiled optimised (also in debug builds, so `swift test` runs the
/// cohort and accuracy tests at full speed) with cross-module optimisation, so the generic
/// integrator is specialised for each model. Dynamic exclusivity checks are off in these two
/// modules: their mutable state is per-worker by construction (see the `@unchecked Sendable`
/// notes), and the checks cost ~15 % of a cohort run (measured with perf).
let optimized: [SwiftSetting] = [
  .unsafeFlags(["-O"], .when(configuration: .debug)),
  .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"]),
]

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
