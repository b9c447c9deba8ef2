import Dispatch

/// Runs `body(worker, item)` for every item in `0..<count` on `threads` workers, each worker taking
/// the next item as soon as it has finished one (dynamic scheduling: an expensive item or a core
/// busy with something else does not hold the other workers back, as a fixed split would).
/// Which worker runs an item must not change its result: callers give each item its own output
/// slot and each worker its own scratch state (`worker` indexes it).
func forEachItem(_ count: Int, threads: Int, _ body: @Sendable (_ worker: Int, _ item: Int) -> Void) {
  if threads <= 1 || count <= 1 {
    for i in 0..<count { body(0, i) }
    return
  }
  let queue = WorkQueue(count: count)
  DispatchQueue.concurrentPerform(iterations: Swift.min(threads, count)) { w in
    while let i = queue.take() { body(w, i) }
  }
}

/// `[body(0), body(1), …, body(count − 1)]`, computed on `threads` workers (`forEachItem`).
func mapItems<T>(_ count: Int, threads: Int, _ body: @Sendable (_ item: Int) -> T) -> [T] {
  let slots = UnsafeMutablePointer<T?>.allocate(capacity: count)
  slots.initialize(repeating: nil, count: count)
  defer { slots.deinitialize(count: count); slots.deallocate() }
  nonisolated(unsafe) let out = slots
  forEachItem(count, threads: threads) { _, i in out[i] = body(i) }
  return (0..<count).map { slots[$0]! }
}

/// Hands out `0..<count` in order, one index per call, under a lock.
final class WorkQueue: @unchecked Sendable {  // `next` is guarded by `lock`
  private var next = 0
  private let count: Int
  private let lock = DispatchSemaphore(value: 1)

  init(count: Int) { self.count = count }

  func take() -> Int? {
    lock.wait()
    defer { lock.signal() }
    guard next < count else { return nil }
    next += 1
    return next - 1
  }
}
