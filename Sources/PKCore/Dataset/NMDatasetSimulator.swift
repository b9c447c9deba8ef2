/// The predictions of a one-compartment model for every record of a NONMEM-style dataset.
public struct NMSimulationResult: Sendable {
  /// The model's output after each record, aligned with `NMDataset.records` (as NONMEM's
  /// `$TABLE` row for that record: a dose row shows the state after the dose).
  public var outputs: [Double]
  /// Steady-state dose records whose lag is ≥ II. NONMEM's help says the lag "should be less than
  /// the interdose interval"; posology gives them the periodic steady state of the lagged doses,
  /// which NONMEM's own output only reaches after the first cycles.
  public var lagAtLeastIntervalRecords: [NMRecord]
}

public enum NMDatasetSimulator {
  /// Simulates every subject of `dataset` with `model`, from empty compartments at each
  /// subject's first record.
  public static func simulate(_ dataset: NMDataset, model: OneCompartmentDepotModel) throws(DatasetError) -> NMSimulationResult {
    var outputs: [Double] = []
    outputs.reserveCapacity(dataset.records.count)
    var notices: [NMRecord] = []
    for subject in dataset.subjects {
      var simulation = NMSubjectSimulation(model: model, source: dataset.source, startTime: dataset.records[subject.lowerBound].time)
      for index in subject {
        outputs.append(try simulation.process(dataset.records[index]))
      }
      notices += simulation.lagAtLeastIntervalRecords
    }
    return NMSimulationResult(outputs: outputs, lagAtLeastIntervalRecords: notices)
  }
}
