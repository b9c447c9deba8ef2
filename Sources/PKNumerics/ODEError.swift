/// Why an integration stopped before reaching its end time.
public enum ODEError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The step size shrank below what the floating-point time axis can resolve at `t`.
  case stepSizeTooSmall(t: Double, stepSize: Double)
  /// More than `limit` steps were needed in one call; `t` is the time reached.
  case tooManySteps(limit: Int, t: Double)
  /// The state or its derivative became NaN or infinite at `t`, and shrinking the step did not help.
  case nonFiniteState(t: Double)
  /// The Newton matrix `I/(γh) − J` was singular at `t` for every step size tried.
  case singularMatrix(t: Double)

  /// The time the integration had reached when it gave up.
  public var timeReached: Double {
    switch self {
    case .stepSizeTooSmall(let t, _), .tooManySteps(_, let t), .nonFiniteState(let t),
      .singularMatrix(let t):
      return t
    }
  }

  public var description: String {
    switch self {
    case .stepSizeTooSmall(let t, let h):
      return "the solver's step size fell to \(h) at t = \(t) day(s), too small to make progress"
    case .tooManySteps(let limit, let t):
      return "the solver needed more than \(limit) steps and stopped at t = \(t) day(s)"
    case .nonFiniteState(let t):
      return "the solution became NaN or infinite at t = \(t) day(s)"
    case .singularMatrix(let t):
      return "the implicit solver's linear system was singular at t = \(t) day(s)"
    }
  }
}
