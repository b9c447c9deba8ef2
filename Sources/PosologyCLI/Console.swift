import Foundation
import PKReport

/// Where a command's text goes. The real one writes to file descriptors 1 and 2; tests capture.
public protocol Console: AnyObject {
  func out(_ text: String)
  func err(_ text: String)
  /// Whether stderr is a terminal (progress is shown only then).
  var stderrIsTerminal: Bool { get }
}

/// stdout and stderr, written with POSIX `write`. A closed pipe on stdout (`posology … | head`)
/// ends the process quietly with status 0: the reader asked for no more.
public final class StandardConsole: Console {
  public init() {
    signal(SIGPIPE, SIG_IGN)
    TemporaryFiles.removeOnInterrupt()
  }

  public var stderrIsTerminal: Bool { isatty(2) == 1 }

  public func out(_ text: String) { Self.write(text, to: 1) }
  public func err(_ text: String) { Self.write(text, to: 2) }

  static func write(_ text: String, to fd: Int32) {
    var text = text
    text.withUTF8 { buffer in
      var offset = 0
      while offset < buffer.count {
        let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          if errno == EPIPE && fd == 1 { exit(0) }
          return
        }
        offset += n
      }
    }
  }
}

/// Captures output in memory (tests).
public final class CapturingConsole: Console {
  public private(set) var stdout = ""
  public private(set) var stderr = ""
  public init() {}
  public var stderrIsTerminal: Bool { false }
  public func out(_ text: String) { stdout += text }
  public func err(_ text: String) { stderr += text }
}
