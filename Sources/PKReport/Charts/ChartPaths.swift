/// SVG path data for curves and bands, in pixels. Long curves are thinned to a few points per
/// pixel column (first, lowest, highest, last), which keeps files small without changing the
/// picture; missing values (`nil`) leave gaps.
enum ChartPaths {
  /// A curve through `points` (x, y or `nil` for a gap): `M… L…`, a new `M` after each gap.
  static func line(_ points: [(x: Double, y: Double?)]) -> String {
    var d = ""
    var penDown = false
    for index in thinned(points) {
      guard let y = points[index].y else { penDown = false; continue }
      d += (penDown ? "L" : "M") + SVGWriter.number(points[index].x) + " " + SVGWriter.number(y)
      penDown = true
    }
    return d
  }

  /// A filled band between `lower` and `upper` (pixels, `nil` for a gap): one closed shape per
  /// stretch where both are known.
  static func band(x: [Double], lower: [Double?], upper: [Double?]) -> String {
    var d = ""
    var stretch: [Int] = []
    func flush() {
      defer { stretch.removeAll() }
      guard stretch.count >= 2 else { return }
      let top = thinned(stretch.map { (x: x[$0], y: upper[$0]) }).map { stretch[$0] }
      let bottom = thinned(stretch.map { (x: x[$0], y: lower[$0]) }).map { stretch[$0] }
      var first = true
      for i in top {
        d += (first ? "M" : "L") + SVGWriter.number(x[i]) + " " + SVGWriter.number(upper[i] ?? 0)
        first = false
      }
      for i in bottom.reversed() { d += "L" + SVGWriter.number(x[i]) + " " + SVGWriter.number(lower[i] ?? 0) }
      d += "Z"
    }
    for i in x.indices {
      if lower[i] != nil && upper[i] != nil { stretch.append(i) } else { flush() }
    }
    flush()
    return d
  }

  /// The indices worth drawing: all of them when there are few per pixel column or x is not
  /// sorted; otherwise per column the first, lowest, highest and last point (and every gap).
  static func thinned(_ points: [(x: Double, y: Double?)]) -> [Int] {
    guard let first = points.first?.x, let last = points.last?.x else { return [] }
    let columns = Swift.max(1, Int((last - first).rounded(.up)))
    let sorted = zip(points, points.dropFirst()).allSatisfy { $0.x <= $1.x }
    guard sorted, points.count > 4 * columns else { return Array(points.indices) }
    var keep: [Int] = []
    var bucket: [Int] = []
    var bucketColumn = Int.min
    func flush() {
      defer { bucket.removeAll() }
      guard let b0 = bucket.first, let b1 = bucket.last else { return }
      var lowest = b0, highest = b0
      for i in bucket {
        guard let y = points[i].y else { continue }
        if let yl = points[lowest].y, y < yl { lowest = i } else if points[lowest].y == nil { lowest = i }
        if let yh = points[highest].y, y > yh { highest = i } else if points[highest].y == nil { highest = i }
      }
      keep += Set([b0, lowest, highest, b1]).sorted()
    }
    for i in points.indices {
      if points[i].y == nil {
        flush()
        keep.append(i)
        bucketColumn = Int.min
        continue
      }
      let column = Int(points[i].x.rounded(.down))
      if column != bucketColumn { flush(); bucketColumn = column }
      bucket.append(i)
    }
    flush()
    return keep
  }
}
