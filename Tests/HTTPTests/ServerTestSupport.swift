#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import Testing
import TestSupport
@testable import HTTP

/// A small responder that only the tests use: each path exercises one server behaviour.
final class TestResponder: Responder {
    let exchanges = Locked<[Exchange]>([])
    let responded = Locked(0)

    /// Request bodies that `/echo` returns whole.
    final class Echo: BodyHandler {
        var bytes: [UInt8] = []
        func consume(_ piece: UnsafeRawBufferPointer) -> Response? {
            bytes += piece
            return nil
        }
        func finish() -> Response { Response(status: .ok, body: bytes) }
    }

    /// Answers 422 as soon as the first body byte arrives.
    final class StopEarly: BodyHandler {
        func consume(_ piece: UnsafeRawBufferPointer) -> Response? {
            Problem(status: .unprocessableContent, detail: "stopped early").response
        }
        func finish() -> Response { Response(status: .ok) }
    }

    /// Counts the body, then, before answering, marks `slowStarted` and
    /// sleeps 300 ms: heavy work, as a large loss would be.
    final class Slow: BodyHandler {
        let responder: TestResponder
        var count = 0
        init(responder: TestResponder) { self.responder = responder }
        func consume(_ piece: UnsafeRawBufferPointer) -> Response? {
            count += piece.count
            return nil
        }
        func finish() -> Response {
            responder.slowStarted.withLock { $0 = true }
            usleep(300_000)
            return Response(status: .ok, body: Array("\(count)".utf8))
        }
    }

    /// True once a `/slow` request began its heavy work.
    let slowStarted = Locked(false)

    /// Counts the body, then, before answering, waits until the test opens
    /// the gate (`openGate`; at most 10 s): heavy work that lasts exactly
    /// until the test has seen what it must see meanwhile, with no sleep to tune.
    final class Gated: BodyHandler {
        let responder: TestResponder
        var count = 0
        init(responder: TestResponder) { self.responder = responder }
        func consume(_ piece: UnsafeRawBufferPointer) -> Response? {
            count += piece.count
            return nil
        }
        func finish() -> Response {
            responder.gatedWaiting.withLock { $0 += 1 }
            _ = responder.gate.wait(timeout: .now() + 10)
            return Response(status: .ok, body: Array("\(count)".utf8))
        }
    }

    /// `/gated` requests waiting at the gate (counted as each arrives, not decremented).
    let gatedWaiting = Locked(0)
    /// True once the test opened the gate.
    let gateOpened = Locked(false)
    private let gate = DispatchSemaphore(value: 0)

    /// Lets `count` waiting (or future) `/gated` requests answer.
    func openGate(for count: Int) {
        gateOpened.withLock { $0 = true }
        for _ in 0..<count { gate.signal() }
    }

