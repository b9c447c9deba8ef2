import Foundation
import PKCore
import PKReport

/// `posology merge`: combines the outputs of a sharded cohort run into the summary the unsharded
/// run writes, byte for byte (the summary is computed from the same values with order-independent
/// arithmetic: exact sums and exact order statistics).
enum MergeCommand {
  static var info: Posology.CommandInfo {
    Posology.CommandInfo(
      name: "merge", abstract: "Combine the outputs of a sharded cohort run (--shard k/n) into one summary.",
      usage: "posology merge <shard-file> ... [-o <file>]",
      discussion: "Give every shard's file (in any order). The result is byte-identical to the same run without --shard.",
      options: SimulateCommand.outputOptions + [OptionSpec("--threads", value: "t", "Worker threads. (default: all cores)")],
      allowsPositionals: true, run: run)
  }

  static func run(_ o: ParsedOptions, _ console: Console) throws {
    guard !o.positionals.isEmpty else {
      throw UserError("merge needs the shard files", fix: "give them all, e.g. posology merge shard-*.csv", kind: .usage, suggestsHelp: true)
    }
    let threads = try o.integer("--threads", "a number of threads", in: 1...1024) ?? ProcessInfo.processInfo.activeProcessorCount
    let output = o.value("--output")
    if let output { try TextFile.checkWritable(output) }
    let shards = try ShardSet(paths: o.positionals, threads: threads)
    let summaries: [ColumnSummary]
    if shards.rows * shards.columns <= CohortRun.inMemoryValues {
      let matrix = CohortMatrix(rows: shards.rows, columns: shards.columns, threads: threads)
      try shards.forEachBatch(pass: 1) { first, count, values in
        matrix.values.withUnsafeMutableBufferPointer { dst in
          for i in 0..<(count * shards.columns) { dst[first * shards.columns + i] = values[i] }
        }
      }
      summaries = try StreamingSummary.summarize(matrix)
    } else {
      summaries = try StreamingSummary.summarize(shards)
    }
    let csv = SummaryTable.csv(summaries, labels: shards.isCompare ? shards.labels : nil, times: shards.times)
    try SimulateCommand.emit(csv, to: output, console: console)
  }
}

/// The shard files of one cohort, validated: same run, every shard exactly once, every subject
/// exactly once and in order. A replayable value source (each pass re-reads the files).
final class ShardSet: CohortValueSource, @unchecked Sendable {  // immutable after init
  let files: [(path: String, k: Int)]
  let rows: Int
  let columns: Int
  let isCompare: Bool
  let labels: [String]
  let times: [String]
  let threads: Int

