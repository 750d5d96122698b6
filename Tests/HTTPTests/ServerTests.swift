#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Testing
import TestSupport
@testable import HTTP

/// The server over real sockets on the loopback interface.
@Suite struct ServerTests {
    // MARK: - Keep-alive, pipelining, versions

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        try withClient { client, _, responder throws in
            for _ in 0..<3 {
                let response = try client.roundTrip(get("/hello"))
                #expect(response.status == 200)
                #expect(response.text == "hello")
                #expect(response.header("Content-Length") == "5")
                #expect(response.header("Connection") == nil)
                #expect(response.header("Date")?.hasSuffix(" GMT") == true)
                #expect(response.header("X-Prepared") == "head")
            }
            let exchanges = responder.waitForExchanges(3)
            #expect(exchanges.count == 3)
            #expect(exchanges.allSatisfy { $0.wasRouted && $0.status.code == 200 && $0.responseBodyBytes == 5 })
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try withClient { client, _, _ throws in
            client.send(get("/hello") + post("/echo", Array("first".utf8)) + get("/missing") + post("/echo", Array("second".utf8)))
            #expect(try client.readResponse().text == "hello")
            #expect(try client.readResponse().text == "first")
            #expect(try client.readResponse().status == 404)
            #expect(try client.readResponse().text == "second")
        }
    }

    @Test func aPipelinedBatchLargerThanTheReadBufferIsAnsweredInFull() throws {
        try withClient(configured: { $0.readBufferBytes = 4096 }) { client, _, _ throws in
            let count = 600  // about 20 KB of requests: several full reads of the buffer
            let batch = (0..<count).map { "GET /hello?n=\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined()
            DispatchQueue.global().async { client.send(batch) }
            for _ in 0..<count { #expect(try client.readResponse().text == "hello") }
        }
    }

    @Test func aRequestTrickledByteByByteIsServed() throws {
        try withClient { client, _, _ throws in
            for byte in Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc".utf8) {
                client.send([byte])
                usleep(500)  // kept: the pause is the behaviour, so that each byte arrives in a read of its own
            }
            #expect(try client.readResponse().text == "abc")
        }
    }

    @Test func aHeadLargerThanTheReadBufferIsServed() throws {
        try withClient(configured: { $0.readBufferBytes = 4096 }) { client, _, _ throws in
            let filler = String(repeating: "x", count: 20_000)
            #expect(try client.roundTrip(get("/hello", headers: "X-Filler: \(filler)\r\n")).text == "hello")
        }
    }

    @Test func pipelinedRequestsBeforeAHalfCloseAreAllAnswered() throws {
        try withClient { client, _, _ throws in
            client.send(String(repeating: "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", count: 3))
            client.shutdownWrite()
            for _ in 0..<3 { #expect(try client.readResponse().text == "hello") }
            #expect(client.isClosedWithoutResponse())
        }
    }

    @Test func http10WithoutKeepAliveIsClosedAfterTheResponse() throws {
        try withClient { client, _, _ in
            let response = try client.roundTrip("GET /hello HTTP/1.0\r\n\r\n")
            #expect(response.text == "hello")
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedWithoutResponse())
        }
    }

    @Test func http10WithKeepAliveStaysOpen() throws {
        try withClient { client, _, _ in
            for _ in 0..<2 {
                let response = try client.roundTrip("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                #expect(response.text == "hello")
                #expect(response.header("Connection") == "keep-alive")
            }
        }
    }

    @Test func connectionCloseFromTheClientClosesAfterTheResponse() throws {
        try withClient { client, _, _ throws in
            #expect(try client.roundTrip(get("/hello", headers: "Connection: close\r\n")).header("Connection") == "close")
            #expect(client.isClosedWithoutResponse())
        }
    }

    @Test func connectionCloseFromTheResponderClosesAfterTheResponse() throws {
        try withClient { client, _, _ in
            let response = try client.roundTrip(get("/close"))
            #expect(response.text == "bye")
            #expect(response.headers.filter { $0.name == "Connection" }.map(\.value) == ["close"])
            #expect(client.isClosedWithoutResponse())
        }
    }

    @Test func headGetsTheHeadersOfGetWithoutTheBody() throws {
        try withClient { client, _, _ in
            client.send("HEAD /big HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try client.readResponse(bodyless: true)
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == String(TestResponder.bigBody.count))
            // A body after the HEAD response would be read as the next status line here.
            #expect(try client.roundTrip(get("/hello")).text == "hello")
        }
    }

    @Test func noContentHasNoContentLength() throws {
        try withClient { client, _, _ in
            let empty = try client.roundTrip(get("/empty") + get("/hello"))
            #expect(empty.status == 204)
            #expect(empty.header("Content-Length") == nil)
            #expect(try client.readResponse().text == "hello")
        }
    }

    @Test func ipv6LoopbackIsServed() throws {
        try withClient(host: "::1") { client, _, _ throws in
            #expect(try client.roundTrip("GET /hello HTTP/1.1\r\nHost: [::1]\r\n\r\n").text == "hello")
        }
    }

    @Test func startFailsWithAClearMessageWhenThePortIsTaken() throws {
        let (server, _) = try startServer()
        defer { stop(server) }
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = server.port
        let second = Server(configuration: configuration, responder: TestResponder())
        #expect {
            try second.start()
        } throws: { error in
            "\(error)".contains("address already in use") && "\(error)".contains("127.0.0.1:\(server.port)")
        }
    }

    @Test func startFailsWithAClearMessageForAPortOutOfRange() {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 70000
        let server = Server(configuration: configuration, responder: TestResponder())
        #expect {
            try server.start()
        } throws: { error in
            "\(error)".contains("port 70000 is out of range")
        }
    }

