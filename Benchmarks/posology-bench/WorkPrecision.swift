// Work-precision: for every method and tolerance, the largest error against an rtol-1e-11
// reference (DESIGN §4's measure) against the time per patient.
import Foundation
import PKCore
import PKNumerics

/// DESIGN §4: relative error where the reference exceeds 0.01 mg/L, absolute error below.
struct CurveError {
  static let threshold = 0.01
  static let relativeTarget = 1e-5
  static let absoluteTarget = 1e-6
  var relative = 0.0
  var absolute = 0.0
  /// Where the largest relative and absolute errors are (index into the compared values).
  var worstRelative = 0, worstAbsolute = 0

  mutating func add(_ value: Double, reference r: Double, at index: Int = 0) {
    let d = value.isFinite ? abs(value - r) : .infinity
    if r > Self.threshold {
      if d / r > relative { relative = d / r; worstRelative = index }
    } else if d > absolute {
      absolute = d; worstAbsolute = index
    }
  }

  /// Compares curves laid out one patient per row of `days` values.
  init(_ values: [Double], reference: [Double]) {
    for (i, (x, r)) in zip(values, reference).enumerated() { add(x, reference: r, at: i) }
  }

  init() {}

  var meetsTarget: Bool { relative <= Self.relativeTarget && absolute <= Self.absoluteTarget }
}

struct WorkPrecision {
  let bench: Bench
  static let tolerances = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
  static let referenceTolerance = 1e-11

  var workload: Workload { bench.workload }
  var report: Report { bench.report }

  /// The typical patient (75 kg, no random effects) and virtual patients with random effects and
  /// weights from normal(75, 15) kg truncated to [40, 150].
  func patients(_ model: PopulationModel) -> [PKParameters] {
    let count = bench.options.smoke ? 8 : 16
    let sampler = PatientSampler(model: model, weights: .truncatedNormal(mean: 75, sd: 15, min: 40, max: 150), seed: 1)
    return [model.individual(weight: Workload.weight, eta: nil)] + (1..<count).map { sampler.patient($0).parameters }
  }

  /// Every patient's curve (grid values, one row per patient) and the solver's work.
  func curves(_ model: PopulationModel, _ patients: [PKParameters], _ options: ODEOptions, into out: UnsafeMutablePointer<Double>) throws -> ODEStatistics {
    let simulator = SubjectSimulator(options: options)
    let g = workload.grid.count
    for (i, p) in patients.enumerated() {
      let c = try simulator.concentrations(p, doses: workload.doses, grid: workload.grid, scale: model.outputScale)
      (out + i * g).update(from: c, count: g)
    }
    return simulator.statistics
  }

