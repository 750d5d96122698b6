/// The timing rules of one connection as a pure state machine over a clock:
/// events in (a request head began, body bytes were read, a response found
/// the socket full, ...), the next deadline out, and, once a deadline has
/// passed, what the connection must do (`Expiry`). `ConnectionStateMachine`
/// keeps the deadline it returns and the connection publishes it where the
/// server's sweeper reads it; no timer is armed per request, so each rule is
/// arithmetic after a read or a write.
///
/// Generic over the clock: the server uses `SystemClock`; the tests move a
/// manual clock, so that every rule is checked to the nanosecond without
/// sleeping. Stored inline in the state machine (no indirection on the hot path).
struct ConnectionTimer<Clock: MonotonicClock> {
    /// What a connection whose deadline has passed does.
    enum Expiry: Equatable {
        /// Draining and idle: read a last time, then end with a lingering close.
        case endIdleDrain
        /// Close at once, without a response.
        case close
        /// An early answer was sent; stop reading the rest of its body (lingering close).
        case linger
        /// Answer 408 with this error and close.
        case fail(HTTPError)
    }

    let clock: Clock
    private let limits: Limits
    private let headTimeout: UInt64
    private let idleTimeout: UInt64
    private let bodyTimeout: UInt64
    private let maxBodyDuration: UInt64
    private let writeTimeout: UInt64
    private let lingerTimeout: UInt64
    private let drainIdleGrace: UInt64
    /// Nanoseconds each body byte (`Limits.minBodyRate`) and each sent byte
    /// (`ServerConfiguration.minSendRate`) adds to the rate deadline; 0 when the rule is off.
    private let nanosecondsPerBodyByte: Double
    private let nanosecondsPerSentByte: Double

    /// When the body began to be expected, and its wire bytes read so far
    /// (chunk framing included): the minimum rate and total duration are
    /// measured from them.
    private(set) var bodyStart: UInt64 = 0
    private(set) var bodyWireBytes = 0
    /// When the body's deadline was last set: its last progress.
    private var bodyProgress: UInt64 = 0
    /// When the pending response first found the socket full, and how many of
    /// its bytes the socket had taken then: the minimum send rate is measured from them.
    private var sendStart: UInt64 = 0
    private var sendStartOffset = 0
    /// When a draining connection that is idle ends
    /// (`ServerConfiguration.drainIdleGrace` after it was first idle in the drain); 0 until then.
    private(set) var drainIdleDeadline: UInt64 = 0

    init(configuration: ServerConfiguration, clock: Clock) {
        self.clock = clock
        let limits = configuration.limits
        self.limits = limits
        headTimeout = ConnectionTimer.nanoseconds(limits.headTimeout)
        idleTimeout = ConnectionTimer.nanoseconds(limits.idleTimeout)
        bodyTimeout = ConnectionTimer.nanoseconds(limits.bodyTimeout)
        maxBodyDuration = ConnectionTimer.nanoseconds(limits.maxBodyDuration)
        writeTimeout = ConnectionTimer.nanoseconds(configuration.writeTimeout)
        lingerTimeout = ConnectionTimer.nanoseconds(configuration.lingerTimeout)
        drainIdleGrace = ConnectionTimer.nanoseconds(configuration.drainIdleGrace)
        nanosecondsPerBodyByte = limits.minBodyRate > 0 ? 1e9 / Double(limits.minBodyRate) : 0
        let sendRate = configuration.minSendRate
        nanosecondsPerSentByte = sendRate > 0 ? 1e9 / Double(sendRate) : 0
    }

    static func nanoseconds(_ seconds: Double) -> UInt64 {
        UInt64(max(0, seconds) * 1e9)
    }

    @inline(__always)
    func now() -> UInt64 { clock.now() }

    // MARK: - Events in, deadline out

    /// Waiting for a request head (`Limits.headTimeout`): a new connection's
    /// TLS handshake, an overflow connection's head, or a head's first bytes.
    func headStarted() -> UInt64 { now() &+ headTimeout }

    /// Between requests (`Limits.idleTimeout`); also returns when, for the
    /// server's eviction at the connection cap.
    func idle() -> (deadline: UInt64, since: UInt64) {
        let now = now()
        return (now &+ idleTimeout, now)
    }

