import PKCore

/// What a chart or report shows for one regimen: its doses, the curve (typical patient or cohort
/// median) on the output grid, optional cohort bands, and optional steady-state trough.
public struct ChartSeries: Sendable {
  /// The regimen as the user gave it (legend text).
  public var label: String
  public var doses: [Dose]
  /// Output times in days.
  public var times: [Double]
  /// Typical-patient concentration, or the cohort median (mg/L), one per time.
  public var center: [Double]
  /// Cohort percentile bands (mg/L), one per time, when the run was a cohort.
  public var bands: Bands?
  /// Steady-state trough (mg/L) to mark, when known.
  public var steadyStateTrough: Double?

  public struct Bands: Sendable {
    public var p05: [Double]
    public var p25: [Double]
    public var p75: [Double]
    public var p95: [Double]
    public init(p05: [Double], p25: [Double], p75: [Double], p95: [Double]) {
      self.p05 = p05; self.p25 = p25; self.p75 = p75; self.p95 = p95
    }
  }

  public init(label: String, doses: [Dose], times: [Double], center: [Double], bands: Bands? = nil, steadyStateTrough: Double? = nil) {
    self.label = label; self.doses = doses; self.times = times; self.center = center
    self.bands = bands; self.steadyStateTrough = steadyStateTrough
  }
}

/// Options shared by every chart: axes, reference lines, title.
public struct ChartOptions: Sendable {
  public var title: String
  public var logScale: Bool
  /// Lower limit of quantification to draw (mg/L), if any.
  public var lloq: Double?
  /// A target concentration (`--threshold`) to draw, if any.
  public var threshold: Double?
  public var yLabel: String
  public init(title: String, logScale: Bool = false, lloq: Double? = nil, threshold: Double? = nil, yLabel: String = "Concentration (mg/L)") {
    self.title = title; self.logScale = logScale; self.lloq = lloq; self.threshold = threshold; self.yLabel = yLabel
  }
}