  func run(_ name: String) throws {
    let model = try workload.model(name)
    let people = patients(model)
    let g = workload.grid.count
    // The reference: Dormand–Prince 5(4) at rtol 1e-11 (atol 1e-13); every other method at the
    // same tolerances gives the spread, which says how far the reference itself can be trusted.
    let methods = [ODEMethod.dormandPrince54] + ODEMethod.allCases.filter { $0 != .dormandPrince54 }
    var references: [[Double]] = []
    for method in methods {
      var o = SubjectSimulator.defaultOptions
      o.method = method
      o.relativeTolerance = Self.referenceTolerance
      o.absoluteTolerance = Self.referenceTolerance * 1e-2
      o.maxSteps = 10_000_000
      var values = [Double](repeating: .nan, count: people.count * g)
      do { _ = try values.withUnsafeMutableBufferPointer { try curves(model, people, o, into: $0.baseAddress!) } } catch {
        report.note("accuracy/\(name): the \(method.rawValue) solution at rtol 1e-11 failed: \(error)")
        if references.isEmpty {
          report.check("accuracy/\(name): the reference can be computed", false, "\(error)")
          return
        }
      }
      references.append(values)
    }
    let reference = references[0]
    let base = [("model", name), ("patients", "\(people.count)"), ("reference", "\(methods[0].rawValue) rtol \(Self.referenceTolerance) atol \(Self.referenceTolerance * 1e-2)")]
    var spreads: [(ODEMethod, CurveError)] = []
    for (method, other) in zip(methods, references).dropFirst() {
      let spread = CurveError(other, reference: reference)
      spreads.append((method, spread))
      report.add("work-precision", "accuracy/\(name)/reference-vs-\(method.rawValue)@1e-11", "max_rel_err", "", Stats(single: spread.relative), base)
      report.add("work-precision", "accuracy/\(name)/reference-vs-\(method.rawValue)@1e-11", "max_abs_err", "mg/L", Stats(single: spread.absolute), base)
    }

    var rows: [(String, ODEOptions, Bool)] = []
    for method in ODEMethod.allCases {
      for tol in bench.options.smoke ? [1e-6, 1e-9] : Self.tolerances {
        var o = SubjectSimulator.defaultOptions
        o.method = method
        o.relativeTolerance = tol
        o.absoluteTolerance = tol * 1e-2
        rows.append(("\(method.rawValue)/rtol=\(Self.exponent(tol))", o, false))
      }
    }
    let d = SubjectSimulator.defaultOptions
    rows.append(("default:\(d.method.rawValue)/rtol=\(Self.exponent(d.relativeTolerance))/atol=\(Self.exponent(d.absoluteTolerance))", d, true))

    var values = [Double](repeating: .nan, count: people.count * g)
    for (label, options, isDefault) in rows {
      let scenario = "accuracy/\(name)/\(label)"
      let parameters = base + [("method", options.method.rawValue), ("rtol", "\(options.relativeTolerance)"), ("atol", "\(options.absoluteTolerance)")]
      do {
        let work = try values.withUnsafeMutableBufferPointer { try curves(model, people, options, into: $0.baseAddress!) }
        let error = CurveError(values, reference: reference)
        let samples = try measure(warmup: bench.warmup, repetitions: bench.repetitions) {
          _ = try values.withUnsafeMutableBufferPointer { try curves(model, people, options, into: $0.baseAddress!) }
          blackHole(values)
        }
        let n = Double(people.count)
        report.add("work-precision", scenario, "max_rel_err", "", Stats(single: error.relative), parameters)
        report.add("work-precision", scenario, "max_abs_err", "mg/L", Stats(single: error.absolute), parameters)
        report.add("work-precision", scenario, "meets_§4", "", Stats(single: error.meetsTarget ? 1 : 0), parameters)
        report.add("work-precision", scenario, "per_patient", "µs", Stats(samples).scaled(1e6 / n), parameters)
        report.add("work-precision", scenario, "steps", "", Stats(single: Double(work.acceptedSteps) / n), parameters)
        report.add("work-precision", scenario, "f_evals", "", Stats(single: Double(work.functionEvaluations) / n), parameters)
        if isDefault {
          report.check(
            "\(scenario): DESIGN §4 accuracy (≤ 1e-5 rel where C > 0.01 mg/L, ≤ 1e-6 mg/L abs below)", error.meetsTarget,
            "max rel \(error.relative) (\(location(error.worstRelative))), max abs \(error.absolute) (\(location(error.worstAbsolute))) over \(people.count) patients")
        }
      } catch {
        report.note("\(scenario): the solver failed: \(error)")
        if isDefault { report.check("\(scenario): solver succeeds", false, "\(error)") }
      }
    }
    // The reference is trusted when another method at the same tolerance confirms it (a method
    // whose accuracy does not follow the tolerance, like `auto`'s fixed-step fast path, cannot).
    if let best = spreads.min(by: { $0.1.relative < $1.1.relative }) {
      let ok = best.1.relative <= 1e-8 && best.1.absolute <= 1e-9
      report.check(
        "accuracy/\(name): the reference is confirmed by another method at rtol 1e-11 (≤ 1e-8 rel, ≤ 1e-9 mg/L abs)", ok,
        "\(best.0.rawValue): rel \(best.1.relative), abs \(best.1.absolute)")
    }
  }

  /// "patient k, day t" for an index into the curves (patient 0 is the typical patient; patient
  /// k > 0 is `PatientSampler(seed: 1)`'s patient k with weights from normal(75, 15) in [40, 150] kg).
  func location(_ index: Int) -> String {
    let g = workload.grid.count
    return "patient \(index / g), day \(workload.grid.time(index % g))"
  }

  static func exponent(_ x: Double) -> String {
    let e = log10(x).rounded()
    return abs(x - pow(10, e)) <= 1e-12 * x ? "1e\(Int(e))" : "\(x)"
  }
}
