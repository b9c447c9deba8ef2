import Foundation

/// Reading text inputs (events, covariates, datasets, profiles) and writing outputs atomically.
public enum TextFile {
  /// Reads a UTF-8 text file, dropping a byte-order mark. Missing or unreadable → exit 66;
  /// not UTF-8 → exit 65.
  public static func read(_ path: String, what: String) throws(UserError) -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw UserError("cannot open the \(what) '\(path)': no such file", fix: "check the path", kind: .noInput)
    }
    guard !isDirectory.boolValue else {
      throw UserError("the \(what) '\(path)' is a directory", fix: "give the path of a file", kind: .noInput)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw UserError("cannot read the \(what) '\(path)'", fix: "check that it is readable", kind: .noInput)
    }
    guard var text = String(data: data, encoding: .utf8) else {
      throw UserError("the \(what) '\(path)' is not UTF-8 text", fix: "save it as UTF-8 (CSV or JSON)", kind: .dataError)
    }
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    return text
  }

  /// Splits text into lines, accepting LF, CRLF and CR line ends.
  public static func lines(_ text: String) -> [Substring] {
    text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
  }

  /// Writes `contents` to `path` atomically: into a temporary file in the same directory, then
  /// renamed over the target, so a failed or interrupted run never leaves a half-written file
  /// where a good one was. Cannot create → exit 73.
  public static func writeAtomically(_ contents: String, to path: String) throws(UserError) {
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw UserError("cannot write '\(path)': it is a directory", fix: "give a file name", kind: .cannotCreate)
    }
    guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw UserError("cannot write '\(path)': the directory '\(directory)' does not exist", fix: "create it first or choose another path", kind: .cannotCreate)
    }
    let temporary = (directory.isEmpty ? "." : directory) + "/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    let data = Data(contents.utf8)
    guard FileManager.default.createFile(atPath: temporary, contents: data) else {
      throw UserError("cannot create '\(path)'", fix: "check that the directory is writable and the disk is not full", kind: .cannotCreate)
    }
    if rename(temporary, path) != 0 {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw UserError("cannot create '\(path)': \(reason)", fix: "check the path and its permissions", kind: .cannotCreate)
    }
  }

  /// Checks early that `path` could be created, before any long computation.
  public static func checkWritable(_ path: String) throws(UserError) {
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw UserError("cannot write '\(path)': it is a directory", fix: "give a file name", kind: .cannotCreate)
    }
    guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw UserError("cannot write '\(path)': the directory '\(directory)' does not exist", fix: "create it first or choose another path", kind: .cannotCreate)
    }
    guard FileManager.default.isWritableFile(atPath: directory.isEmpty ? "." : directory) else {
      throw UserError("cannot write '\(path)': the directory is not writable", fix: "choose another path", kind: .cannotCreate)
    }
  }
}
