#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

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
/// Linux only: readiness comes from epoll (see `EventLoop`).
///
/// Thread safety: the configuration is immutable; everything that changes
/// (listener, connections, drain) is behind `state`'s lock.
public final class Server: Sendable {
    let configuration: ServerConfiguration
    let responder: any Responder

    private let acceptQueue = DispatchQueue(label: "lossd.http.accept")
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
        /// The event loops; a new connection goes to `loops[nextLoop]`, in turn.
        var loops: [EventLoop] = []
        var nextLoop = 0
        var lastConnectionID: UInt64 = 0
        var draining = false
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

    public init(configuration: ServerConfiguration, responder: any Responder) {
        self.configuration = configuration
        self.responder = responder
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
        acceptSource.setCancelHandler { Glibc.close(listener) }

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

    /// The bound port (the ephemeral one when configured with port 0); 0 before `start()`.
    public var port: Int { state.withLock { $0.port } }

    /// True once `drain(deadline:completion:)` was called.
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// The number of open connections (lingering ones included).
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Graceful drain: stops accepting (new connections are refused; after
    /// `ServerConfiguration.drainAcceptGrace` seconds when that is set), lets
    /// in-flight requests finish (their responses carry `Connection: close`),
    /// closes idle connections, and calls `completion` once every connection
    /// is closed or `deadline` seconds have passed, when the remaining ones
    /// are closed. Calling it again adds a completion to the same drain.
    /// `completion` runs on a server thread, or on the caller's when no
    /// connection is open.
    public func drain(deadline: Double, completion: @escaping @Sendable () -> Void) {
        let (connections, first) = state.withLock { s in
            let first = !s.draining
            s.draining = true
            s.drainCompletions.append(completion)
            return (Array(s.connections.values), first)
        }
        if first {
            let grace = min(max(0, configuration.drainAcceptGrace), max(0, deadline))
            if grace > 0 {
                acceptQueue.asyncAfter(deadline: .now() + grace) { [self] in closeListener() }
            } else {
                closeListener()
            }
            for connection in connections {
                connection.async { $0.beginDrain() }
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

    /// Closes the listener: from now on new connections are refused.
    private func closeListener() {
        state.withLock { s in
            s.listenerClosed = true
            // A cancelled source that is suspended never runs its cancel handler (which closes the listener).
            s.pausedAcceptSource?.resume()
            s.pausedAcceptSource = nil
            s.acceptSource?.cancel()
        }
        finishDrainIfDone()
    }

    // MARK: - Accepting

    private func acceptConnections(_ listener: Int32) {
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
            let admitted: (UInt64, EventLoop, TLSContext?)? = state.withLock { s in
                guard !s.listenerClosed, s.connections.count < configuration.limits.maxConnections, !s.loops.isEmpty else {
                    return nil
                }
                s.lastConnectionID += 1
                let loop = s.loops[s.nextLoop]
                s.nextLoop = (s.nextLoop + 1) % s.loops.count
                return (s.lastConnectionID, loop, s.tls)
            }
            guard let (id, loop, tlsContext) = admitted else {
                // Over the cap (or draining): close at once so the client fails fast, not after a timeout.
                Glibc.close(fd)
                continue
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
                queue: DispatchQueue(label: "lossd.http.connection", target: connectionQueue))
            let registered: (ok: Bool, draining: Bool) = state.withLock { s in
                guard !s.listenerClosed else { return (false, true) }  // a drain closed the listener meanwhile
                s.connections[ObjectIdentifier(connection)] = connection
                return (true, s.draining)
            }
            if registered.ok {
                // During a drain's accept grace the connection serves one request, with `Connection: close`.
                connection.activate(draining: registered.draining)
            } else {
                connection.discard()
            }
        }
    }

    /// Called by a connection once its descriptor is closed.
    func unregister(_ connection: Connection) {
        state.withLock { _ = $0.connections.removeValue(forKey: ObjectIdentifier(connection)) }
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

    private func sweep() {
        let now = Server.now()
        let connections = state.withLock { Array($0.connections.values) }
        for connection in connections {
            let due = connection.deadline.load(ordering: .relaxed)
            if due != 0 && due <= now {
                connection.performSoon { $0.deadlinePassed() }  // on the accept queue, never a connection's
            }
        }
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }
}
