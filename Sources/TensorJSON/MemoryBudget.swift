#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes all loss requests together may hold in decoded tensors (lossd's
/// `--memory-budget`). A request reserves bytes before its tensors hold them
/// (`MemoryReservation`), as it learns its size, and gives them back when its
/// tensors are freed.
///
/// When the budget is exhausted a request waits, at most `maxWait` seconds,
/// for another to give bytes back; then it is refused (a 503). Waiting blocks
/// the calling thread, so only requests already offloaded to a Dispatch
/// worker take part: small requests run inline on the event loops and bypass
/// the budget (`LossResponder.budgetExemptBytes`), so they never wait behind
/// large ones. And at most `maxWaiters` wait at once (more are refused at
/// once): Dispatch on Linux sizes its pool to the CPUs and adds a thread for
/// a blocked one only about once a second, so a pool of waiting workers
/// would leave none for the requests that hold the bytes to finish and give
/// them back (measured: 16 requests on 2 CPUs all waited out their 2 s).
///
/// No deadlock between requests that hold bytes and want more (each could
/// wait for the others forever): only one such *holder* waits at a time;
/// another holder that finds the budget short while one waits is refused at
/// once, giving its bytes back. A request that holds nothing blocks no one,
/// so any number of those may wait, and while a holder waits they leave its
/// need free for it (it is further along). A request asking for more than
/// the whole budget is refused without waiting.
public final class MemoryBudget: @unchecked Sendable {
    /// The budget, in bytes.
    public let limit: Int
    /// The longest a request waits for bytes before it is refused, in seconds.
    public let maxWait: Double
    /// The least a request reserves at a time once its tensors outgrow what
    /// it reserved: it takes a quarter more of what it holds, at least this,
    /// so a growing request asks a few dozen times, not per number. 1 MiB.
    public let reservationStep: Int
    /// The most requests that wait at once; default 1 (lossd: half the CPUs
    /// Dispatch sizes its pool to, at least 1).
    public let maxWaiters: Int

    /// How a reservation went.
    public enum Outcome: Equatable, Sendable {
        case granted
        /// The budget stayed short for `maxWait` seconds, or another holder was already waiting.
        case exhausted
        /// The request's bytes would pass the whole budget: waiting cannot help.
        case exceedsBudget
    }

    // `used`, `holderWaiting` and `holderNeed` are guarded by `mutex`; `condition` signals a release.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var used = 0
    private var holderWaiting = false
    private var holderNeed = 0
    private var waiters = 0

    /// - Parameters:
    ///   - limit: the budget in bytes (at least 1).
    ///   - maxWait: seconds a request may wait for bytes; default 2.
    ///   - reservationStep: the least reserved at a time; default 1 MiB (tests use less).
    ///   - maxWaiters: the most requests that wait at once; default 1.
    public init(limit: Int, maxWait: Double = 2, reservationStep: Int = 1 << 20, maxWaiters: Int = 1) {
        self.maxWaiters = max(1, maxWaiters)
        self.limit = max(1, limit)
        self.maxWait = max(0, maxWait)
        self.reservationStep = max(8, reservationStep)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if canImport(Glibc)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)  // a wall-clock step must not stretch the wait
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Bytes reserved now, by all requests.
    public var reservedBytes: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return used
    }

    /// Requests waiting now.
    var waitingRequests: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return waiters
    }

    /// Reserves `bytes` more for a request that already holds `held`; may
    /// block for up to `maxWait` seconds (never call it on an event loop).
    func reserve(_ bytes: Int, holding held: Int) -> Outcome {
        guard bytes > 0 else { return .granted }
        guard held + bytes <= limit else { return .exceedsBudget }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if fits(bytes, holding: held) {
            used += bytes
            return .granted
        }
        guard waiters < maxWaiters, held == 0 || !holderWaiting, maxWait > 0 else { return .exhausted }
        waiters += 1
        if held > 0 {
            holderWaiting = true
            holderNeed = bytes
        }
        defer {
            waiters -= 1
            if held > 0 {
                holderWaiting = false
                holderNeed = 0
                pthread_cond_broadcast(condition)  // requests that held back for this holder may go
            }
        }
        let deadline = MemoryBudget.now() + UInt64(maxWait * 1e9)
        var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while true {
            let status = pthread_cond_timedwait(condition, mutex, &until)
            if fits(bytes, holding: held) {
                used += bytes
                return .granted
            }
            if status == ETIMEDOUT || MemoryBudget.now() >= deadline { return .exhausted }
        }
    }

    /// Whether `bytes` may be granted now (the mutex held): a request holding
    /// nothing leaves a waiting holder's need free.
    private func fits(_ bytes: Int, holding held: Int) -> Bool {
        let kept = held == 0 && holderWaiting ? holderNeed : 0
        return used + bytes + kept <= limit
    }

    /// Gives back `bytes` reserved earlier and wakes the waiting requests.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        pthread_mutex_lock(mutex)
        used -= bytes
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// What one request holds of a `MemoryBudget`: grown with `extend`, given
/// back whole by `releaseAll` or, on every other path (an error, a client
/// gone mid-body), when the request's body handler is freed (`deinit`).
/// Used on the request's connection queue only.
public final class MemoryReservation {
    public let budget: MemoryBudget
    /// Bytes held now.
    public private(set) var bytes = 0

    public init(budget: MemoryBudget) {
        self.budget = budget
    }

    deinit { releaseAll() }

    /// Reserves `more` bytes (see `MemoryBudget.reserve`: may wait).
    public func extend(by more: Int) -> MemoryBudget.Outcome {
        let outcome = budget.reserve(more, holding: bytes)
        if outcome == .granted { bytes += more }
        return outcome
    }

    /// Gives back what is held past `total` bytes (what was freed).
    public func shrink(to total: Int) {
        let excess = bytes - max(0, total)
        guard excess > 0 else { return }
        budget.release(excess)
        bytes -= excess
    }

    /// Gives back everything held.
    public func releaseAll() {
        budget.release(bytes)
        bytes = 0
    }
}
