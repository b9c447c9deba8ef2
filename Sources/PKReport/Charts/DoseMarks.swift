import PKCore

/// Doses as a chart marks them: doses at the same time form one group (one marker each, stacked),
/// the first group is the loading dose when it is larger than the next, and labels name the amount.
public struct DoseGroup: Sendable, Equatable {
  /// Days.
  public var time: Double
  public var doses: [Dose]
  /// "600 mg", "300+300 mg", "600 mg IV".
  public var text: String
  /// The first dose of a regimen when it is larger than the dose that follows.
  public var isLoading: Bool

  /// Groups `doses` (in any order) by time, in time order, and flags the loading dose.
  public static func groups(_ doses: [Dose]) -> [DoseGroup] {
    let finite = doses.filter { $0.time.isFinite && $0.amount.isFinite }.sorted { $0.time < $1.time }
    var groups: [DoseGroup] = []
    for dose in finite {
      if let last = groups.last, last.time == dose.time {
        groups[groups.count - 1].doses.append(dose)
      } else {
        groups.append(DoseGroup(time: dose.time, doses: [dose], text: "", isLoading: false))
      }
    }
    for i in groups.indices { groups[i].text = text(groups[i].doses) }
    if groups.count >= 2 {
      let first = groups[0].doses.reduce(0) { $0 + $1.amount }
      let second = groups[1].doses.reduce(0) { $0 + $1.amount }
      groups[0].isLoading = first > second
    }
    return groups
  }

  static func text(_ doses: [Dose]) -> String {
    let amounts = doses.map { amountText($0.amount) }.joined(separator: "+")
    return amounts + " mg" + (doses.contains { $0.route == .iv } ? " IV" : "")
  }

  /// An amount in mg without needless decimals: 600, 2.5, 0.125.
  public static func amountText(_ amount: Double) -> String {
    if amount == amount.rounded() && Swift.abs(amount) < 1e12 { return String(Int(amount)) }
    return AxisTicks.readable(amount)
  }
}

/// Where dose labels go in one regimen's dose row: every dose is labelled when the labels fit;
/// otherwise a run of equal doses is labelled once, at its first dose, as "300 mg ×51". Labels
/// sit on up to two text lines, so a loading dose and the maintenance dose right after it both
/// keep their labels.
struct DoseLabelPlan {
  struct Label: Equatable {
    var group: Int
    var text: String
    /// Left edge in pixels.
    var left: Double
    var width: Double
    /// 0 (first line) or 1 (second line).
    var line: Int
    var bold: Bool
  }

  var labels: [Label] = []
  var linesUsed: Int { (labels.map(\.line).max() ?? -1) + 1 }

  /// `positions[i]` is group `i`'s x in pixels; `width(text, bold)` estimates a label's width.
  init(groups: [DoseGroup], positions: [Double], minX: Double, maxX: Double, lines: Int = 2, width: (String, Bool) -> Double) {
    guard !groups.isEmpty, groups.count == positions.count else { return }
    let gap = 5.0
    var lineRight = [Double](repeating: -.infinity, count: Swift.max(lines, 1))

    func box(_ center: Double, _ w: Double) -> Double { Swift.min(Swift.max(center - w / 2, minX), Swift.max(minX, maxX - w)) }

    /// Places a label on the first line where it fits; returns whether it was placed.
    func place(_ label: Label, lineRight: inout [Double], into out: inout [Label]) -> Bool {
      for line in lineRight.indices where label.left >= lineRight[line] + gap {
        var l = label
        l.line = line
        out.append(l)
        lineRight[line] = l.left + l.width
        return true
      }
      return false
    }

    // Runs of consecutive groups with the same label.
    var runs: [Range<Int>] = []
    var start = 0
    for i in 1...groups.count where i == groups.count || groups[i].text != groups[start].text || groups[i].isLoading || groups[start].isLoading {
      runs.append(start..<i)
      start = i
    }

    for run in runs {
      // Every dose of the run, if all fit on the first free line without touching each other.
      var trial: [Label] = []
      var trialRight = lineRight
      var allFit = true
      for g in run {
        let bold = groups[g].isLoading
        let w = width(groups[g].text, bold)
        let label = Label(group: g, text: groups[g].text, left: box(positions[g], w), width: w, line: 0, bold: bold)
        // Keep a run on a single line so the labels read as a sequence.
        let line = trial.first?.line ?? (trialRight.firstIndex { label.left >= $0 + gap } ?? -1)
        guard line >= 0, label.left >= trialRight[line] + gap else { allFit = false; break }
        var l = label
        l.line = line
        trial.append(l)
        trialRight[line] = l.left + l.width
      }
      if allFit {
        labels += trial
        lineRight = trialRight
        continue
      }
      // Otherwise one label for the run, at its first dose.
      let g = run.lowerBound
      let bold = groups[g].isLoading
      for text in run.count > 1 ? [groups[g].text + " ×\(run.count)", groups[g].text] : [groups[g].text] {
        let w = width(text, bold)
        let left = Swift.min(Swift.max(positions[g] - 3, minX), Swift.max(minX, maxX - w))
        if place(Label(group: g, text: text, left: left, width: w, line: 0, bold: bold), lineRight: &lineRight, into: &labels) { break }
      }
    }
  }
}
