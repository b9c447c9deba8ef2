import Foundation
import PKCore
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

@testable import PKReport

/// An SVG (or XHTML) document parsed with Foundation's XMLParser, for structure checks.
final class ParsedSVG: NSObject, XMLParserDelegate {
  struct Element {
    var name: String
    var attributes: [String: String]
    var text = ""
    /// Class names of this element and its ancestors' (`g class="legend"` → children too).
    var inherited: Set<String>
    var classes: Set<String> { Set((attributes["class"] ?? "").split(separator: " ").map(String.init)) }
    func number(_ key: String) -> Double? { attributes[key].flatMap(Double.init) }
  }

  private(set) var elements: [Element] = []
  private(set) var error: Error?
  private var stack: [Int] = []

  init(_ text: String) {
    super.init()
    let parser = XMLParser(data: Data(text.utf8))
    parser.delegate = self
    if !parser.parse() { error = parser.parserError ?? NSError(domain: "xml", code: 1) }
  }

  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
    let inherited = stack.last.map { elements[$0].inherited } ?? []
    var e = Element(name: name, attributes: attributes, inherited: inherited)
    e.inherited.formUnion(e.classes)
    elements.append(e)
    stack.append(elements.count - 1)
  }

  func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
    _ = stack.popLast()
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) {
    if let i = stack.last { elements[i].text += string }
  }

  func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

  func all(_ name: String? = nil, class c: String? = nil) -> [Element] {
    elements.filter { (name == nil || $0.name == name) && (c == nil || $0.classes.contains(c!)) }
  }

  var root: Element? { elements.first }

  /// The plot area rectangle (x, y, width, height).
  var plotArea: (x: Double, y: Double, width: Double, height: Double)? {
    guard let r = all("rect", class: "plot-area").first, let x = r.number("x"), let y = r.number("y"), let w = r.number("width"), let h = r.number("height") else { return nil }
    return (x, y, w, h)
  }

  var viewBox: (width: Double, height: Double)? {
    guard let parts = root?.attributes["viewBox"]?.split(separator: " ").compactMap({ Double($0) }), parts.count == 4 else { return nil }
    return (parts[2], parts[3])
  }

  /// Every coordinate pair of an element: path data pairs, or x/y-style attributes.
  static func points(_ e: Element) -> [(Double, Double)] {
    if let d = e.attributes["d"] { return pathPoints(d) }
    var out: [(Double, Double)] = []
    for (xk, yk) in [("x", "y"), ("x1", "y1"), ("x2", "y2"), ("cx", "cy")] {
      if let x = e.number(xk), let y = e.number(yk) { out.append((x, y)) }
    }
    if let x = e.number("x"), let y = e.number("y"), let w = e.number("width"), let h = e.number("height") { out.append((x + w, y + h)) }
    return out
  }

  /// The numbers of path data taken in pairs (the charts use M, L and Z only).
  static func pathPoints(_ d: String) -> [(Double, Double)] {
    let numbers = pathNumbers(d)
    return stride(from: 0, to: numbers.count - 1, by: 2).map { (numbers[$0], numbers[$0 + 1]) }
  }

  static func pathNumbers(_ d: String) -> [Double] {
    var numbers: [Double] = []
    var current = ""
    for c in d {
      if c.isNumber || c == "." || (c == "-" && current.isEmpty) || c == "e" {
        current.append(c)
      } else {
        if !current.isEmpty { numbers.append(Double(current) ?? .nan) }
        current = c == "-" ? "-" : ""
      }
    }
    if !current.isEmpty { numbers.append(Double(current) ?? .nan) }
    return numbers
  }

  /// Text of the elements in a class (e.g. the legend's texts).
  func texts(inside c: String) -> [String] {
    elements.filter { $0.name == "text" && $0.inherited.contains(c) }.map(\.text)
  }
}

