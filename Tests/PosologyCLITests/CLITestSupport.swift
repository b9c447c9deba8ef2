import Foundation
import PosologyCLI
import Testing

/// Runs the CLI in-process and captures its output.
func run(_ arguments: [String]) -> (code: Int32, stdout: String, stderr: String) {
  let console = CapturingConsole()
  let code = Posology.run(arguments, console: console)
  return (code, console.stdout, console.stderr)
}

enum Paths {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The built `posology` binary beside the test bundle.
  static var binary: URL? {
    var candidates: [URL] = []
    if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    for dir in candidates {
      var d = dir
      for _ in 0..<3 {
        let url = d.appendingPathComponent("posology")
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        d = d.deletingLastPathComponent()
      }
    }
    return nil
  }

  static func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("posology-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// Runs the built binary as a separate process.
func runBinary(_ arguments: [String], currentDirectory: URL? = nil) throws -> (code: Int32, stdout: String, stderr: String) {
  guard let binary = Paths.binary else {
    Issue.record("the posology binary was not found beside the test bundle")
    return (-1, "", "")
  }
  let process = Process()
  process.executableURL = binary
  process.arguments = arguments
  if let currentDirectory { process.currentDirectoryURL = currentDirectory }
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  let errData = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
