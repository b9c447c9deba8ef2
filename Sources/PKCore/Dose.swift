/// How a dose is given.
public enum Route: String, Sendable, Codable, CaseIterable {
  /// Subcutaneous (extravascular): `F·amount` enters the depot.
  case sc
  /// Intravenous bolus: the whole amount enters the central compartment.
  case iv
}

/// One administration.
public struct Dose: Sendable, Equatable {
  /// Time in days from the start of the simulation.
  public var time: Double
  /// Amount in mg.
  public var amount: Double
  public var route: Route

  public init(time: Double, amount: Double, route: Route = .sc) {
    self.time = time
    self.amount = amount
    self.route = route
  }
}
