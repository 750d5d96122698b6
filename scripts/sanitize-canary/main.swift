// Deliberate bugs, and their correct twins, for scripts/sanitize.sh: built
// with the test suite's sanitizer and optimisation level (-Onone), each case
// must be reported, or not, as the script expects, so the configuration
// cannot silently stop finding bugs, nor start reporting correct code.
//
//   sanitize-canary CASE      one case; the sanitizer's report goes to stderr
//
// Built with HTTP's Locked.swift (and the CThreadSanitizer shim), so the lock
// the canary checks is the one lossd uses.
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// A shared integer with no synchronisation of its own.
final class Shared: @unchecked Sendable {
    var count = 0
}

/// Runs `body` on `threads` threads at once and waits for all of them.
func concurrently(_ threads: Int = 4, _ body: @escaping @Sendable (Int) -> Void) {
    var ids: [pthread_t] = []
    for index in 0..<threads {
        final class Work { let run: () -> Void; init(_ run: @escaping () -> Void) { self.run = run } }
        let work = Unmanaged.passRetained(Work { body(index) }).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { argument in
            Unmanaged<Work>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, work)
        precondition(rc == 0, "pthread_create: \(rc)")
        ids.append(thread)
    }
    for thread in ids { pthread_join(thread, nil) }
}

let iterations = 100_000

/// Every case by name; scripts/sanitize.sh says which must be reported.
let cases: [String: () -> Void] = [
    // ThreadSanitizer. Contended: four threads, 100 000 lock round trips each.
    "tsan-locked": {
        let locked = Locked(0)
        concurrently { _ in for _ in 0..<iterations { locked.withLock { $0 += 1 } } }
        precondition(locked.withLock { $0 } == 4 * iterations)
    },
    // Informational: the false report Locked exists for (a bare Mutex under contention).
    "tsan-bare-mutex": {
        final class Box: Sendable { let mutex = Mutex(0) }
        let box = Box()
        concurrently { _ in for _ in 0..<iterations { box.mutex.withLock { $0 += 1 } } }
        precondition(box.mutex.withLock { $0 } == 4 * iterations)
    },
    "tsan-unlocked": {
        let shared = Shared()
        concurrently(2) { _ in for _ in 0..<1000 { shared.count += 1 } }
    },
    // An object handed out under the lock, then changed outside it: the
    // lock's annotations must not hide that.
    "tsan-outside-lock": {
        let locked = Locked(Shared())
        concurrently(2) { _ in
            let shared = locked.withLock { $0 }
            for _ in 0..<1000 { shared.count += 1 }
        }
    },
    // Connection's confinement: state touched only on its serial queue.
    "tsan-one-serial-queue": {
        let shared = Shared()
        let queue = DispatchQueue(label: "canary")
        let group = DispatchGroup()
        for _ in 0..<2 { queue.async(group: group) { for _ in 0..<1000 { shared.count += 1 } } }
        group.wait()
    },
    // Two queues, made to run at once: one worker thread running both blocks
    // in turn would order them, and ThreadSanitizer would rightly say nothing.
    "tsan-two-serial-queues": {
        final class Arrivals: Sendable { let count = Atomic(0) }
        let shared = Shared(), arrivals = Arrivals()
        let group = DispatchGroup()
        for index in 0..<2 {
            DispatchQueue(label: "canary \(index)").async(group: group) {
                meet(arrivals.count, count: 2)
                for _ in 0..<1000 { shared.count += 1 }
            }
        }
        group.wait()
    },
    // Connection's hand-over between a queue and the loop: a plain field
    // written before a releasing store is read after an acquiring load.
    "tsan-atomic-release-acquire": { publish(ordered: true) },
    "tsan-atomic-relaxed": { publish(ordered: false) },

    // AddressSanitizer.
    "asan-clean": {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
        buffer.initialize(repeating: 1, count: 16)
        precondition((0..<16).reduce(0) { $0 + Int(buffer[$1]) } == 16)
        buffer.deallocate()
    },
    "asan-overflow": {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
        buffer.initialize(repeating: 1, count: 16)
        print(buffer[opaque(16)])
        buffer.deallocate()
    },
    "asan-use-after-free": {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
        buffer.initialize(repeating: 1, count: 16)
        buffer.deallocate()
        print(buffer[opaque(0)])
    },
    "asan-leak": { leak() },
]

/// Kept out of the optimiser's sight, so the bad index survives to run time.
@inline(never) func opaque(_ value: Int) -> Int { value }

/// Allocates 4 KiB and drops the only pointer to it.
@inline(never) func leak() {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 8)
    buffer.storeBytes(of: 1, as: UInt8.self)
}

/// A writer thread publishes 1000 values to a reader through a plain field,
/// and the two take turns by an atomic sequence number (odd: a value is
/// ready; even: it was read). With release and acquire orderings when
/// `ordered` (correct), else relaxed (a race on the field).
func publish(ordered: Bool) {
    final class Channel: @unchecked Sendable {
        var value = 0
        let sequence = Atomic<Int>(0)
        func wait(for expected: Int, ordered: Bool) {
            let deadline = DispatchTime.now().uptimeNanoseconds + 10_000_000_000
            while (ordered ? sequence.load(ordering: .acquiring) : sequence.load(ordering: .relaxed)) != expected {
                guard DispatchTime.now().uptimeNanoseconds < deadline else { fatalError("no turn \(expected) in 10 s") }
                sched_yield()
            }
        }
        func pass(_ next: Int, ordered: Bool) {
            if ordered { sequence.store(next, ordering: .releasing) } else { sequence.store(next, ordering: .relaxed) }
        }
    }
    let channel = Channel()
    concurrently(2) { index in
        for round in 1...1000 {
            if index == 0 {
                channel.wait(for: 2 * round - 2, ordered: ordered)
                channel.value = round
                channel.pass(2 * round - 1, ordered: ordered)
            } else {
                channel.wait(for: 2 * round - 1, ordered: ordered)
                precondition(channel.value == round)
                channel.pass(2 * round, ordered: ordered)
            }
        }
    }
}

/// Makes `count` threads (or queue blocks) meet before going on, through a
/// relaxed atomic, which gives ThreadSanitizer no ordering between them.
func meet(_ arrived: borrowing Atomic<Int>, count: Int) {
    arrived.add(1, ordering: .relaxed)
    let deadline = DispatchTime.now().uptimeNanoseconds + 10_000_000_000
    while arrived.load(ordering: .relaxed) < count {
        guard DispatchTime.now().uptimeNanoseconds < deadline else { fatalError("only \(arrived.load(ordering: .relaxed)) of \(count) met in 10 s") }
        sched_yield()
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 2, let run = cases[arguments[1]] else {
    print("usage: sanitize-canary CASE; cases: \(cases.keys.sorted().joined(separator: " "))")
    exit(2)
}
run()
