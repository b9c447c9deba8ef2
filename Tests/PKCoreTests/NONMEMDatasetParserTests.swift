import PKCore
import Testing

/// Reading NONMEM-style datasets: what is accepted, and a clear one-line error (naming the line
/// and the column, with a fix) for everything else.
@Suite("NONMEM datasets: parsing and checks")
struct NONMEMDatasetParserTests {
  static let header = "ID,TIME,EVID,AMT,CMT,RATE,II,ADDL,SS"

  static func parse(_ text: String, _ mapping: NMColumnMapping = NMColumnMapping()) throws(DatasetError) -> NMDataset {
    try NMDatasetParser.parse(text, source: "data.csv", columns: mapping)
  }

  /// Parses and simulates with the nmtests model (problems found while simulating count too).
  static func check(_ text: String) throws(DatasetError) {
    let dataset = try parse(text)
    _ = try NMDatasetSimulator.simulate(dataset, model: OneCompartmentDepotModel(ka: 1.5, k: 0.055, volume: 20, outputScale: 1000))
  }

  struct BadCase: CustomTestStringConvertible, Sendable {
    var label: String
    var text: String
    /// Every fragment must appear in the error's text.
    var fragments: [String]
    var testDescription: String { label }
  }

  static let badDatasets: [BadCase] = [
    BadCase(label: "empty file", text: "\n\n", fragments: ["is empty"]),
    BadCase(label: "header only", text: header + "\n", fragments: ["no records"]),
    BadCase(label: "missing ID column", text: "TIME,AMT\n0,100\n", fragments: ["no ID column", "add the ID column"]),
    BadCase(label: "missing TIME column", text: "ID,AMT\n1,100\n", fragments: ["no TIME column"]),
    BadCase(label: "missing AMT column", text: "ID,TIME,EVID\n1,0,0\n", fragments: ["no AMT column"]),
    BadCase(label: "duplicate column", text: "ID,TIME,AMT,amt\n1,0,0,0\n", fragments: ["'amt' appears twice"]),
    BadCase(label: "unnamed column", text: "ID,TIME,,AMT\n1,0,0,0\n", fragments: ["column 3 of the header has no name"]),
    BadCase(label: "space-separated file", text: "ID TIME AMT\n1 0 100\n", fragments: ["separated by spaces or tabs"]),
    BadCase(label: "calendar dates", text: "ID,DATE,TIME,AMT\n1,2024-01-01,08:00,100\n", fragments: ["DATE column", "not supported"]),
    BadCase(label: "non-numeric AMT", text: header + "\n1,0,1,1OO,1,0,0,0,0\n", fragments: ["line 2 of 'data.csv'", "AMT '1OO' is not a number"]),
    BadCase(label: "non-numeric user column read as a dose item", text: "ID,TIME,AMT,LAGT\n1,0,100,soon\n", fragments: ["line 2", "LAGT 'soon' is not a number"]),
    BadCase(label: "clock time", text: "ID,TIME,AMT\n1,08:30,100\n", fragments: ["TIME '08:30' is not a number", "clock times are not supported"]),
    BadCase(label: "infinite value", text: "ID,TIME,AMT\n1,0,inf\n", fragments: ["AMT 'inf' is not a number"]),
    BadCase(label: "empty ID", text: "ID,TIME,AMT\n,0,100\n", fragments: ["ID is empty"]),
    BadCase(label: "TIME written as '.'", text: "ID,TIME,AMT\n1,.,100\n", fragments: ["TIME is empty"]),
    BadCase(label: "too few fields", text: header + "\n1,0,1,100,1\n", fragments: ["line 2", "5 fields, the header 9"]),
    BadCase(label: "too many fields", text: header + "\n1,0,0,0,2,0,0,0,0,7\n", fragments: ["10 fields, the header 9"]),
    BadCase(label: "unsorted TIME within an ID", text: header + "\n1,0,1,100,1,0,0,0,0\n1,5,0,0,2,0,0,0,0\n1,4,0,0,2,0,0,0,0\n",
            fragments: ["line 4", "TIME 4 comes before the previous record's 5 in ID 1", "sort"]),
    BadCase(label: "ID that comes back", text: header + "\n1,0,1,100,1,0,0,0,0\n2,0,1,100,1,0,0,0,0\n1,5,0,0,2,0,0,0,0\n",
            fragments: ["line 4", "ID 1 starts again after other IDs", "line 2"]),
    BadCase(label: "unknown EVID", text: header + "\n1,0,5,100,1,0,0,0,0\n", fragments: ["EVID 5 is not an event type"]),
    BadCase(label: "EVID not a whole number", text: header + "\n1,0,1.5,100,1,0,0,0,0\n", fragments: ["EVID '1.5' is not a whole number"]),
    BadCase(label: "negative AMT", text: header + "\n1,0,1,-100,1,0,0,0,0\n", fragments: ["AMT -100 is negative"]),
    BadCase(label: "dose without amount", text: header + "\n1,0,1,0,1,0,0,0,0\n", fragments: ["a dose (EVID 1) with AMT 0"]),
    BadCase(label: "negative II", text: header + "\n1,0,1,100,1,0,-12,0,0\n", fragments: ["II -12 is negative"]),
    BadCase(label: "negative ADDL", text: header + "\n1,0,1,100,1,0,12,-1,0\n", fragments: ["ADDL -1 is negative"]),
    BadCase(label: "ADDL without II", text: header + "\n1,0,1,100,1,0,0,3,0\n", fragments: ["ADDL 3 additional doses with II 0"]),
    BadCase(label: "steady state without II", text: header + "\n1,0,1,100,1,0,0,0,1\n", fragments: ["steady-state dose (SS 1) with II 0"]),
    BadCase(label: "SS 3", text: header + "\n1,0,1,100,1,0,12,0,3\n", fragments: ["SS 3 is not supported"]),
    BadCase(label: "RATE -3", text: header + "\n1,0,1,100,2,-3,0,0,0\n", fragments: ["RATE -3 is not a rate"]),
    BadCase(label: "dose into compartment 3", text: header + "\n1,0,1,100,3,0,0,0,0\n", fragments: ["CMT 3 is not a compartment a dose can go to"]),
    BadCase(label: "dose into a turned-off compartment", text: header + "\n1,0,1,100,-2,0,0,0,0\n", fragments: ["CMT -2"]),
    BadCase(label: "observation of compartment 3", text: header + "\n1,0,0,0,3,0,0,0,0\n", fragments: ["CMT 3 is not a compartment of the model"]),
    BadCase(label: "observation with a dose amount", text: header + "\n1,0,0,100,2,0,0,0,0\n", fragments: ["AMT is 100 on an EVID 0 record"]),
    BadCase(label: "reset with ADDL", text: header + "\n1,0,3,0,2,0,12,2,0\n", fragments: ["II is 12 on an EVID 3 record"]),
    BadCase(label: "constant infusion with ADDL", text: header + "\n1,0,1,0,2,10,0,2,1\n", fragments: ["ADDL is 2 on a steady-state constant infusion"]),
    BadCase(label: "MDV other than 0 or 1", text: "ID,TIME,AMT,MDV\n1,0,0,2\n", fragments: ["MDV 2 is neither 0 nor 1"]),
    BadCase(label: "RATE -2 without a duration column", text: header + "\n1,0,1,100,2,-2,0,0,0\n", fragments: ["line 2", "RATE -2 asks for a modeled duration D2, and no column gives it", "--column NAME=D2"]),
    BadCase(label: "RATE -1 without a rate column", text: header + "\n1,0,1,100,2,-1,0,0,0\n", fragments: ["modeled rate R2"]),
    BadCase(label: "RATE -2 with a zero duration", text: header + ",DUR2\n1,0,1,100,2,-2,0,0,0,0\n", fragments: ["modeled duration D2 is 0.0"]),
    BadCase(label: "negative bioavailability on a dose", text: header + ",F2\n1,0,1,100,2,0,0,0,0,-0.5\n", fragments: ["bioavailability F2 is -0.5"]),
    BadCase(label: "negative lag on a dose", text: header + ",ALAG1\n1,0,1,100,1,0,0,0,0,-1\n", fragments: ["lag time ALAG1 is -1.0"]),
    BadCase(label: "two columns for one dose item", text: "ID,TIME,AMT,LAGT,ALAG2\n1,0,100,1,2\n", fragments: ["LAGT and ALAG2 both give ALAG2", "--column"]),
  ]

