#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import Testing
import TestSupport
@testable import HTTP

/// A graceful drain loses no request: every request that reached the server
/// is answered (the last one on a connection with `Connection: close`), and a
/// connection ends with a FIN, never a reset, so a client can tell "answered,
/// then closed" from "lost".
@Suite struct ServerDrainTests {
    /// What the keep-alive clients of one round saw.
    struct LoopOutcome {
        var answered = 0
        /// Clients answered at least 3 times: in their loop.
        var looping = 0
        /// Requests written that got no complete response (reset, EOF or timeout), with how.
        var lost: [String] = []
        /// Clients whose last response carried `Connection: close` and whose connection then ended with a FIN.
        var closedCleanly = 0
        /// Clients that stopped at their request bound without seeing the drain.
        var unfinished = 0
    }

    /// Runs `clients` keep-alive clients, each in a request loop (write a
    /// request, read its response, write the next at once), drains the server
    /// once every client has been answered a few times, and collects what the
    /// clients saw. Bounded: each client stops after 20 000 requests or 10 s.
    static func drainDuringRequestLoops(clients: Int, idleGrace: Double = 1) throws -> (LoopOutcome, drainSeconds: Double) {
        let (server, _) = try startServer { $0.drainIdleGrace = idleGrace }
        let outcome = Locked(LoopOutcome())
        let group = DispatchGroup()
        for index in 0..<clients {
            // One serial queue each: Dispatch gives each its own thread, as the clients block in recv.
            DispatchQueue(label: "drain test client \(index)").async(group: group) {
                // Far past the drain: a loop that ends on its own is counted `unfinished`, never mistaken for one
                // the drain ended. On a loaded machine the 32 clients may take many seconds to all start.
                let stop = DispatchTime.now().uptimeNanoseconds + 120_000_000_000
                guard let client = try? TestClient(port: server.port) else {
                    outcome.withLock { $0.lost.append("client \(index): could not connect") }
                    return
                }
                for request in 0..<20_000 {
                    let body = Array("\(index)/\(request)".utf8)
                    client.send(post("/echo", body))
                    let response: TestResponse
                    do {
                        response = try client.readResponse()
                    } catch {
                        let end = client.readEnd()
                        outcome.withLock { $0.lost.append("client \(index), request \(request): \(error), then \(end == 0 ? "EOF" : String(cString: strerror(end)))") }
                        return
                    }
                    guard response.status == 200 && response.body == body else {
                        outcome.withLock { $0.lost.append("client \(index), request \(request): \(response.status) \(response.text)") }
                        return
                    }
                    outcome.withLock {
                        $0.answered += 1
                        if request == 2 { $0.looping += 1 }
                    }
                    if response.header("Connection") == "close" {
                        let end = client.readEnd()
                        outcome.withLock {
                            if end == 0 {
                                $0.closedCleanly += 1
                            } else {
                                $0.lost.append("client \(index): after the last response, \(end < 0 ? "more bytes" : String(cString: strerror(end)))")
                            }
                        }
                        return
                    }
                    if DispatchTime.now().uptimeNanoseconds > stop { break }
                }
                outcome.withLock { $0.unfinished += 1 }
            }
        }
        // Mid-run: every client is in its loop. Required: draining before they all connected would close the
        // listener on the late ones ("could not connect"), which is not what this test is about.
        try #require(eventually(timeout: 60) { outcome.withLock { $0.looping } == clients })
        let drained = DispatchSemaphore(value: 0)
        let drainStart = DispatchTime.now().uptimeNanoseconds
        server.drain(deadline: 5) { drained.signal() }
        let finished = group.wait(timeout: .now() + 15)
        let completed = drained.wait(timeout: .now() + 5)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - drainStart) / 1e9
        #expect(finished == .success)
        #expect(completed == .success)
        return (outcome.withLock { $0 }, seconds)
    }

    @Test func aDrainDuringKeepAliveRequestLoopsAnswersEveryRequestAndEndsEachConnectionWithAFIN() throws {
        for round in 0..<3 {
            let (outcome, seconds) = try Self.drainDuringRequestLoops(clients: 32)
            #expect(outcome.lost.isEmpty, "round \(round): \(outcome.lost.count) lost: \(outcome.lost.prefix(5))")
            #expect(outcome.closedCleanly == 32, "round \(round): \(outcome.closedCleanly) of 32 ended with Connection: close and a FIN")
            #expect(outcome.unfinished == 0)
            // Every client was in a request loop: nobody waits out the idle grace.
            #expect(seconds < 1, "round \(round): the drain took \(seconds) s")
        }
    }

    @Test func aRequestAlreadyInTheKernelWhenTheDrainBeginsOnAnIdleConnectionIsAnswered() throws {
        // One event loop, kept busy by a slow request answered on it: the idle connection's
        // request waits, unread, in the kernel until the drain's final read takes it.
        // No idle grace, so that final read is the only thing between the request and the close.
        let (server, responder) = try startServer {
            $0.eventLoops = 1
            $0.drainIdleGrace = 0
        }
        let idle = try TestClient(port: server.port)
        idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try idle.readResponse().text == "hello")

        let busy = try TestClient(port: server.port)
        busy.send(post("/slow", Array("abc".utf8)))  // small: answered on the loop's thread, which it holds for 300 ms
        #expect(eventually { responder.slowStarted.withLock { $0 } })
        idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(eventually { sentBytesReachedTheServer(idle) })  // in the server's receive buffer; the loop is still busy

        let drained = DispatchSemaphore(value: 0)
        server.drain(deadline: 5) { drained.signal() }
        let response = try idle.readResponse()
        #expect(response.text == "hello")
        #expect(response.header("Connection") == "close")
        #expect(idle.readEnd() == 0)  // a FIN, not a reset
        #expect(try busy.readResponse().text == "3")
        #expect(drained.wait(timeout: .now() + 3) == .success)
    }

    @Test func anIdleConnectionIsKeptForTheIdleGraceThenHalfClosedWithAFIN() throws {
        // On the server's clock, moved by hand: kept 20 s into a 30 s grace, half-closed at its end.
        // Only the grace can send the FIN: the drain's hard deadline (on the wall clock) is far past
        // any run, and the lingering close after the FIN lasts until the test moves the clock past it.
        let offset = ClockOffset()
        let (server, _) = try startServer(clock: SystemClock(offset: offset)) {
            $0.drainIdleGrace = 30
            $0.limits.idleTimeout = 600
            $0.lingerTimeout = 60
        }
        let idle = try TestClient(port: server.port)
        idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try idle.readResponse().header("Connection") == nil)
        let connection = try #require(server.openConnections.first)
        let drained = DispatchSemaphore(value: 0)
        let drainCalled = server.clock.now()
        server.drain(deadline: 600) { drained.signal() }
        // Told of the drain once the listener is closed: the grace is armed from then. Not read from the
        // published deadline, which may still be the answer's write timeout (the answer is sent at the end
        // of the loop's round, and the test may read before that event ends).
        try #require(eventually { connection.drainIdleDeadline != 0 })
        let graceEnds = connection.drainIdleDeadline
        #expect(graceEnds >= drainCalled + 30_000_000_000 && graceEnds <= server.clock.now() + 30_000_000_000)
        #expect(connection.deadline.load(ordering: .relaxed) == graceEnds)  // what the sweeper checks

        moveClock(offset, of: server, to: graceEnds - 10_000_000_000)
        sweepNow(server)
        #expect(connection.phase == .idle)  // also: whatever the sweep started on the connection's queue is done
        #expect(!hasSomethingToRead(idle))
        moveClock(offset, of: server, to: graceEnds)
        sweepNow(server)
        #expect(idle.readEnd() == 0)  // a FIN after the grace, not a reset
        #expect(connection.phase == .lingering)  // the grace's half-close, not a close
        // A request that crossed the FIN is read and dropped (the lingering close), not answered
        // with a reset as a closed socket would (which recv, past the FIN, no longer reports).
        idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(eventually { sentBytesReachedTheServer(idle) })
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(idle.fd, SOL_SOCKET, SO_ERROR, &error, &size)
        #expect(error == 0, "\(String(cString: strerror(error)))")
        #expect(server.connectionCount == 1)  // lingering: the drain waits for it
        offset.advance(60)
        sweepNow(server)
        #expect(drained.wait(timeout: .now() + 3) == .success)
    }

    @Test func aRequestSentDuringTheIdleGraceIsAnsweredWithConnectionClose() throws {
        let (server, _) = try startServer { $0.drainIdleGrace = 2 }
        let idle = try TestClient(port: server.port)
        idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try idle.readResponse().header("Connection") == nil)
        let drained = DispatchSemaphore(value: 0)
        server.drain(deadline: 5) { drained.signal() }
        // The listener is closed, so the connection knows of the drain (`listenerDidClose`); the grace is 2 s.
        #expect(refusesConnections(port: server.port))
        idle.send(post("/echo", Array("late".utf8)))
        let response = try idle.readResponse()
        #expect(response.text == "late")
        #expect(response.header("Connection") == "close")
        #expect(idle.readEnd() == 0)
        #expect(drained.wait(timeout: .now() + 3) == .success)
    }

    @Test func connectionsWaitingInTheListenersBacklogWhenTheDrainBeginsAreServedNotReset() throws {
        let (server, _) = try startServer()
        // Hold the accept queue: the kernel completes these connections, but nobody accepts them yet.
        let release = DispatchSemaphore(value: 0)
        server.acceptQueue.async { _ = release.wait(timeout: .now() + 5) }
        let waiting = try (0..<8).map { _ in try TestClient(port: server.port) }
        for (index, client) in waiting.enumerated() { client.send(post("/echo", Array("queued \(index)".utf8))) }
        let drained = DispatchSemaphore(value: 0)
        server.drain(deadline: 5) { drained.signal() }
        release.signal()
        for (index, client) in waiting.enumerated() {
            let response = try client.readResponse()
            #expect(response.text == "queued \(index)")
            #expect(response.header("Connection") == "close")
            #expect(client.readEnd() == 0)
        }
        #expect(refusesConnections(port: server.port))
        #expect(drained.wait(timeout: .now() + 3) == .success)
    }

    @Test func theDrainDeadlineStillBoundsTheIdleGrace() throws {
        let (server, _) = try startServer { $0.drainIdleGrace = 10 }
        let idle = try TestClient(port: server.port)
        idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try idle.readResponse().text == "hello")
        let drained = DispatchSemaphore(value: 0)
        server.drain(deadline: 0.3) { drained.signal() }
        #expect(drained.wait(timeout: .now() + 3) == .success)  // done long before the 10 s grace
        #expect(server.connectionCount == 0)
    }
}
