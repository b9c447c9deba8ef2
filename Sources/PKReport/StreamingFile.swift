import Foundation

/// A large output file written in pieces to a temporary file beside the target and renamed over
/// it only by `commit()`: an interrupted or failed run leaves the old file (or none) in place.
/// A stream (`/dev/stdout`, a pipe, a device: `TextFile.isStream`) is written in place instead.
public final class StreamingFile {
  public let path: String
  private let target: String
  /// `nil` when writing a stream in place.
  private let temporary: String?
  private var slot = -1
  private var handle: UnsafeMutablePointer<FILE>?

  public init(path: String) throws(UserError) {
    try TextFile.checkWritable(path)
    self.path = path
    if TextFile.isStream(path) {
      target = path
      temporary = nil
      guard let h = fopen(path, "w") else {
        throw UserError("cannot write '\(path)': \(String(cString: strerror(errno)))", fix: "choose another path", kind: .cannotCreate)
      }
      handle = h
      return
    }
    target = TextFile.replacedFile(path)
    let url = URL(fileURLWithPath: target)
    let directory = url.deletingLastPathComponent().path
    let temporary = (directory.isEmpty ? "." : directory) + "/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    self.temporary = temporary
    slot = TemporaryFiles.register(temporary)
    guard let h = fopen(temporary, "w") else {
      TemporaryFiles.unregister(slot)
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
      // A closed pipe (`posology … -o /dev/stdout | head`): the reader asked for no more.
      if temporary == nil && errno == EPIPE { exit(0) }
      let reason = String(cString: strerror(errno))
      abort()
      throw UserError("cannot write '\(path)': \(reason)", fix: "check the disk space and permissions", kind: .cannotCreate)
    }
  }

  /// Flushes, closes and renames the temporary file over `path`.
  public func commit() throws(UserError) {
    guard let h = handle else { return }
    handle = nil
    let closed = fclose(h) == 0
    defer { TemporaryFiles.unregister(slot) }
    guard let temporary else {
      if !closed && errno == EPIPE { exit(0) }
      guard closed else {
        throw UserError("cannot write '\(path)': \(String(cString: strerror(errno)))", fix: "check the disk space and permissions", kind: .cannotCreate)
      }
      return
    }
    guard closed, rename(temporary, target) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw UserError("cannot create '\(path)': \(reason)", fix: "check the disk space and permissions", kind: .cannotCreate)
    }
  }

  /// Discards everything written (the target is left untouched; a stream keeps what it got).
  public func abort() {
    if let h = handle {
      fclose(h)
      if let temporary { unlink(temporary) }
      handle = nil
      TemporaryFiles.unregister(slot)
    }
  }
}

/// The temporary files being written, removed when the process is interrupted (SIGINT, SIGTERM,
/// SIGHUP) or exits mid-write (e.g. on a closed stdout), so an interrupted run leaves neither a
/// half-written output nor a stray temporary file.
public enum TemporaryFiles {
  static let capacity = 64
  /// Fixed C-string slots, so the signal handler only reads memory and calls `unlink`.
  /// Written under `lock`; the handler reads without it, which at worst misses a file registered
  /// at that very moment.
  nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
    let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    p.initialize(repeating: nil, count: capacity)
    return p
  }()
  static let lock = NSLock()

  /// Remembers `path`; returns its slot for `unregister` (-1 when every slot is taken).
  static func register(_ path: String) -> Int {
    lock.lock()
    defer { lock.unlock() }
    for i in 0..<capacity where slots[i] == nil {
      slots[i] = strdup(path)
      return i
    }
    return -1
  }

  static func unregister(_ slot: Int) {
    guard slot >= 0 else { return }
    lock.lock()
    defer { lock.unlock() }
    let p = slots[slot]
    slots[slot] = nil
    free(p)
  }

  /// Removes every registered temporary file (async-signal-safe: reads the slots and unlinks).
  static func removeAll() {
    for i in 0..<capacity { if let p = slots[i] { unlink(p) } }
  }

  /// Installs the clean-up for SIGINT, SIGTERM and SIGHUP (then dies of the signal as usual) and
  /// at exit, once. For the command-line tool. A signal the parent set to be ignored (`nohup`, a
  /// background job) stays ignored; one it left blocked (a child spawned from a Dispatch thread
  /// inherits that thread's mask) is unblocked, so an interrupt is seen when it is sent.
  public static func removeOnInterrupt() { _ = installed }

  private static let installed: Void = {
    _ = slots
    atexit { TemporaryFiles.removeAll() }
    var unblock = sigset_t()
    sigemptyset(&unblock)
    for s in [SIGINT, SIGTERM, SIGHUP] {
      let previous = signal(s) { number in
        TemporaryFiles.removeAll()
        signal(number, SIG_DFL)
        raise(number)
      }
      if unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) {
        signal(s, SIG_IGN)
      } else {
        sigaddset(&unblock, s)
      }
    }
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
  }()
}
