import Foundation

/// Progress of a long run (a cohort), shown on one rewritten stderr line only when stderr is a
/// terminal; silent otherwise. Safe to call from several threads. Nothing is shown for runs that
/// finish within `delay` seconds, and the line is redrawn only when the whole percentage changes.
///
///     let progress = ProgressReporter(total: subjects, isTerminal: console.stderrIsTerminal) { console.err($0) }
///     … progress.advance(by: 1) …
///     progress.finish()
public final class ProgressReporter: @unchecked Sendable {
  private let lock = NSLock()
  private let total: Int
  private let isTerminal: Bool
  private let unit: String
  private let delay: Double
  private let write: @Sendable (String) -> Void
  private let start: Date
  private var done = 0
  private var shownPercent = -1
  private var showing = false
  private var finished = false

  /// - Parameters:
  ///   - total: The number of steps (subjects).
  ///   - isTerminal: Whether stderr is a terminal; when `false` the reporter never writes.
  ///   - unit: What a step is, for the line ("subjects").
  ///   - delay: Seconds before the first line appears.
  ///   - write: Writes text to stderr.
  public init(total: Int, isTerminal: Bool, unit: String = "subjects", delay: Double = 0.5, write: @escaping @Sendable (String) -> Void) {
    self.total = Swift.max(total, 0)
    self.isTerminal = isTerminal
    self.unit = unit
    self.delay = delay
    self.write = write
    self.start = Date()
  }

  /// Records `steps` more steps done.
  public func advance(by steps: Int = 1) {
    guard isTerminal else { return }
    lock.lock()
    defer { lock.unlock() }
    guard !finished else { return }
    done = Swift.min(total, done + Swift.max(steps, 0))
    let percent = total == 0 ? 100 : done * 100 / total
    guard percent != shownPercent else { return }
    let elapsed = Date().timeIntervalSince(start)
    guard showing || elapsed >= delay else { return }
    shownPercent = percent
    showing = true
    write("\r" + Self.line(done: done, total: total, unit: unit, elapsed: elapsed) + "\u{1B}[K")
  }

  /// Clears the progress line (if one was shown); later calls do nothing.
  public func finish() {
    guard isTerminal else { return }
    lock.lock()
    defer { lock.unlock() }
    guard !finished else { return }
    finished = true
    if showing { write("\r\u{1B}[K") }
  }

  /// "  42% [██████████░░░░░░░░░░░░░░]  420/1000 subjects, about 12 s left".
  static func line(done: Int, total: Int, unit: String, elapsed: Double) -> String {
    let fraction = total == 0 ? 1 : Double(done) / Double(total)
    let barWidth = 24
    let filled = Swift.min(barWidth, Int(fraction * Double(barWidth)))
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled)
    var text = String(repeating: " ", count: Swift.max(0, 3 - String(Int(fraction * 100)).count)) + "\(Int(fraction * 100))% [\(bar)] \(done)/\(total) \(unit)"
    if done > 0 && done < total && elapsed > 1 {
      let left = elapsed / fraction - elapsed
      text += left >= 90 ? ", about \(Int((left / 60).rounded())) min left" : ", about \(Int(left.rounded(.up))) s left"
    }
    return text
  }
}
