import Foundation

/// A large output file written in pieces to a temporary file beside the target and renamed over
/// it only by `commit()`: an interrupted or failed run leaves the old file (or none) in place.
public final class StreamingFile {
  public let path: String
  private let temporary: String
  private var handle: UnsafeMutablePointer<FILE>?

  public init(path: String) throws(UserError) {
    try TextFile.checkWritable(path)
    self.path = path
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    temporary = (directory.isEmpty ? "." : directory) + "/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    guard let h = fopen(temporary, "w") else {
      throw UserError("cannot create '\(path)'", fix: "check that the directory is writable", kind: .cannotCreate)
    }
    handle = h
  }

  deinit { abort() }

  public func write(_ text: String) throws(UserError) {
    guard let handle else { return }
    var text = text
    let ok = text.withUTF8 { buffer in
      buffer.isEmpty || fwrite(buffer.baseAddress!, 1, buffer.count, handle) == buffer.count
    }
    if !ok {
      abort()
      throw UserError("cannot write '\(path)': \(String(cString: strerror(errno)))", fix: "check the disk space and permissions", kind: .cannotCreate)
    }
  }

  /// Flushes, closes and renames the temporary file over `path`.
  public func commit() throws(UserError) {
    guard let h = handle else { return }
    handle = nil
    let closed = fclose(h) == 0
    guard closed, rename(temporary, path) == 0 else {
      unlink(temporary)
      throw UserError("cannot create '\(path)': \(String(cString: strerror(errno)))", fix: "check the disk space and permissions", kind: .cannotCreate)
    }
  }

  /// Discards everything written (the target is left untouched).
  public func abort() {
    if let h = handle {
      fclose(h)
      unlink(temporary)
      handle = nil
    }
  }
}
