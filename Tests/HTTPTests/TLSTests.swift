#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Testing
import TestSupport
import COpenSSL
@testable import HTTP

/// The test certificate and keys (see Fixtures/README.md).
enum TLSFixtures {
    static let directory: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        return parts.joined(separator: "/") + "/Fixtures/"
    }()
    static let certificate = directory + "localhost-cert.pem"
    static let key = directory + "localhost-key.pem"
    static let otherKey = directory + "other-key.pem"
    /// A second pair, for certificate reloads: subject `/CN=rotated.localhost`.
    static let rotatedCertificate = directory + "rotated-cert.pem"
    static let rotatedKey = directory + "rotated-key.pem"
    static let subject = "/CN=localhost"
    static let rotatedSubject = "/CN=rotated.localhost"
    static let configuration = TLSConfiguration(certificateChainPath: certificate, privateKeyPath: key)
}

/// A test server speaking TLS with the fixture certificate.
func startTLSServer(clock: SystemClock = SystemClock(), _ adjust: (inout ServerConfiguration) -> Void = { _ in })
    throws -> (Server, TestResponder) {
    try startServer(clock: clock) { configuration in
        configuration.tls = TLSFixtures.configuration
        adjust(&configuration)
    }
}

/// A certificate and key at paths a test may overwrite, as Kubernetes
/// rewrites a mounted secret: a fresh directory holding copies of the fixture pair.
final class RotatableTLSFiles {
    let directory: String
    var configuration: TLSConfiguration {
        TLSConfiguration(certificateChainPath: directory + "/cert.pem", privateKeyPath: directory + "/key.pem")
    }

    init() throws {
        var template = Array("/tmp/lossd-tls-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestClientError.connect("mkdtemp failed") }
        directory = String(cString: made)
        try install(certificate: TLSFixtures.certificate, key: TLSFixtures.key)
    }

    deinit {
        unlink(directory + "/cert.pem")
        unlink(directory + "/key.pem")
        rmdir(directory)
    }

    /// Copies these files over the served ones (each replaced whole, by a rename).
    func install(certificate: String, key: String) throws {
        try copy(certificate, to: directory + "/cert.pem")
        try copy(key, to: directory + "/key.pem")
    }

    private func copy(_ source: String, to destination: String) throws {
        guard let input = fopen(source, "rb") else { throw TestClientError.connect("cannot open \(source)") }
        defer { fclose(input) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, input)
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        let temporary = destination + ".new"
        guard let output = fopen(temporary, "wb") else { throw TestClientError.connect("cannot write \(temporary)") }
        fwrite(bytes, 1, bytes.count, output)
        fclose(output)
        rename(temporary, destination)
    }
}

@Suite struct TLSTests {
    @Test func aGetOverTLSIsAnsweredAndALPNChoosesHTTP11() throws {
        let (server, _) = try startTLSServer()
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        #expect(try client.startTLS() == "http/1.1")
        client.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "hello")
    }

    @Test func aPostBodyOverTLSIsEchoedAndCountedInHTTPBytesNotTLSRecords() throws {
        let (server, responder) = try startTLSServer()
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        try client.startTLS()
        let body = Array(#"{"input":[[1.5,2.5]],"target":[1]}"#.utf8)
        client.send(post("/echo", body))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.body == body)
        let exchanges = responder.waitForExchanges(1)
        #expect(exchanges.first?.requestBodyBytes == body.count)
    }

