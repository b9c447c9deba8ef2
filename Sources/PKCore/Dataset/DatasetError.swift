/// Why a NONMEM-style dataset cannot be simulated: what is wrong (naming the line and column) and
/// how to fix it. Foundation-free; the command line turns it into a `UserError` (exit 65 when the
/// file's contents are at fault, 64 when the request is, e.g. a `--column` naming no column).
public struct DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Who has to change something.
  public enum Origin: Sendable, Equatable {
    /// The dataset's contents (exit 65).
    case contents
    /// The request: column mappings or model parameters given with the dataset (exit 64).
    case request
  }

  public let problem: String
  public let fix: String
  public let origin: Origin

  public init(_ problem: String, fix: String, origin: Origin = .contents) {
    self.problem = problem
    self.fix = fix
    self.origin = origin
  }

  public var description: String { "\(problem). \(fix)" }
}
