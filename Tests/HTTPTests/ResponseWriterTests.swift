import Testing
@testable import HTTP

@Suite struct ResponseWriterTests {
    @Test func serialisesStatusServerFieldsAndResponderFieldsInOrder() {
        var writer = ResponseWriter()
        let response = Response(status: .ok, headers: ["Content-Type": "application/json", "Content-Length": "99"])
        writer.serialise(response, contentLength: 12, persistence: .keepAliveHTTP10, gzipped: true, vary: true)
        let text = String(decoding: writer.head, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "HTTP/1.1 200 OK")
        #expect(lines[1].hasPrefix("Date: ") && lines[1].count == 35)
        #expect(Array(lines[2...]) == ["Content-Length: 12", "Connection: keep-alive", "Content-Encoding: gzip",
                                       "Vary: Accept-Encoding", "Content-Type: application/json", "", ""])
    }

    @Test(arguments: [(0, "0"), (7, "7"), (10, "10"), (1234567, "1234567")])
    func writesContentLengthInDecimal(_ length: Int, _ text: String) {
        var writer = ResponseWriter()
        writer.serialise(Response(status: .ok), contentLength: length, persistence: .close, gzipped: false, vary: false)
        let head = String(decoding: writer.head, as: UTF8.self)
        #expect(head.contains("\r\nContent-Length: \(text)\r\nConnection: close\r\n\r\n"))
    }

    @Test func formatsTheRFCExampleDate() {
        // RFC 9110 §5.6.7's example: 784111777 seconds after the epoch.
        #expect(String(decoding: HTTPDate.format(784_111_777), as: UTF8.self) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test(arguments: [
        ("gzip", true), ("GZIP", true), ("x-gzip", true), ("deflate, gzip;q=0.5", true), ("gzip;q=0", false),
        ("gzip; q=0.000", false), ("gzip;q=0.001", true), ("*", true), ("*;q=0", false), ("identity", false),
        ("br", false), ("*, gzip;q=0", false), ("", false),
    ])
    func acceptsGzipFollowsWeights(_ value: String, _ expected: Bool) {
        #expect(ResponseWriter.acceptsGzip(["Accept-Encoding": value]) == expected)
    }

    @Test(arguments: [
        ("X-Trace", true), ("a!#$%&'*+-.^_`|~9", true), ("", false), ("X Trace", false), ("X:Trace", false),
        ("X\r\nY", false), ("Ä", false),
    ])
    func fieldNamesMustBeTokens(_ name: String, _ valid: Bool) {
        #expect(ResponseWriter.isToken(name) == valid)
    }

    @Test(arguments: [
        ("text/plain; charset=utf-8", true), ("a\tb", true), ("é", true), ("a\r\nb", false), ("a\nb", false),
        ("a\0b", false), ("a\u{7F}", false),
    ])
    func fieldValuesMayNotHoldControlCharacters(_ value: String, _ valid: Bool) {
        #expect(ResponseWriter.isFieldValue(value) == valid)
    }

    @Test func aResponseWithAnInformationalStatusIsRefused() {
        #expect(ResponseWriter.problem(in: Response(status: .continue)) != nil)
        #expect(ResponseWriter.problem(in: Response(status: .ok)) == nil)
    }
}