    // MARK: - Bodies

    @Test func chunkedBodiesAreDechunked() throws {
        try withClient { client, _, _ throws in
            client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            usleep(20_000)  // kept: the pause is the behaviour, so that the body arrives in two reads
            #expect(try client.roundTrip("7\r\n, world\r\n0\r\n\r\n").text == "hello, world")
        }
    }

    @Test func continueIsSentWhenTheResponderWantsTheBody() throws {
        try withClient { client, _, _ in
            let interim = try client.roundTrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            #expect(interim.status == 100)
            #expect(try client.roundTrip("ping").text == "ping")
        }
    }

    @Test func continueIsNotSentForABodyOverTheLimit() throws {
        try withClient(configured: { $0.limits.maxBodyBytes = 1000 }) { client, _, responder in
            let response = try client.roundTrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n")
            #expect(response.status == 413)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedWithoutResponse())
            let exchange = responder.waitForExchanges(1).first
            #expect(exchange?.wasRouted == false)
            #expect(exchange?.status.code == 413)
            #expect(exchange?.head?.path == "/echo")
        }
    }

    @Test func continueIsNotSentWhenTheResponderAnswersAtOnce() throws {
        try withClient { client, _, _ in
            let response = try client.roundTrip("POST /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
            #expect(response.status == 404)
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedWithoutResponse())
        }
    }

    @Test func anotherExpectationIsAnswered417() throws {
        try withClient { client, _, _ throws in
            #expect(try client.roundTrip(post("/echo", Array("hi".utf8), headers: "Expect: teapot\r\n")).status == 417)
        }
    }

    @Test func aContentLengthOverTheLimitIsRefusedBeforeTheBodyIsSentAndReportedWithItsHead() throws {
        try withClient(configured: { $0.limits.maxBodyBytes = 1000 }) { client, _, responder in
            let response = try client.roundTrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n")
            #expect(response.status == 413)
            #expect(response.text.contains("Content-Length 5000000 is over the body limit of 1000 bytes"))
            // The access log and the metrics get the method and path of what was refused.
            let exchange = responder.waitForExchanges(1).first
            #expect(exchange?.status.code == 413)
            #expect(exchange?.head?.method == .post)
            #expect(exchange?.head?.path == "/echo")
        }
    }

    @Test func aContentLengthPastIntMaxIsRefusedWithoutPrintingAWrappedNumber() throws {
        try withClient { client, _, _ in
            let response = try client.roundTrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551616\r\n\r\n")
            #expect(response.status == 413)
            #expect(response.text.contains("Content-Length (over 9223372036854775807) is over the body limit"), "\(response.text)")
        }
    }

    @Test func aChunkedBodyOverTheLimitIs413() throws {
        try withClient(configured: { $0.limits.maxBodyBytes = 1000 }) { client, _, _ throws in
            let chunk = String(repeating: "x", count: 600)
            let request = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n"
            #expect(try client.roundTrip(request).status == 413)
        }
    }

    @Test func gzipRequestBodiesAreInflated() throws {
        try withClient { client, _, responder in
            for coding in ["gzip", "x-gzip"] {
                let response = try client.roundTrip(post("/echo", GzipTests.pythonGzip, headers: "Content-Encoding: \(coding)\r\n"))
                #expect(response.text == #"{"hello":"gzip"}"#)
            }
            let exchanges = responder.waitForExchanges(2)
            #expect(exchanges.first?.requestBodyBytes == GzipTests.pythonGzip.count)
        }
    }

