import Dispatch
import Foundation

enum DispatchQueueShim {
  static func concurrentPerform(iterations: Int, execute work: @Sendable (Int) -> Void) {
    DispatchQueue.concurrentPerform(iterations: iterations, execute: work)
  }
}

final class NSLockShim: @unchecked Sendable {  // a lock is thread-safe by construction
  private let lock = NSLock()
  func locked<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }
}