  @Test("bad datasets are refused with a clear error naming what to fix", arguments: badDatasets)
  func refused(_ bad: BadCase) {
    do {
      try Self.check(bad.text)
      Issue.record("accepted: \(bad.label)")
    } catch {
      #expect(error.origin == .contents, "exit 65 is for bad contents")
      for fragment in bad.fragments {
        #expect(error.description.contains(fragment), "'\(error.description)' lacks '\(fragment)'")
      }
      #expect(!error.description.contains("\n"))
      #expect(!error.fix.isEmpty)
    }
  }

  @Test("a record is read item by item; ID and TIME keep their text")
  func readsRecord() throws {
    let d = try Self.parse("C,ID,time,evid,amt,cmt,ss,ii,addl,rate,LAGT,BIOAV,DV\n.,01,1.50,1,100,2,1,24,3,10,3.16,0.412,.\n")
    let r = try #require(d.records.first)
    #expect(r.idText == "01" && r.timeText == "1.50" && r.time == 1.5)
    #expect(r.event == .dose && r.amount == 100 && r.compartment == 2 && r.steadyState == 1)
    #expect(r.interval == 24 && r.additionalDoses == 3 && r.rate == 10)
    #expect(r.doseItems[.lag(compartment: 2)] == 3.16 && r.doseItems[.bioavailability(compartment: 2)] == 0.412)
    #expect(r.doseItems[.lag(compartment: 1)] == nil)
    #expect(d.doseItemColumns.map(\.column) == ["LAGT", "BIOAV"])
  }