    @Test func aGzipBombIsRefusedWith413() throws {
        let bomb = try #require(Deflater(level: 9).gzip([UInt8](repeating: 0, count: 10_000_000)))
        #expect(bomb.count < 100_000)
        try withClient(configured: { $0.limits.maxBodyBytes = 100_000 }) { client, _, _ in
            let response = try client.roundTrip(post("/echo", bomb, headers: "Content-Encoding: gzip\r\n"))
            #expect(response.status == 413)
            #expect(response.text.contains("inflates"))
        }
    }

    @Test func aCorruptGzipBodyIs400() throws {
        var corrupt = GzipTests.pythonGzip
        corrupt[12] ^= 0xFF
        try withClient { client, _, _ throws in
            #expect(try client.roundTrip(post("/echo", corrupt, headers: "Content-Encoding: gzip\r\n")).status == 400)
        }
    }

    @Test func anUnknownContentCodingIs415() throws {
        try withClient { client, _, _ throws in
            #expect(try client.roundTrip(post("/echo", Array("abc".utf8), headers: "Content-Encoding: br\r\n")).status == 415)
        }
    }

    @Test func anEarlyAnswerWithASmallBodyKeepsTheConnection() throws {
        try withClient { client, _, _ in
            let head = Array("POST /stop-early HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n".utf8)
            let early = try client.roundTrip(head + [UInt8](repeating: 65, count: 300))
            #expect(early.status == 422)
            #expect(early.header("Connection") == nil)
            #expect(try client.roundTrip([UInt8](repeating: 65, count: 700) + get("/hello")).text == "hello")
        }
    }

    @Test func anEarlyAnswerWithALargeBodyClosesTheConnection() throws {
        try withClient(configured: { $0.discardBodyBytes = 1000 }) { client, _, _ in
            let head = Array("POST /stop-early HTTP/1.1\r\nHost: t\r\nContent-Length: 500000\r\n\r\n".utf8)
            let early = try client.roundTrip(head + [UInt8](repeating: 65, count: 100))
            #expect(early.status == 422)
            #expect(early.header("Connection") == "close")
        }
    }

    // MARK: - Responses

    @Test func largeResponsesAreGzippedWhenTheClientAcceptsIt() throws {
        try withClient { client, _, _ in
            let response = try client.roundTrip(get("/big", headers: "Accept-Encoding: br, gzip;q=0.5\r\n"))
            #expect(response.header("Content-Encoding") == "gzip")
            #expect(response.header("Vary") == "Accept-Encoding")
            #expect(response.body.count < TestResponder.bigBody.count)
            #expect(try GzipTests.inflate(response.body) == TestResponder.bigBody)
        }
    }

    @Test(arguments: ["", "Accept-Encoding: gzip;q=0\r\n", "Accept-Encoding: identity\r\n", "Accept-Encoding: *;q=0\r\n"])
    func largeResponsesAreSentPlainWhenGzipIsNotAccepted(_ acceptEncoding: String) throws {
        try withClient { client, _, _ in
            let response = try client.roundTrip(get("/big", headers: acceptEncoding))
            #expect(response.header("Content-Encoding") == nil)
            #expect(response.header("Vary") == "Accept-Encoding")
            #expect(response.body == TestResponder.bigBody)
        }
    }

    @Test func smallResponsesAreNeverGzipped() throws {
        try withClient { client, _, _ in
            let response = try client.roundTrip(get("/hello", headers: "Accept-Encoding: gzip\r\n"))
            #expect(response.header("Content-Encoding") == nil)
            #expect(response.header("Vary") == nil)
            #expect(response.text == "hello")
        }
    }

    @Test(arguments: ["/bad-header", "/bad-name"])
    func anInvalidResponseHeaderBecomesA500(_ path: String) throws {
        let logged = Locked<[String]>([])
        try withClient(configured: { configuration in
            configuration.log = { line in logged.withLock { $0.append(line) } }
        }) { client, _, _ in
            let response = try client.roundTrip(get(path))
            #expect(response.status == 500)
            #expect(response.header("Set-Cookie") == nil)
            #expect(response.header("X-Note") == nil)
            #expect(logged.withLock { $0.count } == 1)
            #expect(try client.roundTrip(get("/hello")).text == "hello")
        }
    }

    @Test func aMalformedRequestGetsAProblemAndTheConnectionCloses() throws {
        try withClient { client, _, responder in
            let response = try client.roundTrip("\u{01}\u{02} nonsense\r\n\r\n")
            #expect(response.status == 400)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.header("Connection") == "close")
            #expect(response.header("X-Prepared") == "no-head")
            #expect(client.isClosedWithoutResponse())
            let exchange = responder.waitForExchanges(1).first
            #expect(exchange?.head == nil)
            #expect(exchange?.wasRouted == false)
        }
    }

