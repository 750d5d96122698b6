#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// An HTTP/1.1 server on POSIX sockets and Dispatch.
///
/// Each connection has its own serial queue, all of them targeting one
/// concurrent queue; `ServerConfiguration.eventLoops` `EventLoop` threads
/// wait for the sockets' readiness, each for its share of the connections.
/// A cheap request (most of them) is parsed, answered and written on its
/// loop's thread, serialised with its connection's queue, without a thread
/// hop; a heavy one (large, chunked or gzip body; TLS) runs on its queue, so
/// Dispatch spreads heavy work over the cores (see `Connection`). One serial
/// queue accepts connections and, a few times a second, sweeps their
/// deadlines (head, body, idle, write and linger timeouts): one timer for the
/// whole server instead of a timer rescheduled per request.
///
/// At `Limits.maxConnections` a new client is still answered: it takes the
/// place of the connection idle longest, which is closed cleanly, or, with
/// none idle, gets a 503 with `Retry-After` on one of
/// `ServerConfiguration.overflowConnections` extra places; only past those is
/// it closed at once. With the minimum body and send rates (see `Limits`),
/// slow clients cannot hold the places for long.
///
/// Linux only: readiness comes from epoll (see `EventLoop`).
///
/// Thread safety: the configuration is immutable; everything that changes
/// (listener, connections, drain) is behind `state`'s lock.
public final class Server: Sendable {
    let configuration: ServerConfiguration
    let responder: any Responder

    /// Accepts connections, closes the listener and sweeps deadlines; internal so a test can hold it.
    let acceptQueue = DispatchQueue(label: "lossd.http.accept")
    private let connectionQueue = DispatchQueue(label: "lossd.http.connections", attributes: .concurrent)

    private struct State {
        var started = false
        var port = 0
        var acceptSource: DispatchSourceRead? { get { sources?.accept } }
        /// The accept source while suspended after running out of descriptors.
        var pausedAcceptSource: DispatchSourceRead?
        var sweeper: DispatchSourceTimer? { get { sources?.sweeper } }
        var sources: Sources?
        var connections: [ObjectIdentifier: Connection] = [:]
        /// Connections that do not count toward `Limits.maxConnections`:
        /// overflow ones (answered 503) and evicted ones still closing. At
        /// most `ServerConfiguration.overflowConnections`.
        var extras: Set<ObjectIdentifier> = []
        /// The event loops; a new connection goes to `loops[nextLoop]`, in turn.
        var loops: [EventLoop] = []
        var nextLoop = 0
        var lastConnectionID: UInt64 = 0
        var draining = false
        /// True once the connections were told of the drain (`Connection.beginDrain`): at
        /// once with an accept grace, else once the listener is closed.
        var connectionsDraining = false
        /// Monotonic nanoseconds at which the drain closes whatever remains.
        var drainEnds: UInt64 = 0
        /// True once the listener is closed: at once on a drain, or after its accept grace.
        var listenerClosed = false
        /// The TLS settings every connection shares; nil for plain HTTP.
        var tls: TLSContext?
        var drainCompletions: [@Sendable () -> Void] = []
    }

    /// Dispatch sources are thread-safe objects, but the Dispatch overlay does
    /// not mark them Sendable; this box says so for the two the server keeps.
    private struct Sources: @unchecked Sendable {
        let accept: DispatchSourceRead
        let sweeper: DispatchSourceTimer
    }

    private let state = Locked(State())

    /// True from the moment `drain` is called: every response from then on
    /// carries `Connection: close`, also on a connection that has not yet been
    /// told of the drain (connections learn of it once the listener is
    /// closed; a response finished meanwhile must not invite another request).
    /// Read by connections for each response, hence an atomic outside `state`.
    let drainBegun = Atomic<Bool>(false)

    /// What the sweeper, the drain, the eviction and every connection
    /// measure time with: the system's monotonic clock, which a test may
    /// move forward (`SystemClock.offset`).
    let clock: SystemClock

    public convenience init(configuration: ServerConfiguration, responder: any Responder) {
        self.init(configuration: configuration, responder: responder, clock: SystemClock())
    }

    init(configuration: ServerConfiguration, responder: any Responder, clock: SystemClock) {
        self.configuration = configuration
        self.responder = responder
        self.clock = clock
    }

