import CThreadSanitizer
import Synchronization

/// A value behind a lock: `Synchronization.Mutex` that ThreadSanitizer can
/// follow.
///
/// On Linux a contended `Mutex` is handed to the waiting thread inside the
/// kernel (a priority-inheriting futex, in the uninstrumented
/// `libswiftSynchronization`), so ThreadSanitizer sees no acquire and reports
/// every access under the lock as a race, at any optimisation level, as
/// often as the lock is contended. `withLock` therefore tells it (with
/// `__tsan_acquire` and `__tsan_release` on this object's address) that the
/// critical section begins and ends. In a build without ThreadSanitizer each
/// is a load and a branch never taken, and the lock is exactly `Mutex`.
///
/// A class, not a noncopyable struct like `Mutex`, because the annotations
/// need the lock's address before the value's inout access begins, and only
/// an object has one without an access (`Unmanaged`). Every lock shared
/// between threads in lossd's modules, and in their tests, is a `Locked`:
/// a bare `Mutex` puts the false reports back (scripts/sanitize.sh finds them).
public final class Locked<Value>: @unchecked Sendable {
    @usableFromInline let mutex: Mutex<Value>

    /// A lock holding `initialValue`.
    @inlinable public init(_ initialValue: consuming sending Value) {
        mutex = Mutex(initialValue)
    }

    /// Runs `body` with the value, holding the lock.
    @inlinable
    public func withLock<Result, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        let address = Unmanaged.passUnretained(self).toOpaque()
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            if cthreadsanitizer_enabled { cthreadsanitizer_acquire(address) }
            defer { if cthreadsanitizer_enabled { cthreadsanitizer_release(address) } }
            return try body(&value)
        }
    }
}