    // MARK: - Timeouts

    @Test func aSlowHeadGets408OnceTheServersClockPassesTheHeadTimeout() throws {
        // The server's clock is moved by hand and the test sweeps: no wall-clock bound, no wait.
        let offset = ClockOffset()
        try withClient(clock: SystemClock(offset: offset), configured: {
            $0.limits.headTimeout = 30
            $0.limits.idleTimeout = 60
        }) { client, server, _ in
            client.send("GET /hello HTTP/1.1\r\nHost:")
            #expect(eventually { server.openConnections.map(\.phase) == [.head] })
            expectSweepActsAfter(30, on: client, of: server, movingClock: offset)  // answered by that sweep
            let response = try client.readResponse()
            #expect(response.status == 408)
            #expect(response.header("Connection") == "close")
            #expect(response.text.contains("did not arrive within 30.0 seconds"))
            #expect(client.isClosedWithoutResponse())
        }
    }

    @Test func aStalledBodyGets408() throws {
        try withClient(configured: { $0.limits.bodyTimeout = 0.3 }) { client, _, responder throws in
            let response = try client.roundTrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            #expect(response.status == 408)
            #expect(response.header("X-Prepared") == "head")
            #expect(responder.waitForExchanges(1).first?.wasRouted == true)
        }
    }

    @Test func anIdleConnectionIsClosedWithoutAResponseOnceTheServersClockPassesTheIdleTimeout() throws {
        let offset = ClockOffset()
        try withClient(clock: SystemClock(offset: offset), configured: { $0.limits.idleTimeout = 60 }) { client, server, _ throws in
            #expect(try client.roundTrip(get("/hello")).text == "hello")
            #expect(eventually { server.openConnections.map(\.phase) == [.idle] })
            expectSweepActsAfter(60, on: client, of: server, movingClock: offset)  // closed by that sweep
            #expect(client.isClosedWithoutResponse())
            #expect(server.connectionCount == 0)
        }
    }

    @Test func idleConnectionsDoNotDelayANewClient() throws {
        let (server, _) = try startServer()
        defer { stop(server) }
        let idle = try (0..<200).map { _ in try TestClient(port: server.port) }
        let seconds = try elapsed {
            let client = try TestClient(port: server.port)
            #expect(try client.roundTrip(get("/hello")).text == "hello")
        }
        #expect(seconds < 1)
        #expect(idle.count == 200)
    }

    // MARK: - Connection cap and drain

    @Test func withNoOverflowConnectionsThoseOverTheCapAreClosedAtOnce() throws {
        let (server, _) = try startServer {
            $0.limits.maxConnections = 3
            $0.overflowConnections = 0
        }
        defer { stop(server) }
        let admitted = try (0..<3).map { _ in try TestClient(port: server.port) }
        for client in admitted { #expect(try client.roundTrip(get("/hello")).text == "hello") }
        let refused = try TestClient(port: server.port)
        refused.send(get("/hello"))
        #expect(refused.isClosedWithoutResponse())
        #expect(server.connectionCount == 3)
    }

    @Test func drainFinishesInFlightRequestsClosesIdleOnesAfterTheIdleGraceAndRefusesNewOnes() throws {
        let (server, responder) = try startServer { $0.drainIdleGrace = 0.2 }
        let idle = try TestClient(port: server.port)
        #expect(try idle.roundTrip(get("/hello")).text == "hello")
        let busy = try TestClient(port: server.port)
        busy.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\nhalf")
        responder.waitForRequests(2)

        let drained = DispatchSemaphore(value: 0)
        server.drain(deadline: 5) { drained.signal() }
        #expect(server.isDraining)
        #expect(idle.readEnd() == 0)  // closed without a response, with a FIN
        #expect(refusesConnections(port: server.port))

        let response = try busy.roundTrip("done")
        #expect(response.text == "halfdone")
        #expect(response.header("Connection") == "close")
        #expect(drained.wait(timeout: .now() + 3) == .success)
    }

    @Test func drainClosesWhatRemainsAtTheDeadline() throws {
        let (server, responder) = try startServer { $0.limits.bodyTimeout = 60 }  // only the deadline can end it
        let stalled = try TestClient(port: server.port)
        stalled.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\nhalf")
        responder.waitForRequests(1)
        let drained = DispatchSemaphore(value: 0)
        server.drain(deadline: 0.2) { drained.signal() }
        #expect(drained.wait(timeout: .now() + 3) == .success)
        #expect(server.connectionCount == 0)
    }

    @Test func duringTheDrainAcceptGraceNewConnectionsAreAnsweredWithConnectionCloseThenRefused() throws {
        let (server, _) = try startServer { $0.drainAcceptGrace = 0.6 }
        let drained = DispatchSemaphore(value: 0)
        let drainStart = DispatchTime.now().uptimeNanoseconds
        server.drain(deadline: 5) { drained.signal() }

        let late = try TestClient(port: server.port)
        let response = try late.roundTrip(get("/hello"))
        #expect(response.text == "hello")
        #expect(response.header("Connection") == "close")
        #expect(late.readEnd() == 0)

        #expect(drained.wait(timeout: .now() + 3) == .success)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - drainStart) / 1e9
        #expect(seconds >= 0.55)  // the drain waited for the grace, though no request was in flight
        #expect(refusesConnections(port: server.port))
    }
}

/// Behaviours that need a socket the test drives without blocking.
@Suite struct ServerBackpressureTests {
    @Test func aClientThatPipelinesWithoutReadingStallsItselfNotTheServer() throws {
        try withClient { flooder, server, _ in
            // Unbounded reading would take all 64 MiB; backpressure stops it at the socket buffers.
            let flood = floodWithoutReading(flooder)
            #expect(flood.stalled)
            #expect(flood.sent < 32 << 20)
            let other = try TestClient(port: server.port)
            #expect(try other.roundTrip(get("/hello")).text == "hello")
        }
    }

