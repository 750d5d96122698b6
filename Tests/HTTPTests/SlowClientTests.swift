#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import Testing
import TestSupport
@testable import HTTP

/// Sends `bytes`, `piece` bytes every `interval` seconds, from the calling
/// thread (a Dispatch worker may start late on a loaded machine, which would
/// look like a stalled body), until all are sent or the server answers.
/// Returns the seconds after which the answer became readable, or nil when
/// every byte was sent before it.
func trickle(_ bytes: [UInt8], piece: Int, every interval: Double, to client: TestClient) -> Double? {
    let start = DispatchTime.now().uptimeNanoseconds
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + piece)
        client.send(Array(bytes[offset..<end]))
        offset = end
        if offset == bytes.count { break }
        var poller = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
        if poll(&poller, 1, Int32(interval * 1000)) > 0 {
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }
    return nil
}

/// On a server whose clock is moved by hand: `steps` times, moves the clock 10 s,
/// sends 500 body bytes, waits until the server has read them, sweeps, and expects
/// the connection not yet cut.
func sendBodySteps(_ steps: Int, to client: TestClient, of server: Server, movingClock offset: ClockOffset) {
    for step in 1...steps {
        offset.advance(10)
        client.send([UInt8](repeating: 0x31, count: 500))
        #expect(eventually { server.openConnections.first?.bodyBytesRead == 500 * step })
        sweepNow(server)
        #expect(!hasSomethingToRead(client), "cut after step \(step)")
    }
}

/// On a server whose clock is moved by hand (its limits set by `adjust`): sends the
/// head of a 10,000-byte body and `steps` pieces of it 10 s apart, none cut
/// (`sendBodySteps`), then moves the clock 10 s more and sweeps; returns the
/// response that sweep sent, and the server's responder.
func bodySentInStepsThenSwept(_ steps: Int, configured adjust: (inout ServerConfiguration) -> Void)
    throws -> (response: TestResponse, responder: TestResponder) {
    let offset = ClockOffset()
    var outcome: (TestResponse, TestResponder)?
    try withClient(clock: SystemClock(offset: offset), configured: adjust) { client, server, responder in
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10000\r\n\r\n")
        #expect(eventually { server.openConnections.map(\.phase) == [.body] })
        sendBodySteps(steps, to: client, of: server, movingClock: offset)
        offset.advance(10)
        sweepNow(server)
        #expect(hasSomethingToRead(client))  // answered by that sweep
        outcome = (try client.readResponse(), responder)
    }
    return try #require(outcome)
}

/// Clients that send or read too slowly: a minimum rate after a grace, and a
/// total deadline, so no client holds a connection by trickling bytes.
@Suite struct SlowClientTests {
    @Test func aBodyTricklingBelowTheMinimumRateIsCutWith408AfterTheGrace() throws {
        // On the server's clock, moved by hand: 500 bytes every 10 s (50 bytes/s) against a minimum
        // of 100 bytes/s after 30 s of grace. The rule's deadline is 30 + 5 s per step from the
        // body's start, the time 10 s per step: still ahead after step 5 (55 s against 50 s), behind at 60 s.
        let (response, responder) = try bodySentInStepsThenSwept(5) {
            $0.limits.bodyTimeout = 30
            $0.limits.minBodyRate = 100
            $0.limits.idleTimeout = 600
        }
        #expect(response.status == 408)
        #expect(response.header("Connection") == "close")
        #expect(response.text.contains("arrived too slowly: 2500 bytes in 60."))
        #expect(response.text.contains("at least 100 bytes per second"))
        let exchange = responder.waitForExchanges(1).first
        #expect(exchange?.status.code == 408)
        #expect(exchange?.wasRouted == true)
    }

    @Test func aBodyWithinTheMinimumRateIsServedPastTheGrace() throws {
        // 2000 bytes/s for one second, against a minimum of 1000 bytes/s after 0.3 s.
        let (server, _) = try startServer {
            $0.limits.bodyTimeout = 0.3
            $0.limits.minBodyRate = 1000
        }
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        let body = (0..<2000).map { UInt8(0x41 + $0 % 26) }
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n")
        let seconds = elapsed { #expect(trickle(body, piece: 100, every: 0.05, to: client) == nil) }
        #expect(seconds >= 0.9)  // it did outlast the grace
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.body == body)
    }

