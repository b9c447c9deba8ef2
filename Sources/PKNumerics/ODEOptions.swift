/// The integration methods Posology ships.
public enum ODEMethod: String, Sendable, CaseIterable {
  /// The default: grid sampling by the exponential fast path where the model allows it (PKCore's
  /// `ExponentialPath`), and Dormand–Prince 5(4) wherever a general integrator is needed.
  case auto = "auto"
  /// Dormand–Prince 5(4), explicit, FSAL, with Shampine's 4th-order continuous extension.
  case dormandPrince54 = "dopri5"
  /// Hairer–Wanner RODAS4: L-stable, stiffly accurate Rosenbrock 4(3) with 3rd-order dense output.
  case rodas4 = "rodas4"
}

/// Error control and limits for one integrator.
public struct ODEOptions: Sendable, Equatable {
  /// Relative tolerance of the local error (per component, scaled by `max(|y|, |y_new|)`).
  public var relativeTolerance: Double
  /// Absolute tolerance of the local error, in the state's units.
  public var absoluteTolerance: Double
  /// Most steps allowed in a single `advance` call before `ODEError.tooManySteps`.
  public var maxSteps: Int
  /// Largest step allowed (time units); `.infinity` for none.
  public var maxStepSize: Double
  /// The method.
  public var method: ODEMethod

  public init(
    relativeTolerance: Double = 1e-8, absoluteTolerance: Double = 1e-10,
    maxSteps: Int = 100_000, maxStepSize: Double = .infinity, method: ODEMethod = .auto
  ) {
    self.relativeTolerance = relativeTolerance
    self.absoluteTolerance = absoluteTolerance
    self.maxSteps = maxSteps
    self.maxStepSize = maxStepSize
    self.method = method
  }
}

/// Work counters, summed over every `advance` call of one integrator.
public struct ODEStatistics: Sendable, Equatable {
  public var functionEvaluations = 0
  public var jacobianEvaluations = 0
  public var luDecompositions = 0
  public var acceptedSteps = 0
  public var rejectedSteps = 0
  public init() {}
}
