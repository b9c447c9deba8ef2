#if canImport(Glibc)
import Glibc
#endif

/// Storage for a cohort's column-major values: on Linux, buffers of 4 MiB and more are aligned
/// to 2 MiB and marked for transparent huge pages (`madvise(MADV_HUGEPAGE)`, which the kernel
/// honours in its default `madvise` mode). The lanes write each patient's day k into column k, a
/// column stride apart (80 KB for 10,000 patients), so with 4 KiB pages every value of a patient
/// touches another page: a TLB miss per write, and a page fault per page on first touch (about
/// 11 % of a 30,000-patient kovalenko2020 run was the kernel's page-fault path). Elsewhere, or
/// where the kernel declines, these are ordinary pages; the values are the same either way.
enum LargeBuffer {
  static let hugePage = 2 << 20

  static func allocate(_ count: Int) -> UnsafeMutablePointer<Double> {
    let bytes = count * MemoryLayout<Double>.stride
    #if canImport(Glibc)
    if bytes >= 2 * hugePage {
      var raw: UnsafeMutableRawPointer? = nil
      let rounded = (bytes + hugePage - 1) / hugePage * hugePage
      if posix_memalign(&raw, hugePage, rounded) == 0, let raw {
        _ = madvise(raw, rounded, MADV_HUGEPAGE)
        return raw.bindMemory(to: Double.self, capacity: count)
      }
      guard let plain = malloc(bytes) else { fatalError("out of memory: \(bytes) bytes for a cohort's values") }
      return plain.bindMemory(to: Double.self, capacity: count)
    }
    #endif
    return .allocate(capacity: count)
  }

  /// Frees what `allocate` gave.
  static func deallocate(_ pointer: UnsafeMutablePointer<Double>, count: Int) {
    #if canImport(Glibc)
    if count * MemoryLayout<Double>.stride >= 2 * hugePage {
      free(pointer)
      return
    }
    #endif
    pointer.deallocate()
  }
}