    @Test func aBodyIsCutWith408AtTheMaximumDurationHoweverSteadily() throws {
        // On the server's clock: 500 bytes every 10 s is well above the minimum rate, but the body may take 40 s in all.
        let (response, _) = try bodySentInStepsThenSwept(3) {
            $0.limits.bodyTimeout = 30
            $0.limits.minBodyRate = 10
            $0.limits.maxBodyDuration = 40
            $0.limits.idleTimeout = 600
        }
        #expect(response.status == 408)
        #expect(response.text.contains("not complete within 40.0 seconds (1500 bytes received)"))
    }

    @Test func aStalledBodySaysItMadeNoProgress() throws {
        let (server, _) = try startServer { $0.limits.bodyTimeout = 0.3 }
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        let response = try client.readResponse()
        #expect(response.status == 408)
        #expect(response.text.contains("made no progress for 0.3 seconds (3 bytes received)"))
    }

    @Test func aSlowReaderOfALargeResponseIsClosedThoughItKeepsReading() throws {
        // The client reads 16 KiB every 10 ms (about 1.6 MB/s): never a second without progress,
        // but below the 16 MB/s the server asks for once the response has waited 1 s.
        let (server, _) = try startServer {
            $0.limits.maxBodyBytes = 16 << 20
            $0.writeTimeout = 1
            $0.minSendRate = 16_000_000
        }
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        let body = [UInt8](repeating: 0x61, count: 8 << 20)
        client.send(post("/echo", body))
        var received = 0
        var closedAfter: Double?
        let start = DispatchTime.now().uptimeNanoseconds
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while received < body.count + 100 {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if closedAfter == nil && server.connectionCount == 0 { closedAfter = seconds }
            if seconds > 6 { break }
            let n = chunk.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += n
            usleep(10_000)  // kept: the pause is the behaviour, a reader slower than the minimum send rate
        }
        // Closed at about 1 / (1 - 1.6/16) = 1.1 s; the socket buffers still held what the client read after.
        #expect(closedAfter != nil)
        #expect((closedAfter ?? 99) < 3)
        #expect(received < body.count)
    }
}

/// At `Limits.maxConnections`: the longest-idle connection makes room for a
/// new one; with none idle, a new client gets 503 with Retry-After; past the
/// overflow, new connections are closed at once.
@Suite struct ConnectionCapTests {
    @Test func atTheCapTheConnectionIdleLongestIsEvictedForANewOne() throws {
        // The server's clock is moved by hand between the requests: idle times differ by a second each, no sleep.
        let offset = ClockOffset()
        let (server, _) = try startServer(clock: SystemClock(offset: offset)) {
            $0.limits.maxConnections = 3
            $0.limits.idleTimeout = 60
            $0.minIdleBeforeEviction = 0.5
        }
        defer { stop(server) }
        let admitted = try (0..<3).map { _ in try TestClient(port: server.port) }
        #expect(eventually { started(server, count: 3) })  // idle since before the first request
        for client in admitted {
            let sent = server.clock.now()
            #expect(try client.roundTrip(get("/hello")).text == "hello")
            #expect(eventually { becameIdle(server, since: sent) == 1 })
            offset.advance(1)
        }
        let newcomer = try TestClient(port: server.port)
        #expect(try newcomer.roundTrip(get("/hello")).text == "hello")
        // The first one, idle longest, was closed cleanly (a FIN, not a reset); the others still serve.
        #expect(admitted[0].readEnd() == 0)
        for client in admitted[1...] {
            #expect(try client.roundTrip(get("/hello")).text == "hello")
        }
        #expect(eventually { server.connectionCount == 3 }, "\(server.connectionCount) open")
    }