    /// Idle during a drain: the deadline is fixed the first time, so that the
    /// grace (`ServerConfiguration.drainIdleGrace`) is not renewed by later requests.
    mutating func drainIdle() -> UInt64 {
        if drainIdleDeadline == 0 { drainIdleDeadline = now() &+ drainIdleGrace }
        return drainIdleDeadline
    }

    /// Lingering close: `ServerConfiguration.lingerTimeout` to finish.
    func lingering() -> UInt64 { now() &+ lingerTimeout }

    /// A body begins to be expected: its rate and total duration count from now.
    /// Returns its first deadline (the caller stores it unless a write is pending).
    mutating func bodyStarted() -> UInt64 {
        bodyStart = now()
        bodyWireBytes = 0
        return bodyDeadline(now: bodyStart)
    }

    /// `count` wire bytes of body were read (0 after a pause, e.g. a written response).
    mutating func bodyRead(_ count: Int) -> UInt64 {
        bodyWireBytes += count
        return bodyDeadline(now: now())
    }

    /// The body's deadline, the earliest of: `bodyTimeout` without progress;
    /// the rate rule, `bodyTimeout` of grace plus `1 / minBodyRate` seconds per
    /// byte read; `maxBodyDuration` in all.
    private mutating func bodyDeadline(now: UInt64) -> UInt64 {
        bodyProgress = now
        var due = now &+ bodyTimeout
        if nanosecondsPerBodyByte > 0 {
            let earned = bodyTimeout &+ UInt64(Double(bodyWireBytes) * nanosecondsPerBodyByte)
            due = min(due, bodyStart &+ earned)
        }
        return min(due, bodyStart &+ maxBodyDuration)
    }

    /// A response found the socket full after `offset` of its bytes: the send rules count from now.
    mutating func sendBlocked(at offset: Int) -> UInt64 {
        sendStart = now()
        sendStartOffset = offset
        return sent(upTo: offset)
    }

    /// The pending response's deadline once the socket has taken `offset` of
    /// its bytes, the earliest of: `writeTimeout` without the socket taking a
    /// byte; the rate rule, `writeTimeout` of grace from `sendBlocked` plus
    /// `1 / minSendRate` seconds per byte taken since.
    func sent(upTo offset: Int) -> UInt64 {
        var due = now() &+ writeTimeout
        if nanosecondsPerSentByte > 0 {
            let earned = writeTimeout &+ UInt64(Double(offset - sendStartOffset) * nanosecondsPerSentByte)
            due = min(due, sendStart &+ earned)
        }
        return due
    }

    // MARK: - Deadline passed

    /// What to do once the deadline `due` has passed, or nil when it has not
    /// (or there is none, 0), given the connection's state: its `phase`,
    /// whether a response waits for the socket, whether the body in progress
    /// is being dropped after an early answer, whether the server drains, and
    /// whether the TLS handshake (if any) is done.
    func expiry(of due: UInt64, phase: ConnectionPhase, writePending: Bool, droppingBody: Bool,
                draining: Bool, handshakeDone: Bool) -> Expiry? {
        guard due != 0, now() >= due, phase != .closed else { return nil }
        if draining && phase == .idle && !writePending && handshakeDone { return .endIdleDrain }
        // A client that reads nothing, a lingering close done, or an idle connection: close without a response.
        if writePending || phase == .lingering || phase == .idle { return .close }
        if phase == .body && droppingBody { return .linger }
        let detail = phase == .head
            ? "the request head did not arrive within \(limits.headTimeout) seconds"
            : bodyTimeoutDetail()
        return .fail(HTTPError(status: .requestTimeout, detail: detail))
    }

    /// The 408's detail once the body's deadline passed: which of its three rules it broke.
    func bodyTimeoutDetail() -> String {
        let now = now()
        let seconds = Double((now &- bodyStart) / 1_000_000) / 1000
        if now >= bodyStart &+ maxBodyDuration {
            return "the request body was not complete within \(limits.maxBodyDuration) seconds"
                + " (\(bodyWireBytes) bytes received)"
        }
        if now >= bodyProgress &+ bodyTimeout {
            return "the request body made no progress for \(limits.bodyTimeout) seconds (\(bodyWireBytes) bytes received)"
        }
        return "the request body arrived too slowly: \(bodyWireBytes) bytes in \(seconds) seconds;"
            + " after the first \(limits.bodyTimeout) seconds it must average at least \(limits.minBodyRate) bytes per second"
    }
}