    @Test func anEarlyAnswerToAChunkedBodyDropsTheRestAndKeepsTheConnection() throws {
        try withClient { client, _, _ in
            let early = try client.roundTrip("POST /stop-early HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
            #expect(early.status == 422)
            #expect(try client.roundTrip(Array("4\r\ndefg\r\n0\r\n\r\n".utf8) + get("/hello")).text == "hello")
        }
    }

    @Test func aClientThatResetsMidBodyIsReportedAs499() throws {
        let (server, responder) = try startServer()
        defer { stop(server) }
        do {
            let client = try TestClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            responder.waitForRequests(1)
            var reset = linger(l_onoff: 1, l_linger: 0)  // close() then sends RST, not FIN
            setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
        }
        let exchange = responder.waitForExchanges(1).first
        #expect(exchange?.status.code == 499)
        #expect(exchange?.wasRouted == true)
    }

    @Test func aBodyCutShortByAHalfCloseGets400() throws {
        try withClient { client, _, responder in
            client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            client.shutdownWrite()
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response.text.contains("after 3 bytes"))
            #expect(responder.waitForExchanges(1).first?.wasRouted == true)
        }
    }

    @Test func aHeadCutShortByAHalfCloseGets400() throws {
        try withClient { client, _, _ throws in
            client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")
            client.shutdownWrite()
            #expect(try client.readResponse().status == 400)
        }
    }

    @Test func aConnectionClosedWithoutAByteGetsNoResponse() throws {
        try withClient { client, _, _ in
            client.shutdownWrite()
            #expect(client.isClosedWithoutResponse())
        }
    }

    @Test func aLargeBodyIsReadWhole() throws {
        let body = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try withClient(configured: { $0.limits.maxBodyBytes = 8 << 20 }) { client, _, responder throws in
            DispatchQueue.global().async { client.send(post("/echo", body)) }
            #expect(try client.readResponse().body == body)
            #expect(responder.waitForExchanges(1).first?.requestBodyBytes == body.count)
        }
    }
}

/// Closing: the client must always be able to read the last response.
@Suite struct ServerClosingTests {
    @Test func a413SentBeforeTheBodyIsReadEvenWhileTheClientKeepsSending() throws {
        try withClient(configured: { $0.limits.maxBodyBytes = 1000 }) { client, _, _ throws in
            // The client sends its body without waiting (no Expect), head and body in one write: a plain
            // close would reset the connection and could destroy the 413 before the client read it.
            let sent = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                client.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n".utf8)
                    + [UInt8](repeating: 0x41, count: 512 << 10))
                sent.signal()
            }
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(response.header("Connection") == "close")
            // The server read and dropped the rest, then closed with a FIN: a reset here would mean it
            // closed with unread bytes, which can destroy a response still in flight.
            _ = sent.wait(timeout: .now() + 3)
            #expect(client.readEnd() == 0)
        }
    }

    @Test func aClientThatNeverReadsIsClosedAfterTheWriteTimeout() throws {
        try withClient(configured: { $0.writeTimeout = 0.3 }) { flooder, server, _ throws in
            _ = floodWithoutReading(flooder)
            #expect(eventually { server.connectionCount == 0 }, "\(server.connectionCount) still open")
        }
    }
}