    @Test func atTheCapWithNoConnectionIdleANewClientGets503WithRetryAfter() throws {
        let (server, responder) = try startServer { $0.limits.maxConnections = 2 }
        defer { stop(server) }
        // Both admitted connections are in the middle of a request body.
        let busy = try (0..<2).map { _ in try TestClient(port: server.port) }
        for client in busy { client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc") }
        responder.waitForRequests(2)
        let refused = try TestClient(port: server.port)
        refused.send(get("/hello"))
        let response = try refused.readResponse()
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "1")
        #expect(response.header("Connection") == "close")
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.text.contains(#""status":503"#))
        #expect(response.text.contains("limit of 2 connections"))
        #expect(refused.readEnd() == 0)  // then a clean close, not a reset
        let exchanges = responder.waitForExchanges(1)
        #expect(exchanges.contains { $0.status.code == 503 && !$0.wasRouted && $0.head?.path == "/hello" })
        // The busy ones go on.
        for client in busy {
            client.send("defghij")
            #expect(try client.readResponse().text == "abcdefghij")
        }
    }

    @Test func aKeepAliveClientBetweenTwoRequestsIsNotEvicted() throws {
        let (server, _) = try startServer { $0.limits.maxConnections = 1 }  // minimum idle: 1 s
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        #expect(try client.roundTrip(get("/hello")).text == "hello")
        let newcomer = try TestClient(port: server.port)
        #expect(try newcomer.roundTrip(get("/hello")).status == 503)
        #expect(try client.roundTrip(get("/hello")).text == "hello")
    }

    @Test func pastTheCapAndItsOverflowNewConnectionsAreClosedAtOnce() throws {
        let (server, _) = try startServer {
            $0.limits.maxConnections = 3
            $0.overflowConnections = 1
        }
        defer { stop(server) }
        let admitted = try (0..<3).map { _ in try TestClient(port: server.port) }
        for client in admitted {
            #expect(try client.roundTrip(get("/hello")).text == "hello")
        }
        let overflow = try TestClient(port: server.port)  // holds the one overflow place, sending nothing yet
        #expect(eventually { server.connectionCount == 4 })  // the overflow connection was accepted
        let refused = try TestClient(port: server.port)
        refused.send(get("/hello"))
        #expect(refused.isClosedWithoutResponse())
        #expect(server.connectionCount == 4)
        #expect(try overflow.roundTrip(get("/hello")).status == 503)
    }

    @Test func anOverflowConnectionThatSendsNoHeadIsClosedAfterTheHeadTimeout() throws {
        let offset = ClockOffset()
        let (server, _) = try startServer(clock: SystemClock(offset: offset)) {
            $0.limits.maxConnections = 1
            $0.limits.headTimeout = 30
            $0.limits.idleTimeout = 60
        }
        defer { stop(server) }
        let first = try TestClient(port: server.port)
        #expect(try first.roundTrip(get("/hello")).text == "hello")
        let overflow = try TestClient(port: server.port)
        // Both started: each has its deadline (the overflow one the head timeout, not the idle one).
        #expect(eventually { started(server, count: 2) })
        offset.advance(29)
        sweepNow(server)
        #expect(!hasSomethingToRead(overflow))
        offset.advance(1)
        sweepNow(server)
        #expect(overflow.isClosedWithoutResponse())
        // The first connection is idle under its own, longer timeout, and still serves.
        #expect(try first.roundTrip(get("/hello")).text == "hello")
    }
}

/// The connection cap over TLS: the same rules, through the TLS stream.
@Suite struct ConnectionCapTLSTests {
    @Test func atTheCapAnIdleTLSConnectionIsEvictedAndThenANewClientGets503OverTLS() throws {
        let offset = ClockOffset()
        let (server, _) = try startTLSServer(clock: SystemClock(offset: offset)) {
            $0.limits.maxConnections = 1
            $0.limits.idleTimeout = 60
            $0.minIdleBeforeEviction = 0.5
        }
        defer { stop(server) }
        let idle = try TestClient(port: server.port)
        try idle.startTLS()
        let sent = server.clock.now()
        idle.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try idle.readResponse().text == "hello")
        #expect(eventually { becameIdle(server, since: sent) == 1 })
        offset.advance(1)  // idle past minIdleBeforeEviction, on the server's clock
        let newcomer = try TestClient(port: server.port)
        try newcomer.startTLS()
        // Mid-body, so not idle: the next client overflows.
        newcomer.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nab")
        #expect(idle.readEnd() == 0)  // close_notify, then the FIN
        let refused = try TestClient(port: server.port)
        try refused.startTLS()
        refused.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = try refused.readResponse()
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "1")
        newcomer.send("cd")
        #expect(try newcomer.readResponse().text == "abcd")
    }
}
