#if canImport(Glibc)
import CMalloc
import Glibc
#endif

/// How lossd asks glibc's allocator to trade memory kept for page faults
/// saved; set once at start-up, before any request.
///
/// Why: by default glibc maps each allocation above its (moving) threshold
/// afresh and unmaps it when freed, so a mid-size request (a 0.5 MB body's
/// tensors and its larger read buffer) faulted in about 120 new pages every
/// time. On the CE segmentation benchmark that was about 300 µs of system
/// time of 1,600 µs per request; with these settings it is none, at about
/// 3 MB more resident memory after load.
enum MemoryPolicy {
    /// Allocations at least this large are mapped on their own and returned
    /// to the system when freed (the big tensors, advised for huge pages):
    /// 4 MiB. Smaller ones reuse the heap.
    static let mapThresholdBytes: Int32 = 4 << 20
    /// The most free memory kept at the top of a heap before it is returned
    /// to the system: 8 MiB.
    static let trimThresholdBytes: Int32 = 8 << 20

    static func apply() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, mapThresholdBytes)
        _ = mallopt(M_TRIM_THRESHOLD, trimThresholdBytes)
        #endif
    }
}