    /// Binds, listens and starts accepting. Returns once listening.
    /// Throws a `ServerError` naming the address and the reason (address in
    /// use, permission denied, unknown host, …), or when already started.
    public func start() throws(ServerError) {
        let alreadyStarted = state.withLock { s in
            defer { s.started = true }
            return s.started
        }
        guard !alreadyStarted else { throw ServerError(message: "the server was already started") }
        // Before listening: a bad certificate leaves no socket bound.
        let tls = try configuration.tls.map { (settings) throws(ServerError) in try TLSContext(settings) }
        let (listener, port) = try Socket.listen(host: configuration.host, port: configuration.port,
                                                 backlog: Int32(clamping: max(128, configuration.limits.maxConnections)))
        var loops: [EventLoop] = []
        do {
            // After listen: a refused address leaves no thread behind.
            for _ in 0..<max(1, configuration.eventLoops) { loops.append(try EventLoop()) }
        } catch {
            for loop in loops { loop.stop() }
            Glibc.close(listener)
            throw error
        }

        let acceptSource = DispatchSource.makeReadSource(fileDescriptor: listener, queue: acceptQueue)
        acceptSource.setEventHandler { [self] in acceptConnections(listener) }
        acceptSource.setCancelHandler { [self] in
            // Connections the kernel completed but nobody accepted yet would be reset by the close,
            // though their clients may have written a request: accept them, to be served during the
            // drain. Started once the listener is closed, so that a client their `Connection: close`
            // sends to reconnect is refused, not caught in the backlog and reset.
            var accepted: [Connection] = []
            acceptConnections(listener) { connection, _ in accepted.append(connection) }
            Glibc.close(listener)
            for connection in accepted { connection.activate(draining: true) }
            listenerDidClose()
        }

        let sweeper = DispatchSource.makeTimerSource(queue: acceptQueue)
        let interval = sweepInterval
        sweeper.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(Int(interval * 250)))
        sweeper.setEventHandler { [self] in sweep() }