/// Checks shared by every SVG test: it parses, has axes and a legend, one path per series, every
/// number finite, curves/bands/reference lines inside the plot area, dose markers under it, and
/// everything inside the view box.
func checkStructure(_ svg: String, series: [ChartSeries], sourceLocation: SourceLocation = #_sourceLocation) -> ParsedSVG {
  let doc = ParsedSVG(svg)
  #expect(doc.error == nil, "XML error: \(String(describing: doc.error))", sourceLocation: sourceLocation)
  #expect(doc.root?.name == "svg", sourceLocation: sourceLocation)
  #expect(!svg.lowercased().contains("nan"), sourceLocation: sourceLocation)
  #expect(!svg.contains("inf\""), sourceLocation: sourceLocation)
  #expect(doc.all("path", class: "series").count == series.count, sourceLocation: sourceLocation)
  #expect(doc.all("path", class: "band").count == 2 * series.filter { $0.bands != nil }.count, sourceLocation: sourceLocation)
  #expect(doc.all(class: "dose").count == series.reduce(0) { $0 + $1.doses.count }, sourceLocation: sourceLocation)
  let loadingDoses = series.map { DoseGroup.groups($0.doses).first.map { $0.isLoading ? $0.doses.count : 0 } ?? 0 }.reduce(0, +)
  #expect(doc.all(class: "loading").count == loadingDoses, sourceLocation: sourceLocation)
  #expect(doc.all("g", class: "axis").count == 2, sourceLocation: sourceLocation)
  #expect(!doc.all("g", class: "legend").isEmpty, sourceLocation: sourceLocation)
  for s in series { #expect(doc.texts(inside: "legend").contains(s.label), "legend lacks \(s.label)", sourceLocation: sourceLocation) }

  guard let area = doc.plotArea, let box = doc.viewBox else {
    Issue.record("no plot area or view box", sourceLocation: sourceLocation)
    return doc
  }
  let slack = 0.01
  for e in doc.elements {
    for key in ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height"] {
      if let raw = e.attributes[key] { #expect(Double(raw)?.isFinite == true, "\(e.name) \(key)=\(raw)", sourceLocation: sourceLocation) }
    }
    if let d = e.attributes["d"] {
      let finite = ParsedSVG.pathNumbers(d).allSatisfy { $0.isFinite }
      #expect(finite, "\(e.name) d=\(d.prefix(80))", sourceLocation: sourceLocation)
    }
    for (x, y) in ParsedSVG.points(e) where e.name != "svg" && e.attributes["transform"] == nil {
      #expect(x >= -slack && x <= box.width + slack && y >= -slack && y <= box.height + slack, "\(e.name) (\(x), \(y)) outside the view box", sourceLocation: sourceLocation)
    }
    let inPlot = !e.classes.isDisjoint(with: ["series", "series-casing", "band", "reference", "trough"])
    if inPlot {
      for (x, y) in ParsedSVG.points(e) {
        #expect(x >= area.x - slack && x <= area.x + area.width + slack && y >= area.y - slack && y <= area.y + area.height + slack,
          "\(e.attributes["class"] ?? "") point (\(x), \(y)) outside the plot area", sourceLocation: sourceLocation)
      }
    }
    if e.classes.contains("dose") {
      for (x, y) in ParsedSVG.points(e) {
        #expect(x >= area.x - 14 && x <= area.x + area.width + 14 && y >= area.y + area.height, "dose marker at (\(x), \(y))", sourceLocation: sourceLocation)
      }
    }
  }
  return doc
}

/// A one-compartment curve after `doses` (first-order absorption), for chart fixtures.
func fixtureCurve(doses: [Dose], times: [Double], ka: Double = 0.3, ke: Double = 0.04, volume: Double = 5) -> [Double] {
  times.map { t in
    doses.reduce(0.0) { sum, d in
      guard t > d.time else { return sum }
      let tau = t - d.time
      return sum + d.amount / volume * ka / (ka - ke) * (exp(-ke * tau) - exp(-ka * tau))
    }
  }
}

/// Loading dose then maintenance doses every `interval` days before `horizon`.
func fixtureDoses(loading: Double? = 600, dose: Double = 300, interval: Double = 14, horizon: Double) -> [Dose] {
  var doses: [Dose] = []
  var t = 0.0
  if let loading {
    doses.append(Dose(time: 0, amount: loading))
    t = interval
  }
  while t < horizon {
    doses.append(Dose(time: t, amount: dose))
    t += interval
  }
  return doses
}

func fixtureSeries(label: String, loading: Double? = 600, dose: Double = 300, interval: Double = 14, horizon: Double, step: Double = 1, bands: Bool = false) -> ChartSeries {
  let doses = fixtureDoses(loading: loading, dose: dose, interval: interval, horizon: horizon)
  let times = stride(from: 0.0, through: horizon, by: step).map { $0 }
  let center = fixtureCurve(doses: doses, times: times)
  var s = ChartSeries(label: label, doses: doses, times: times, center: center)
  if bands {
    s.bands = ChartSeries.Bands(p05: center.map { $0 * 0.5 }, p25: center.map { $0 * 0.8 }, p75: center.map { $0 * 1.25 }, p95: center.map { $0 * 1.8 })
  }
  return s
}
