import PKCore

/// Doses from a CSV file with header `time_day,amount_mg[,route]` (DESIGN §6).
///
/// Rules: times are 0 or more and non-decreasing (equal times are separate doses, numbered in
/// file order); amounts are greater than 0; route is `sc` or `iv` (default `sc`); blank lines are
/// skipped; a UTF-8 byte-order mark and CRLF line ends are accepted. Anything else is exit 65.
public enum EventsFile {
  public static func parse(_ text: String, path: String = "events file") throws(UserError) -> [Dose] {
    let lines = TextFile.lines(text)
    var index = 0
    while index < lines.count && lines[index].allSatisfy(\.isWhitespace) { index += 1 }
    guard index < lines.count else {
      throw UserError("the events file '\(path)' is empty", fix: "start it with the header time_day,amount_mg[,route]", kind: .dataError)
    }
    let header = csvFields(lines[index]).map { $0.trimmingSpaces().lowercased() }
    guard header == ["time_day", "amount_mg"] || header == ["time_day", "amount_mg", "route"] else {
      throw UserError(
        "the events file '\(path)' has the header '\(lines[index])'",
        fix: "its first line must be time_day,amount_mg or time_day,amount_mg,route", kind: .dataError)
    }
    var doses: [Dose] = []
    for lineIndex in (index + 1)..<lines.count {
      let line = lines[lineIndex]
      if line.allSatisfy(\.isWhitespace) { continue }
      let where_ = "line \(lineIndex + 1) of '\(path)'"
      let fields = csvFields(line).map { $0.trimmingSpaces() }
      guard fields.count == header.count else {
        throw UserError("\(where_) has \(fields.count) fields, the header \(header.count)", fix: "write one dose per line as time_day,amount_mg\(header.count == 3 ? ",route" : "")", kind: .dataError)
      }
      guard let time = csvNumber(fields[0]) else {
        throw UserError("\(where_): the time '\(fields[0])' is not a number", fix: "write the time in days, e.g. 14", kind: .dataError)
      }
      guard time >= 0 else {
        throw UserError("\(where_): the time \(fields[0]) is negative", fix: "give times of 0 days or more", kind: .dataError)
      }
      guard let amount = csvNumber(fields[1]) else {
        throw UserError("\(where_): the amount '\(fields[1])' is not a number", fix: "write the amount in mg, e.g. 300", kind: .dataError)
      }
      guard amount > 0, amount <= 1e6 else {
        throw UserError("\(where_): an amount of \(fields[1]) mg is not possible", fix: "give an amount greater than 0 and at most 1,000,000 mg", kind: .dataError)
      }
      var route = Route.sc
      if header.count == 3 {
        guard let r = Route(rawValue: fields[2].lowercased()) else {
          throw UserError("\(where_): the route '\(fields[2])' is unknown", fix: "use sc or iv", kind: .dataError)
        }
        route = r
      }
      if let last = doses.last, time < last.time {
        throw UserError(
          "\(where_): the time \(fields[0]) comes before the previous dose's \(NumberFormat.time(last.time))",
          fix: "sort the doses by time (equal times are allowed and are separate doses)", kind: .dataError)
      }
      doses.append(Dose(time: time, amount: amount, route: route))
      guard doses.count <= Regimen.maximumDoses else {
        throw UserError("the events file '\(path)' has more than \(Regimen.maximumDoses) doses", fix: "split the schedule or use a regimen with an interval", kind: .dataError)
      }
    }
    guard !doses.isEmpty else {
      throw UserError("the events file '\(path)' has no doses", fix: "add lines such as 0,600 after the header", kind: .dataError)
    }
    return doses
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while let f = s.first, f.isWhitespace { s.removeFirst() }
    while let l = s.last, l.isWhitespace { s.removeLast() }
    return String(s)
  }
}