        acceptSource.activate()
        sweeper.activate()
        // Handed to the lock last: from here on only the lock's holder touches them.
        let sources = Sources(accept: acceptSource, sweeper: sweeper)
        state.withLock { s in
            s.port = port
            s.sources = sources
            s.loops = loops
            s.tls = tls
        }
    }

    /// Reads the TLS certificate chain and private key again, from the
    /// paths in `ServerConfiguration.tls` (a Kubernetes secret mounted as
    /// files is rotated in place), and serves every connection accepted from
    /// now on with them; connections already open keep the certificate they
    /// shook hands with (each holds its own reference to the old context), so
    /// none is dropped. A pair that cannot be loaded (unreadable, not PEM, a
    /// key for another certificate, as `start()` checks) throws the same
    /// `ServerError` as `start()` and leaves the previous certificate in
    /// service. Returns the new certificate's subject and expiry, for the log.
    /// Throws when the server does not serve TLS or was not started.
    @discardableResult
    public func reloadTLS() throws(ServerError) -> String {
        guard let settings = configuration.tls else {
            throw ServerError(message: "this server serves plain HTTP: there is no TLS certificate to reload")
        }
        guard state.withLock({ $0.tls != nil }) else {
            throw ServerError(message: "the server was not started: there is no TLS certificate to reload")
        }
        let context = try TLSContext(settings)
        let description = context.certificateDescription
        // The old context is freed once its last connection closes (SSL_new holds a reference).
        state.withLock { $0.tls = context }
        return description
    }

    /// The bound port (the ephemeral one when configured with port 0); 0 before `start()`.
    public var port: Int { state.withLock { $0.port } }

    /// True once `drain(deadline:completion:)` was called.
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// The open connections (lingering ones included), for the tests.
    var openConnections: [Connection] { state.withLock { Array($0.connections.values) } }

    /// The number of open connections (lingering ones included).
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Graceful drain that loses no request that reached the server: stops
    /// accepting (new connections are refused; after
    /// `ServerConfiguration.drainAcceptGrace` seconds when that is set), but
    /// first serves the connections already waiting in the listener's
    /// backlog; answers every request received, or received within
    /// `ServerConfiguration.drainIdleGrace` on an idle connection, with
    /// `Connection: close`; ends each connection with a FIN (a lingering
    /// close), never a reset; and calls `completion` once every connection is
    /// closed or `deadline` seconds have passed, when the remaining ones are
    /// closed at once. Without an accept grace the connections learn of the
    /// drain only once the listener is closed, so a client told
    /// `Connection: close` that reconnects is refused rather than caught in
    /// the backlog as the listener closes. Calling it again adds a completion
    /// to the same drain. `completion` runs on a server thread (on the
    /// caller's when the drain was already done).
    public func drain(deadline: Double, completion: @escaping @Sendable () -> Void) {
        let grace = min(max(0, configuration.drainAcceptGrace), max(0, deadline))
        drainBegun.store(true, ordering: .relaxed)
        let (connections, first) = state.withLock { s in
            let first = !s.draining
            s.draining = true
            s.drainCompletions.append(completion)
            guard first else { return ([Connection](), false) }
            s.drainEnds = clock.now() &+ UInt64(max(0, deadline) * 1e9)
            guard grace > 0 else { return ([], true) }  // told once the listener is closed (`listenerDidClose`)
            s.connectionsDraining = true
            return (Array(s.connections.values), true)
        }
        if first {
            for connection in connections {
                connection.async { $0.beginDrain() }
            }
            if grace > 0 {
                acceptQueue.asyncAfter(deadline: .now() + grace) { [self] in closeListener() }
            } else {
                closeListener()
            }
            acceptQueue.asyncAfter(deadline: .now() + max(0, deadline)) { [self] in
                let remaining = state.withLock { Array($0.connections.values) }
                for connection in remaining {
                    connection.async { $0.close() }
                }
            }
        }
        finishDrainIfDone()
    }

    /// Closes the listener: from now on new connections are refused. The
    /// accept source's cancel handler closes it, on the accept queue, after
    /// one last accept, then calls `listenerDidClose`.
    private func closeListener() {
        let cancelled = state.withLock { s in
            // A cancelled source that is suspended never runs its cancel handler (which closes the listener).
            s.pausedAcceptSource?.resume()
            s.pausedAcceptSource = nil
            guard let source = s.acceptSource, !source.isCancelled else { return false }
            source.cancel()
            return true
        }
        if !cancelled { acceptQueue.async { [self] in listenerDidClose() } }  // never started
    }

    /// The listener is closed: tells the connections of the drain, unless its
    /// accept grace did already (those accepted since knew it on arrival);
    /// past the drain's deadline, closes them instead.
    private func listenerDidClose() {
        let (connections, late) = state.withLock { s in
            s.listenerClosed = true
            let late = clock.now() >= s.drainEnds
            guard !s.connectionsDraining || late else { return ([Connection](), late) }
            s.connectionsDraining = true
            return (Array(s.connections.values), late)
        }
        for connection in connections {
            if late {
                connection.async { $0.close() }
            } else {
                connection.async { $0.beginDrain() }
            }
        }
        finishDrainIfDone()
    }

    // MARK: - Accepting

    /// Accepts every connection the kernel has completed and starts each
    /// with `start` (draining or not), by default at once.
    private func acceptConnections(_ listener: Int32,
                                   start: (Connection, Bool) -> Void = { $0.activate(draining: $1) }) {
        while true {
            let (accepted, error) = Socket.accept(listener)
            guard let fd = accepted else {
                switch error {
                case EAGAIN, EWOULDBLOCK: return
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: pause accepting briefly rather than spin on a listener that stays readable.
                    configuration.log("accept(): \(Socket.errorText(error)); pausing accepts for 100 ms")
                    state.withLock { s in
                        s.acceptSource?.suspend()
                        s.pausedAcceptSource = s.acceptSource
                    }
                    acceptQueue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in
                        state.withLock { s in
                            s.pausedAcceptSource?.resume()
                            s.pausedAcceptSource = nil
                        }
                    }
                    return
                default:
                    configuration.log("accept(): \(Socket.errorText(error))")
                    return
                }
            }
            let admitted: (UInt64, EventLoop, TLSContext?, Admission)? = state.withLock { s in
                guard !s.listenerClosed, !s.loops.isEmpty, let admission = admit(&s) else { return nil }
                s.lastConnectionID += 1
                let loop = s.loops[s.nextLoop]
                s.nextLoop = (s.nextLoop + 1) % s.loops.count
                return (s.lastConnectionID, loop, s.tls, admission)
            }
            guard let (id, loop, tlsContext, admission) = admitted else {
                // Past the cap and its overflow (or draining): close at once so the client fails fast, not after a timeout.
                Glibc.close(fd)
                continue
            }
            var overflow = false
            switch admission {
            case .regular: break
            case .evicting(let idle): idle.performSoon { $0.evict() }  // on the accept queue, never a connection's
            case .overflow: overflow = true
            }
            var tls: TLSStream?
            if let tlsContext {
                tls = TLSStream(context: tlsContext, fd: fd)
                guard tls != nil else {
                    configuration.log("cannot allocate a TLS connection; closed it")
                    Glibc.close(fd)
                    continue
                }
            }
            let connection = Connection(
                fd: fd, tls: tls, id: id, server: self, loop: loop,
                queue: DispatchQueue(label: "lossd.http.connection", target: connectionQueue), overflow: overflow)
            let registered: (ok: Bool, draining: Bool) = state.withLock { s in
                guard !s.listenerClosed else { return (false, true) }  // a drain closed the listener meanwhile
                s.connections[ObjectIdentifier(connection)] = connection
                if overflow { s.extras.insert(ObjectIdentifier(connection)) }
                return (true, s.connectionsDraining)  // not before: see `drain`
            }
            if registered.ok {
                // During a drain's accept grace the connection serves one request, with `Connection: close`.
                start(connection, registered.draining)
            } else {
                connection.discard()
            }
        }
    }

    /// How a new connection is let in.
    private enum Admission {
        /// Under the cap.
        case regular
        /// At the cap, in the place of this idle connection, now being evicted.
        case evicting(Connection)
        /// Past the cap, to be answered 503.
        case overflow
    }

    /// Decides how a new connection is let in, or nil to close it at once.
    /// At the cap, the connection idle the longest (at least
    /// `minIdleBeforeEviction` seconds) gives up its place: it moves to
    /// `extras` until it has closed. With none idle, the new one is an
    /// overflow connection, while `extras` has room. A scan of the
    /// connections, but only at the cap.
    private func admit(_ s: inout State) -> Admission? {
        let limits = configuration.limits
        if s.connections.count - s.extras.count < limits.maxConnections { return .regular }
        guard s.extras.count < configuration.overflowConnections else { return nil }
        let latest = clock.now() &- UInt64(max(0, configuration.minIdleBeforeEviction) * 1e9)
        var oldest: (since: UInt64, connection: Connection)?
        for connection in s.connections.values {
            let since = connection.idleSince.load(ordering: .relaxed)
            // One already in `extras` (claimed before, but a request came first) counts there until it closes.
            if since != 0 && since <= latest && since < (oldest?.since ?? .max)
                && (s.extras.isEmpty || !s.extras.contains(ObjectIdentifier(connection))) {
                oldest = (since, connection)
            }
        }
        // Claimed (its `idleSince` cleared) so no later accept picks it again; if a request came
        // meanwhile the claim fails and the new connection overflows instead. Should a request
        // come between the claim and `evict()`, the connection is served and stays in `extras`
        // (never claimed again) until it closes: rare, and the bound of the two limits holds.
        if let (since, idle) = oldest,
           idle.idleSince.compareExchange(expected: since, desired: 0, ordering: .relaxed).exchanged {
            s.extras.insert(ObjectIdentifier(idle))
            return .evicting(idle)
        }
        return .overflow
    }

    /// Called by a connection once its descriptor is closed.
    func unregister(_ connection: Connection) {
        state.withLock { s in
            let key = ObjectIdentifier(connection)
            s.connections.removeValue(forKey: key)
            if !s.extras.isEmpty { s.extras.remove(key) }
        }
        finishDrainIfDone()
    }

    private func finishDrainIfDone() {
        let completions: [@Sendable () -> Void] = state.withLock { s in
            guard s.draining, s.listenerClosed, s.connections.isEmpty, !s.drainCompletions.isEmpty else { return [] }
            defer {
                s.drainCompletions = []
                s.sweeper?.cancel()
                for loop in s.loops { loop.stop() }
                s.loops = []
            }
            return s.drainCompletions
        }
        for completion in completions { completion() }
    }

    // MARK: - Deadlines

    /// A quarter of the shortest timeout, between 10 ms and 1 s: timeouts fire
    /// at most that late.
    private var sweepInterval: Double {
        let limits = configuration.limits
        let shortest = min(limits.headTimeout, limits.bodyTimeout, limits.idleTimeout,
                           configuration.writeTimeout, configuration.lingerTimeout)
        return min(1, max(0.01, shortest / 4))
    }

    /// Asks each connection whose deadline has passed to act on it. Runs on
    /// `acceptQueue` (its timer); a test calls it there after moving the clock.
    func sweep() {
        let now = clock.now()
        let connections = state.withLock { Array($0.connections.values) }
        for connection in connections {
            let due = connection.deadline.load(ordering: .relaxed)
            if due != 0 && due <= now {
                connection.performSoon { $0.deadlinePassed() }  // on the accept queue, never a connection's
            }
        }
    }
}
