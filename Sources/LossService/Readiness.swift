import Synchronization

/// Whether the service takes new work. The executable flips it once, when a
/// drain begins (SIGTERM/SIGINT); `/readyz` then answers 503 so that a load
/// balancer stops sending traffic while in-flight requests finish.
public final class Readiness: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    /// True once a drain has begun.
    public var isDraining: Bool { draining.load(ordering: .acquiring) }

    /// Marks the service as draining. Idempotent; there is no way back.
    public func beginDraining() { draining.store(true, ordering: .releasing) }
}
