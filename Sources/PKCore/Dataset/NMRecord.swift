/// One record (row) of a NONMEM-style dataset, as PREDPP sees it.
///
/// Data items follow NONMEM's definitions (NONMEM Users Guide VI, PREDPP, ch. V "Data items";
/// nmhelp EVID, AMT, RATE, II, ADDL, SS): see `docs/nonmem-datasets.md`.
public struct NMRecord: Sendable, Equatable {
  /// 1-based line number in the file (for messages).
  public var line: Int
  /// The `ID` cell as written in the file (trimmed): output rows repeat it verbatim.
  public var idText: String
  /// The `TIME` cell as written in the file (trimmed): output rows repeat it verbatim.
  public var timeText: String
  /// `TIME`, in the dataset's time unit.
  public var time: Double
  public var event: NMEvent
  /// `AMT`: the dose amount before bioavailability (0 on non-dose records and on a
  /// steady-state constant infusion).
  public var amount: Double
  /// `CMT`: 0 means the default compartment (depot for doses, central for observations).
  public var compartment: Int
  /// `RATE`: 0 bolus, > 0 infusion rate, −1 modeled rate (Rn), −2 modeled duration (Dn).
  public var rate: Double
  /// `II`: interdose interval of additional and implied steady-state doses.
  public var interval: Double
  /// `ADDL`: number of additional doses at `TIME + k·II`, k = 1…ADDL.
  public var additionalDoses: Int
  /// `SS`: 0 transient dose, 1 steady state replacing the amounts, 2 steady state added to them.
  public var steadyState: Int
  /// `MDV`, when the file has the column.
  public var missingDependentVariable: Int?
  /// Per-record dose items (ALAGn, Fn, Dn, Rn) read from mapped columns; `nil` where no column
  /// supplies them.
  public var doseItems: NMDoseItemValues

  public init(
    line: Int, idText: String, timeText: String, time: Double, event: NMEvent, amount: Double = 0,
    compartment: Int = 0, rate: Double = 0, interval: Double = 0, additionalDoses: Int = 0,
    steadyState: Int = 0, missingDependentVariable: Int? = nil, doseItems: NMDoseItemValues = NMDoseItemValues()
  ) {
    self.line = line; self.idText = idText; self.timeText = timeText; self.time = time; self.event = event
    self.amount = amount; self.compartment = compartment; self.rate = rate; self.interval = interval
    self.additionalDoses = additionalDoses; self.steadyState = steadyState
    self.missingDependentVariable = missingDependentVariable; self.doseItems = doseItems
  }

  /// Whether this record gives a dose (EVID 1 or 4).
  public var isDose: Bool { event == .dose || event == .resetAndDose }

  /// A steady-state constant infusion: `AMT = 0, RATE > 0, II = 0, SS ≠ 0` (nmhelp SS: the
  /// system is set to the steady state of an infusion that has run forever, which "terminates at
  /// the event time of the SS dose record").
  public var isSteadyStateConstantInfusion: Bool {
    isDose && steadyState != 0 && amount == 0 && rate > 0 && interval == 0
  }
}

/// `EVID` (NONMEM Users Guide VI §V.B; nmhelp EVID).
public enum NMEvent: Int, Sendable, Equatable, CaseIterable {
  /// 0: observation. The output row of the dataset run.
  case observation = 0
  /// 1: dose.
  case dose = 1
  /// 2: other-type event (no dose, no observation): advances time only.
  case other = 2
  /// 3: reset: every amount is set to 0, running infusions and pending doses are dropped.
  case reset = 3
  /// 4: reset, then the record's dose.
  case resetAndDose = 4
}

/// The NONMEM PK-block names a dataset column can supply per record, for compartment n:
/// `ALAGn` (absorption lag), `Fn` (bioavailability), `Dn` (modeled infusion duration, used with
/// RATE −2), `Rn` (modeled infusion rate, used with RATE −1). Source: NONMEM Users Guide VI
/// §V.D–V.E; nmhelp "absorption lag", "bioavailability", RATE.
public enum NMDoseItem: Hashable, Sendable, CustomStringConvertible {
  case lag(compartment: Int)
  case bioavailability(compartment: Int)
  case duration(compartment: Int)
  case rate(compartment: Int)

  /// The compartments a one-compartment model with a depot has (1 depot, 2 central).
  public static let compartments = 1...2

  public var compartment: Int {
    switch self {
    case .lag(let n), .bioavailability(let n), .duration(let n), .rate(let n): n
    }
  }

  /// `ALAG2`, `F1`, `D2`, `R2`…
  public var description: String {
    switch self {
    case .lag(let n): "ALAG\(n)"
    case .bioavailability(let n): "F\(n)"
    case .duration(let n): "D\(n)"
    case .rate(let n): "R\(n)"
    }
  }

  /// Every item, in a fixed order (for messages).
  public static var all: [NMDoseItem] {
    compartments.flatMap { n in [.lag(compartment: n), .bioavailability(compartment: n), .duration(compartment: n), .rate(compartment: n)] }
  }

  /// Parses a NONMEM name (`ALAG2`, `f1`, `D2`, `R1`), case-insensitive.
  public init?(name: String) {
    guard let found = Self.all.first(where: { $0.description.lowercased() == name.lowercased() }) else { return nil }
    self = found
  }

  /// Columns mapped without being asked: each NONMEM name maps to itself, and the nmtests
  /// conformance suite's user columns map as its control stream does (`ALAG2 = LAGT`,
  /// `F2 = BIOAV`, `D2 = DUR2`, `R2 = RAT2`).
  public static let defaultColumns: [String: NMDoseItem] = {
    var map: [String: NMDoseItem] = [:]
    for item in all { map[item.description] = item }
    map["LAGT"] = .lag(compartment: 2)
    map["BIOAV"] = .bioavailability(compartment: 2)
    map["DUR2"] = .duration(compartment: 2)
    map["RAT2"] = .rate(compartment: 2)
    return map
  }()
}

/// Per-record values of the dose items, `nil` where no column supplies them (the model's value
/// applies: F1 = model F, ALAG1 = model tlag, F2 = 1, ALAG2 = 0; Dn and Rn have no default).
public struct NMDoseItemValues: Sendable, Equatable {
  private var values: [Double?] = Array(repeating: nil, count: 4 * NMDoseItem.compartments.count)

  public init() {}

  public subscript(item: NMDoseItem) -> Double? {
    get { values[Self.index(item)] }
    set { values[Self.index(item)] = newValue }
  }

  private static func index(_ item: NMDoseItem) -> Int {
    let base = (item.compartment - NMDoseItem.compartments.lowerBound) * 4
    switch item {
    case .lag: return base
    case .bioavailability: return base + 1
    case .duration: return base + 2
    case .rate: return base + 3
    }
  }
}