    @Test func aLargeBodyAndItsLargeEchoCrossManyRecordsAndAFullSocket() throws {
        let (server, _) = try startTLSServer()
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        try client.startTLS()
        let body = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        client.send(post("/echo", body))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.body.count == body.count)
        #expect(response.body == body)
    }

    @Test func twoRequestsShareOneTLSConnectionOneAfterTheOtherAndPipelined() throws {
        let (server, responder) = try startTLSServer()
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        try client.startTLS()
        client.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try client.readResponse().text == "hello")
        client.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try client.readResponse().text == "hello")
        client.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\nGET /big HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n")
        #expect(try client.readResponse().text == "hello")
        let big = try client.readResponse()
        #expect(big.status == 200)
        #expect(big.header("Content-Encoding") == "gzip")
        #expect(responder.waitForExchanges(4).count == 4)
        #expect(server.connectionCount == 1)
    }

    @Test func aClosingResponseEndsTheTLSStreamWithCloseNotify() throws {
        let (server, _) = try startTLSServer()
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        try client.startTLS()
        client.send("GET /close HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.text == "bye")
        #expect(client.readEnd() == 0)
    }

    @Test func aClientLimitedToTLS11IsRefusedAndTLS12IsAccepted() throws {
        let (server, _) = try startTLSServer()
        defer { stop(server) }
        let old = try TestClient(port: server.port)
        #expect(throws: TestClientError.self) { try old.startTLS(maximumVersion: TLS1_1_VERSION) }
        let current = try TestClient(port: server.port)
        try current.startTLS(maximumVersion: TLS1_2_VERSION)
        current.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try current.readResponse().text == "hello")
    }

    @Test func aDrainFinishesAnInFlightTLSRequestWithConnectionClose() throws {
        let (server, responder) = try startTLSServer()
        let busy = try TestClient(port: server.port)
        try busy.startTLS()
        busy.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 8\r\n\r\nhalf")
        responder.waitForRequests(1)
        let drained = DispatchSemaphore(value: 0)
        server.drain(deadline: 5) { drained.signal() }
        // Without an accept grace the connections learn of the drain once the listener is closed;
        // a body finished before that is answered keep-alive (and closed after the idle grace).
        let refusedBy = DispatchTime.now() + 2
        while DispatchTime.now() < refusedBy, (try? TestClient(port: server.port)) != nil { usleep(10_000) }
        busy.send("done")
        let response = try busy.readResponse()
        #expect(response.text == "halfdone")
        #expect(response.header("Connection") == "close")
        #expect(busy.readEnd() == 0)
        #expect(drained.wait(timeout: .now() + 3) == .success)
    }

    static let unfinished: [(String, [UInt8])] = [("nothing at all", []), ("half a record header", [0x16, 0x03])]

    @Test(arguments: TLSTests.unfinished)
    func aHandshakeThatDoesNotFinishWithinTheHeadTimeoutIsClosed(_ name: String, _ bytes: [UInt8]) throws {
        // On the server's clock, moved by hand; a TLS connection runs on its queue, so each sweep's
        // effect is awaited by reading the connection's phase there.
        let offset = ClockOffset()
        let (server, _) = try startTLSServer(clock: SystemClock(offset: offset)) {
            $0.limits.headTimeout = 30
            $0.limits.idleTimeout = 60
        }
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        if !bytes.isEmpty { client.send(bytes) }
        #expect(eventually { started(server, count: 1) })
        offset.advance(29)
        sweepNow(server)
        #expect(server.openConnections.map(\.phase) == [.idle])  // still open, waiting for the handshake
        #expect(!hasSomethingToRead(client))
        offset.advance(1)
        sweepNow(server)
        #expect(client.isClosedWithoutResponse())
    }

    static let garbage: [(String, [UInt8])] = [
        ("binary garbage", [0x00, 0xFF, 0x13, 0x37, 0x0D, 0x0A] + [UInt8](repeating: 0xAA, count: 64)),
        ("a handshake record of garbage", [0x16, 0x03, 0x01, 0x00, 0x20] + [UInt8](repeating: 0x41, count: 32)),
        ("a record header claiming 64 KiB", [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 100)),
        ("lower-case text", Array("hello there\r\n\r\n".utf8)),
    ]

    @Test(arguments: TLSTests.garbage)
    func garbageInsteadOfAClientHelloIsClosedAtOnce(_ name: String, _ bytes: [UInt8]) throws {
        let (server, responder) = try startTLSServer { $0.limits.headTimeout = 5 }
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        client.send(bytes)
        var closed = false
        let seconds = elapsed {
            // Whatever OpenSSL says before closing (an alert record) is not an HTTP response.
            var byte: UInt8 = 0
            var n = 0
            repeat { n = recv(client.fd, &byte, 1, 0) } while n > 0
            // errno only when recv failed: after an orderly close (0) it is whatever an earlier call left.
            closed = n == 0 || errno != EAGAIN
        }
        #expect(closed)
        #expect(seconds < 2)
        #expect(responder.responded.withLock { $0 } == 0)
        // And the server still serves TLS.
        let next = try TestClient(port: server.port)
        try next.startTLS()
        next.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try next.readResponse().status == 200)
    }

    @Test func aPlainHTTPRequestOnTheTLSPortGetsA400InClearAndIsClosed() throws {
        let (server, responder) = try startTLSServer()
        defer { stop(server) }
        let client = try TestClient(port: server.port)
        client.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 400)
        #expect(response.header("Connection") == "close")
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.text.contains("https://"))
        #expect(client.readEnd() == 0)
        #expect(responder.responded.withLock { $0 } == 0)  // never routed
    }

    static let badFiles: [(String, String, String, String)] = [
        ("a missing certificate", "/nonexistent/cert.pem", TLSFixtures.key,
         "cannot read the TLS certificate chain /nonexistent/cert.pem: No such file or directory"),
        ("a missing key", TLSFixtures.certificate, "/nonexistent/key.pem",
         "cannot read the TLS private key /nonexistent/key.pem: No such file or directory"),
        ("a key for another certificate", TLSFixtures.certificate, TLSFixtures.otherKey,
         "the TLS private key \(TLSFixtures.otherKey) does not match the certificate \(TLSFixtures.certificate)"),
        ("a key where the certificate belongs", TLSFixtures.key, TLSFixtures.key,
         "the TLS certificate chain \(TLSFixtures.key) is not a PEM certificate"),
        ("a certificate where the key belongs", TLSFixtures.certificate, TLSFixtures.certificate,
         "the TLS private key \(TLSFixtures.certificate) is not an unencrypted PEM private key"),
    ]

    @Test(arguments: TLSTests.badFiles)
    func aBadCertificateOrKeyStopsStartWithAMessageNamingTheFile(_ name: String, _ certificate: String, _ key: String,
                                                                   _ message: String) throws {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.tls = TLSConfiguration(certificateChainPath: certificate, privateKeyPath: key)
        let server = Server(configuration: configuration, responder: TestResponder())
        do {
            try server.start()
            Issue.record("started with \(name)")
            stop(server)
        } catch {
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
        #expect(server.port == 0)  // nothing was bound
    }

    // MARK: - Certificate reload (SIGHUP in lossd)

    @Test func aReloadServesNewConnectionsTheNewCertificateWhileAnOpenConnectionKeepsWorking() throws {
        let files = try RotatableTLSFiles()
        let (server, _) = try startServer { $0.tls = files.configuration }
        defer { stop(server) }
        let before = try TestClient(port: server.port)
        try before.startTLS()
        before.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try before.readResponse().text == "hello")
        #expect(before.peerCertificateSubject == TLSFixtures.subject)

        try files.install(certificate: TLSFixtures.rotatedCertificate, key: TLSFixtures.rotatedKey)
        let description = try server.reloadTLS()
        #expect(description.hasPrefix(TLSFixtures.rotatedSubject + ", valid until "), "\(description)")

        let after = try TestClient(port: server.port)
        try after.startTLS()
        #expect(after.peerCertificateSubject == TLSFixtures.rotatedSubject)
        after.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try after.readResponse().text == "hello")
        // The connection from before the reload was not dropped, and still speaks its old session.
        before.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try before.readResponse().text == "hello")
        #expect(before.peerCertificateSubject == TLSFixtures.subject)
        #expect(server.connectionCount == 2)
    }

    @Test func aReloadWithAKeyForAnotherCertificateIsRefusedAndTheOldCertificateStaysInService() throws {
        let files = try RotatableTLSFiles()
        let (server, _) = try startServer { $0.tls = files.configuration }
        defer { stop(server) }
        // Half a rotation: the new certificate is there, its key not yet.
        try files.install(certificate: TLSFixtures.rotatedCertificate, key: TLSFixtures.key)
        do {
            try server.reloadTLS()
            Issue.record("reloaded a certificate with another certificate's key")
        } catch {
            #expect(error.message == "the TLS private key \(files.configuration.privateKeyPath) does not match the certificate \(files.configuration.certificateChainPath)",
                    "\(error.message)")
        }
        let client = try TestClient(port: server.port)
        try client.startTLS()
        #expect(client.peerCertificateSubject == TLSFixtures.subject)
        client.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try client.readResponse().text == "hello")

        // Once the key arrives too, the next reload takes the pair.
        try files.install(certificate: TLSFixtures.rotatedCertificate, key: TLSFixtures.rotatedKey)
        try server.reloadTLS()
        let next = try TestClient(port: server.port)
        try next.startTLS()
        #expect(next.peerCertificateSubject == TLSFixtures.rotatedSubject)
    }

    @Test func aReloadOfAMissingCertificateIsRefusedWithTheFileNamed() throws {
        let files = try RotatableTLSFiles()
        let (server, _) = try startServer { $0.tls = files.configuration }
        defer { stop(server) }
        unlink(files.configuration.certificateChainPath)
        let error = #expect(throws: ServerError.self) { try server.reloadTLS() }
        #expect(error?.message == "cannot read the TLS certificate chain \(files.configuration.certificateChainPath): No such file or directory")
        let client = try TestClient(port: server.port)
        try client.startTLS()
        #expect(client.peerCertificateSubject == TLSFixtures.subject)
    }

    @Test func aReloadOnAPlainHTTPServerSaysThereIsNothingToReload() throws {
        let (server, _) = try startServer()
        defer { stop(server) }
        let error = #expect(throws: ServerError.self) { try server.reloadTLS() }
        #expect(error?.message == "this server serves plain HTTP: there is no TLS certificate to reload")
    }
}