    static let bigBody: [UInt8] = Array(String(repeating: #"{"loss":0.25,"count":12},"#, count: 200).utf8)

    func respond(to head: RequestHead) -> Reply {
        responded.withLock { $0 += 1 }
        switch head.path {
        case "/hello": return .response(Response(status: .ok, body: Array("hello".utf8)))
        case "/echo": return .body(Echo())
        case "/stop-early": return .body(StopEarly())
        case "/slow": return .body(Slow(responder: self))
        case "/gated": return .body(Gated(responder: self))
        case "/big": return .response(Response(status: .ok, headers: ["Content-Type": "application/json"], body: TestResponder.bigBody))
        case "/reject": return .response(Problem(status: .notFound, detail: "no such route").response)
        case "/empty": return .response(Response(status: .noContent))
        case "/bad-header": return .response(Response(status: .ok, headers: ["X-Note": "a\r\nSet-Cookie: evil=1"], body: []))
        case "/bad-name": return .response(Response(status: .ok, headers: ["X Note": "a"], body: []))
        case "/close": return .response(Response(status: .ok, headers: ["Connection": "close"], body: Array("bye".utf8)))
        default: return .response(Problem(status: .notFound, detail: "no route").response)
        }
    }

    func prepare(_ response: inout Response, for head: RequestHead?) {
        response.headers.add("X-Prepared", head == nil ? "no-head" : "head")
    }

    func completed(_ exchange: Exchange) {
        exchanges.withLock { $0.append(exchange) }
    }

    /// Waits briefly for `count` exchanges to be reported (the report follows the write).
    func waitForExchanges(_ count: Int) -> [Exchange] {
        eventually { exchanges.withLock { $0.count } >= count }
        return exchanges.withLock { $0 }
    }

    /// Waits briefly until `respond(to:)` was called `count` times.
    func waitForRequests(_ count: Int) {
        eventually { responded.withLock { $0 } >= count }
    }
}

/// Starts a server on an ephemeral port of 127.0.0.1 with short limits for tests.
/// `clock`: the server's, by default the system's; one with an offset lets
/// the test move it forward and sweep (`Server.sweep`) instead of waiting.
func startServer(host: String = "127.0.0.1", clock: SystemClock = SystemClock(),
                 _ adjust: (inout ServerConfiguration) -> Void = { _ in })
    throws -> (Server, TestResponder) {
    var configuration = ServerConfiguration()
    configuration.host = host
    configuration.port = 0
    configuration.limits.maxBodyBytes = 1 << 20
    configuration.limits.headTimeout = 2
    configuration.limits.bodyTimeout = 2
    configuration.limits.idleTimeout = 5
    configuration.lingerTimeout = 0.5
    configuration.log = { _ in }
    adjust(&configuration)
    let responder = TestResponder()
    let server = Server(configuration: configuration, responder: responder, clock: clock)
    try server.start()
    return (server, responder)
}

/// Stops a test server and waits until every connection is closed.
func stop(_ server: Server) {
    let done = DispatchSemaphore(value: 0)
    server.drain(deadline: 0) { done.signal() }
    _ = done.wait(timeout: .now() + 5)
}

/// Repeats `bytes` as a request with a Content-Length body.
func post(_ path: String, _ body: [UInt8], headers: String = "") -> [UInt8] {
    Array("POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\(headers)\r\n".utf8) + body
}

/// A GET of `path` as the tests send it (`Host: t`), with `headers` (each line ending in CRLF).
func get(_ path: String, headers: String = "") -> [UInt8] {
    Array("GET \(path) HTTP/1.1\r\nHost: t\r\n\(headers)\r\n".utf8)
}

/// Starts a test server (`startServer`, changed by `configured`), connects one
/// client to it, runs `body` with the client, the server and its responder, and
/// stops the server however `body` ends.
func withClient(host: String = "127.0.0.1", clock: SystemClock = SystemClock(),
                        configured adjust: (inout ServerConfiguration) -> Void = { _ in },
                        _ body: (TestClient, Server, TestResponder) throws -> Void) throws {
    let (server, responder) = try startServer(host: host, clock: clock, adjust)
    defer { stop(server) }
    let client = try TestClient(port: server.port, host: host)
    try body(client, server, responder)
}

extension TestClient {
    /// Sends `request` as it is and reads the response to it.
    func roundTrip(_ request: [UInt8]) throws -> TestResponse {
        send(request)
        return try readResponse()
    }

    func roundTrip(_ request: String) throws -> TestResponse { try roundTrip(Array(request.utf8)) }
}

/// Pipelines `GET /big` requests on `client` (made non-blocking) without reading
/// a response, until its socket takes nothing for 300 ms (`stalled`) or 64 MiB
/// are sent; returns the bytes sent.
func floodWithoutReading(_ client: TestClient) -> (sent: Int, stalled: Bool) {
    _ = fcntl(client.fd, F_SETFL, fcntl(client.fd, F_GETFL) | O_NONBLOCK)
    let request = Array(String(repeating: "GET /big HTTP/1.1\r\nHost: t\r\n\r\n", count: 64).utf8)
    var sent = 0
    while sent < 64 << 20 {
        let n = request.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n > 0 {
            sent += n
            continue
        }
        var poller = pollfd(fd: client.fd, events: Int16(POLLOUT), revents: 0)
        if poll(&poller, 1, 300) == 0 { return (sent, true) }
    }
    return (sent, false)
}

/// Moves the server's clock (through `offset`) to a second before `seconds` from
/// now and sweeps: `client` must have nothing to read yet; then to `seconds` and
/// sweeps again: `client` must have something to read (the answer or the end)
/// from that sweep.
func expectSweepActsAfter(_ seconds: Double, on client: TestClient, of server: Server, movingClock offset: ClockOffset,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    offset.advance(seconds - 1)
    sweepNow(server)
    #expect(!hasSomethingToRead(client), "a second before", sourceLocation: sourceLocation)
    offset.advance(1)
    sweepNow(server)
    #expect(hasSomethingToRead(client), "at \(seconds) s", sourceLocation: sourceLocation)
}

/// True once connecting to `port` is refused, within `seconds`: a drain closes
/// the listener on the server's accept queue, which a loaded machine may run
/// a little after `drain` returns.
func refusesConnections(port: Int, within seconds: Double = 2) -> Bool {
    eventually(timeout: seconds, interval: 0.01) { (try? TestClient(port: port)) == nil }
}

/// True once the server's kernel has answered every byte `client` sent (SIOCOUTQ,
/// Linux: nothing unsent or unacknowledged): the bytes wait in the server's
/// receive buffer, or were answered with a reset, which `SO_ERROR` then reports.
func sentBytesReachedTheServer(_ client: TestClient) -> Bool {
    var unacknowledged: Int32 = 0
    return ioctl(client.fd, UInt(TIOCOUTQ), &unacknowledged) == 0 && unacknowledged == 0
}

/// Runs the server's sweep now, on its accept queue (as its timer does), and
/// returns once it did: a connection whose deadline passed has acted on it
/// (inline, as it is cheap), so its answer is already in the socket.
func sweepNow(_ server: Server) {
    server.acceptQueue.sync { server.sweep() }
}

/// Moves `server`'s clock forward (through its `offset`) to `time`, to the
/// nanosecond; leaves it where it is when it is there already.
func moveClock(_ offset: ClockOffset, of server: Server, to time: UInt64) {
    let now = server.clock.now()
    if time > now { offset.nanoseconds.add(time - now, ordering: .relaxed) }
}

/// True when `client` has bytes (or the end) to read right now, without waiting.
func hasSomethingToRead(_ client: TestClient) -> Bool {
    var poller = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
    return poll(&poller, 1, 0) > 0
}

/// How many of the server's connections have waited for a request since
/// `time` or later (on the server's clock): each answered a request after it.
func becameIdle(_ server: Server, since time: UInt64) -> Int {
    server.openConnections.filter { $0.idleSince.load(ordering: .relaxed) >= time }.count
}

/// True when the server holds `count` connections, each started (with a deadline).
func started(_ server: Server, count: Int) -> Bool {
    let open = server.openConnections
    return open.count == count && open.allSatisfy { $0.deadline.load(ordering: .relaxed) != 0 }
}
