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
    if isStream(path) {
      let file = try StreamingFile(path: path)
      try file.write(contents)
      try file.commit()
      return
    }
    let target = replacedFile(path)
    let url = URL(fileURLWithPath: target)
    let directory = try existingDirectory(of: target, writing: path)
    let temporary = directory + "/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    let data = Data(contents.utf8)
    let slot = TemporaryFiles.register(temporary)
    defer { TemporaryFiles.unregister(slot) }
    guard FileManager.default.createFile(atPath: temporary, contents: data) else {
      unlink(temporary)
      throw UserError("cannot create '\(path)'", fix: "check that the directory is writable and the disk is not full", kind: .cannotCreate)
    }
    if rename(temporary, target) != 0 {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw UserError("cannot create '\(path)': \(reason)", fix: "check the path and its permissions", kind: .cannotCreate)
    }
  }

  /// Whether `path` is a stream rather than a file to replace: an existing terminal, pipe, socket
  /// or device (`/dev/stdout`, `/dev/null`, a FIFO), or a descriptor path (/dev/fd/N, /proc/…). It is
  /// written in place; renaming a file over it would replace the device node or link itself.
  public static func isStream(_ path: String) -> Bool {
    if path.hasPrefix("/dev/std") || path.hasPrefix("/dev/fd/") || path.hasPrefix("/proc/") { return true }
    var status = stat()
    guard stat(path, &status) == 0 else { return false }
    let type = status.st_mode & S_IFMT
    return type != S_IFREG && type != S_IFDIR
  }

  /// The file a write to `path` replaces: symbolic links resolved, so a link keeps pointing at the
  /// new file instead of being replaced by it.
  static func replacedFile(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// Checks early that `path` could be created, before any long computation.
  public static func checkWritable(_ path: String) throws(UserError) {
    guard !path.trimmingSpaces().isEmpty else {
      throw UserError("an output file name is empty", fix: "give a file name, e.g. -o run.csv", kind: .usage)
    }
    if isStream(path) {
      guard access(path, W_OK) == 0 else {
        throw UserError("cannot write '\(path)': \(String(cString: strerror(errno)))", fix: "choose another path", kind: .cannotCreate)
      }
      return
    }
    let directory = try existingDirectory(of: replacedFile(path), writing: path)
    guard FileManager.default.isWritableFile(atPath: directory) else {
      throw UserError("cannot write '\(path)': the directory is not writable", fix: "choose another path", kind: .cannotCreate)
    }
  }

  /// The directory `target` would be created in ("." for a bare name), after checking that it
  /// exists and that `target` is not itself a directory. `path` is the name the user gave.
  static func existingDirectory(of target: String, writing path: String) throws(UserError) -> String {
    let parent = URL(fileURLWithPath: target).deletingLastPathComponent().path
    let directory = parent.isEmpty ? "." : parent
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue {
      throw UserError("cannot write '\(path)': it is a directory", fix: "give a file name", kind: .cannotCreate)
    }
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw UserError("cannot write '\(path)': the directory '\(parent)' does not exist", fix: "create it first or choose another path", kind: .cannotCreate)
    }
    return directory
  }
}