  init(paths: [String], threads: Int) throws(UserError) {
    self.threads = threads
    var headers: [(path: String, kind: String, subjects: Int, k: Int, n: Int, columns: Int, names: [String])] = []
    for path in paths {
      let text = try TextFile.read(path, what: "shard file")
      let lines = text.prefix(1 << 20).split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
      let meta = lines.first.map { csvFields($0) } ?? []
      guard meta.count == 5, meta[0] == "posology-shard", meta[1] == "simulate" || meta[1] == "compare", let subjects = Int(meta[2]),
        let columns = Int(meta[4]), lines.count >= 2
      else {
        throw UserError("'\(path)' is not a shard file written by 'posology … --shard k/n'", fix: "give the files the shard runs wrote", kind: .dataError)
      }
      let kn = meta[3].split(separator: "/").compactMap { Int($0) }
      guard kn.count == 2, (1...CohortRun.maximumSubjects).contains(subjects), columns >= 1, kn[1] >= 1, kn[1] <= subjects, kn[0] >= 1, kn[0] <= kn[1] else {
        throw UserError("'\(path)' has a damaged shard header", fix: "re-run that shard", kind: .dataError)
      }
      headers.append((path, meta[1], subjects, kn[0], kn[1], columns, csvFields(lines[1])))
    }
    let first = headers[0]
    for h in headers where h.kind != first.kind || h.subjects != first.subjects || h.n != first.n || h.columns != first.columns || h.names != first.names {
      throw UserError("'\(h.path)' belongs to a different run than '\(first.path)'", fix: "merge only the shards of one run (same options, same --subjects and n)", kind: .dataError)
    }
    let ks = headers.map(\.k).sorted()
    guard ks.count == first.n, ks == Array(1...first.n) else {
      let given = Set(ks)
      let missing = Array((1...first.n).lazy.filter { !given.contains($0) }.prefix(11))
      let list = missing.prefix(10).map { "\($0)/\(first.n)" }.joined(separator: ", ") + (missing.count > 10 ? ", …" : "")
      let fix = missing.isEmpty ? "give each shard once" : "add the missing shard(s) \(list)"
      throw UserError("the shard files do not cover shards 1…\(first.n) exactly once", fix: fix, kind: .dataError)
    }
    files = headers.sorted { $0.k < $1.k }.map { ($0.path, $0.k) }
    rows = first.subjects
    columns = first.columns
    isCompare = first.kind == "compare"
    let timeNames = Array(first.names.dropFirst(2))
    times = timeNames
    guard timeNames.count > 0, columns % timeNames.count == 0 else {
      throw UserError("'\(first.path)' has a damaged header", fix: "re-run that shard", kind: .dataError)
    }
    do { try CohortRun.checkMemory(columns: columns, subjects: rows) } catch {
      throw UserError("'\(first.path)' declares \(rows) subjects × \(columns) values: \(error.problem)", fix: "check that it is an undamaged shard file, or merge on a larger machine", kind: .dataError)
    }
    // Regimen labels from the first subject's rows.
    let regimens = columns / timeNames.count
    let text = try TextFile.read(first.path, what: "shard file")
    let lines = text.split(separator: "\n", maxSplits: 2 + regimens, omittingEmptySubsequences: false)
    labels = lines.dropFirst(2).prefix(regimens).map { csvFields($0).dropFirst().first ?? "" }
  }

  func parallelColumns(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
    CohortMatrix(rows: 0, columns: 0, threads: threads).parallelColumns(count, work)
  }

  func forEachBatch(pass: Int, _ body: (Int, Int, UnsafeBufferPointer<Double>) throws -> Void) throws {
    let regimens = columns / times.count
    let batch = Swift.max(1, (32 << 20) / (8 * columns))
    var buffer = [Double](repeating: 0, count: batch * columns)
    var filled = 0, firstRow = 0, expectedSubject = 1
    for (path, k) in files {
      let text = try TextFile.read(path, what: "shard file")
      let range = CohortRequest.shard(k, of: files.count, subjects: rows)
      var lineNumber = 0
      var regimenIndex = 0
      for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
        lineNumber += 1
        if lineNumber <= 2 { continue }
        let fields = csvFields(line)
        guard fields.count == 2 + times.count, let subject = Int(fields[0]) else {
          throw UserError("line \(lineNumber) of '\(path)' is damaged", fix: "re-run shard \(k)", kind: .dataError)
        }
        guard subject == expectedSubject, range.contains(subject - 1) else {
          throw UserError("'\(path)' holds subject \(subject) where subject \(expectedSubject) was expected", fix: "re-run shard \(k); do not edit shard files", kind: .dataError)
        }
        for (i, f) in fields.dropFirst(2).enumerated() {
          guard let v = csvNumber(f) else { throw UserError("line \(lineNumber) of '\(path)' has the value '\(f)'", fix: "re-run shard \(k)", kind: .dataError) }
          buffer[filled * columns + regimenIndex * times.count + i] = v
        }
        regimenIndex += 1
        if regimenIndex == regimens {
          regimenIndex = 0
          expectedSubject += 1
          filled += 1
          if filled == batch {
            try buffer.withUnsafeBufferPointer { try body(firstRow, filled, UnsafeBufferPointer(rebasing: $0[0..<(filled * columns)])) }
            firstRow += filled
            filled = 0
          }
        }
      }
      guard expectedSubject == range.upperBound + 1 else {
        throw UserError("'\(path)' stops before subject \(range.upperBound)", fix: "re-run shard \(k) (the file is incomplete)", kind: .dataError)
      }
    }
    if filled > 0 {
      try buffer.withUnsafeBufferPointer { try body(firstRow, filled, UnsafeBufferPointer(rebasing: $0[0..<(filled * columns)])) }
    }
  }
}