  @Test("'.' and empty cells read as 0, absent optional columns as 0")
  func dotsAreZero() throws {
    let d = try Self.parse("ID,TIME,AMT,RATE,DV\n1,0,100,.,.\n1,1,,,3.2\n")
    #expect(d.records.map(\.rate) == [0, 0])
    #expect(d.records.map(\.amount) == [100, 0])
    #expect(d.records.map(\.event) == [.dose, .observation])
  }

  @Test("without EVID: AMT > 0 is a dose, MDV 1 an other-type event, the rest observations")
  func derivedEvents() throws {
    let d = try Self.parse("ID,TIME,AMT,MDV,RATE,SS\n1,0,100,1,0,0\n1,1,0,1,0,0\n1,2,0,0,0,0\n2,0,0,1,5,1\n")
    #expect(d.records.map(\.event) == [.dose, .other, .observation, .dose])
    #expect(d.records[3].isSteadyStateConstantInfusion)
  }

  @Test("blank lines, '#' lines, C-commented records, CRLF, a BOM and quoted cells are handled")
  func layoutTolerance() throws {
    let text = "\u{FEFF}# comment\r\nC,ID,TIME,AMT\r\n\r\n.,\"1\",0,100\r\nC,1,0.5,999\r\n# another\r\n.,1, 1 ,0\r\n,,,\r\n"
    let d = try Self.parse(text)
    #expect(d.records.map(\.timeText) == ["0", "1"])
    #expect(d.records.map(\.line) == [4, 7])
    #expect(d.records[0].idText == "1")
  }

  @Test("subjects are runs of one ID; a reset may go back in time")
  func subjects() throws {
    let d = try Self.parse(Self.header + "\n1,0,1,100,1,0,0,0,0\n1,10,0,0,2,0,0,0,0\n1,2,3,0,2,0,0,0,0\n1,3,0,0,2,0,0,0,0\n2,0,0,0,2,0,0,0,0\n2.0,1,0,0,2,0,0,0,0\n")
    #expect(d.subjects == [0..<4, 4..<6])
  }

  @Test("column mapping: defaults, explicit --column, 'none', and refusals")
  func mapping() throws {
    let text = "ID,TIME,AMT,CMT,LAGT,TLAG,BIOAV\n1,0,100,2,1,2,0.5\n"
    let defaults = try Self.parse(text)
    #expect(defaults.records[0].doseItems[.lag(compartment: 2)] == 1)
    let explicit = try Self.parse(text, NMColumnMapping([("tlag", .lag(compartment: 2)), ("BIOAV", nil)]))
    #expect(explicit.records[0].doseItems[.lag(compartment: 2)] == 2)
    #expect(explicit.records[0].doseItems[.bioavailability(compartment: 2)] == nil)
    #expect(explicit.doseItemColumns.map(\.column) == ["TLAG"])

    #expect(throws: DatasetError.self) { try Self.parse(text, NMColumnMapping([("WT", .bioavailability(compartment: 1))])) }
    do {
      _ = try Self.parse(text, NMColumnMapping([("WT", .bioavailability(compartment: 1))]))
    } catch {
      #expect(error.origin == .request && error.problem.contains("no column 'WT'"))
    }
    do {
      _ = try Self.parse(text, NMColumnMapping([("AMT", .bioavailability(compartment: 1))]))
    } catch {
      #expect(error.origin == .request && error.problem.contains("cannot be remapped"))
    }
  }

  @Test("NONMEM dose-item names parse case-insensitively")
  func itemNames() {
    #expect(NMDoseItem(name: "alag2") == .lag(compartment: 2))
    #expect(NMDoseItem(name: "F1") == .bioavailability(compartment: 1))
    #expect(NMDoseItem(name: "D2") == .duration(compartment: 2))
    #expect(NMDoseItem(name: "R1") == .rate(compartment: 1))
    #expect(NMDoseItem(name: "ALAG3") == nil)
    #expect(NMDoseItem.all.count == 8)
  }
}
