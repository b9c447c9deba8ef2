import PKReport

/// `posology merge`: combines shard outputs (see the cohort section of the README).
enum MergeCommand {
  static var info: Posology.CommandInfo {
    Posology.CommandInfo(
      name: "merge", abstract: "Combine the outputs of a sharded cohort run (--shard k/n) into one summary.",
      usage: "posology merge <file> ... [-o <file>]", discussion: "",
      options: SimulateCommand.outputOptions, allowsPositionals: true, run: run)
  }

  static func run(_ o: ParsedOptions, _ console: Console) throws {
    throw UserError("merge is not available yet in this build", fix: "run the cohort unsharded", kind: .failure)
  }
}
