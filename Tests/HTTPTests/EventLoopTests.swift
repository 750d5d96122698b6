#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import Testing
import TestSupport
@testable import HTTP

/// Where requests run: cheap ones on the event loop's thread, heavy ones on
/// their connection's queue, over one or several loops.
@Suite struct EventLoopTests {
    @Test func aHeavyRequestOnOneConnectionDoesNotDelayASmallRequestOnAnother() throws {
        // One loop: both connections share its thread.
        let (server, responder) = try startServer { $0.eventLoops = 1 }
        defer { stop(server) }
        let heavy = try TestClient(port: server.port)
        let small = try TestClient(port: server.port)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 200 << 10)  // over inlineBodyBytes
        heavy.send(post("/gated", body))
        #expect(eventually(timeout: 10) { responder.gatedWaiting.withLock { $0 } == 1 })

        // The heavy handler holds its thread until the gate opens: the small
        // request is answered meanwhile, or the read times out. No wall-clock bound.
        small.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try small.readResponse().text == "hello")
        #expect(!responder.gateOpened.withLock { $0 })
        responder.openGate(for: 1)
        #expect(try heavy.readResponse().text == "\(body.count)")
    }

    @Test func aNewConnectionIsServedWhileHeavyRequestsKeepEveryWorkerBusy() throws {
        let (server, responder) = try startServer { $0.eventLoops = 1 }
        defer { stop(server) }
        // More heavy requests than Dispatch runs at once (one worker per CPU), each holding its worker.
        let heavyCount = ServerConfiguration.schedulableCPUs() + 1
        let heavy = try (0..<heavyCount).map { _ in try TestClient(port: server.port) }
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 100 << 10)
        for client in heavy { DispatchQueue.global().async { client.send(post("/gated", body)) } }
        let busy = ServerConfiguration.schedulableCPUs()
        #expect(eventually(timeout: 10) { responder.gatedWaiting.withLock { $0 } >= busy })

        let late = try TestClient(port: server.port)
        late.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try late.readResponse().text == "hello")
        #expect(!responder.gateOpened.withLock { $0 })
        responder.openGate(for: heavyCount)
        for client in heavy { #expect(try client.readResponse().text == "\(body.count)") }
    }

    /// Small (inline), large, chunked and gzip (offloaded) requests, mixed.
    static let mixedRequests: [(request: [UInt8], answer: String)] = {
        let large = [UInt8](repeating: UInt8(ascii: "L"), count: 100 << 10)
        let chunked = Array("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".utf8)
        return [
            (Array("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n".utf8), "hello"),
            (post("/echo", large), String(decoding: large, as: UTF8.self)),
            (post("/echo", Array("small".utf8)), "small"),
            (chunked, "abc"),
            (Array("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n".utf8), "hello"),
            (post("/echo", GzipTests.pythonGzip, headers: "Content-Encoding: gzip\r\n"), #"{"hello":"gzip"}"#),
            (post("/echo", Array("after".utf8)), "after"),
            (post("/echo", large), String(decoding: large, as: UTF8.self)),
            (Array("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n".utf8), "hello"),
        ]
    }()

    @Test func pipelinedRequestsAreAnsweredInOrderAsTheConnectionSwitchesBetweenInlineAndOffloaded() throws {
        let (server, _) = try startServer { $0.eventLoops = 1 }
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        let batch = EventLoopTests.mixedRequests.flatMap(\.request)
        DispatchQueue.global().async { client.send(batch) }  // larger than the socket buffers: sent while read
        for (_, answer) in EventLoopTests.mixedRequests {
            #expect(try client.readResponse().text == answer)
        }
    }

    @Test func keepAliveRequestsAreAnsweredAsTheConnectionSwitchesBetweenInlineAndOffloaded() throws {
        let (server, responder) = try startServer { $0.eventLoops = 1 }
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        for _ in 0..<2 {
            for (request, answer) in EventLoopTests.mixedRequests {
                DispatchQueue.global().async { client.send(request) }
                #expect(try client.readResponse().text == answer)
            }
        }
        let count = 2 * EventLoopTests.mixedRequests.count
        #expect(responder.waitForExchanges(count).count == count)
    }

    @Test func severalLoopsServeManyConnections() throws {
        let (server, _) = try startServer { $0.eventLoops = 2 }
        defer { stop(server) }
        let clients = try (0..<8).map { _ in try TestClient(port: server.port) }
        for round in 0..<3 {
            for (i, client) in clients.enumerated() { client.send(post("/echo", Array("\(round)-\(i)".utf8))) }
            for (i, client) in clients.enumerated() { #expect(try client.readResponse().text == "\(round)-\(i)") }
        }
        #expect(server.connectionCount == 8)
    }

    @Test func theDefaultNumberOfLoopsIsTheCPUsTheProcessMayRunOn() {
        let cpus = ServerConfiguration.schedulableCPUs()
        #expect(ServerConfiguration().eventLoops == cpus)
        #expect(cpus >= 1)
        #expect(cpus <= Int(sysconf(Int32(_SC_NPROCESSORS_CONF))))
    }
}
