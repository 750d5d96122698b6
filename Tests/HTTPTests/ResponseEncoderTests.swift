import Testing
@testable import HTTP

/// The response encoder: head, body, gzip and whether the connection closes after a response.
@Suite struct ResponseEncoderTests {
    static func request(_ method: Method = .get, version: Version = .http1_1,
                        fields: [(String, String)] = []) -> RequestHead {
        var headers = Headers()
        for (name, value) in fields { headers.add(name, value) }
        return RequestHead(method: method, target: "/x", version: version, headers: headers)
    }

    static func fields(_ encoder: ResponseEncoder) -> [String] {
        String(decoding: encoder.head, as: UTF8.self).split(separator: "\r\n").map(String.init)
            .filter { !$0.hasPrefix("Date: ") }
    }

    static let large = [UInt8](String(repeating: "compressible ", count: 200).utf8)

    @Test func aKeepAliveResponseHasItsLengthAndNoConnectionField() {
        var encoder = ResponseEncoder(gzipMinimumBytes: 1024, gzipLevel: 5)
        let (body, closes) = encoder.encode(Response(status: .ok, body: Array("hello".utf8)), for: ResponseEncoderTests.request(), close: false)
        #expect(body == Array("hello".utf8))
        #expect(!closes)
        #expect(ResponseEncoderTests.fields(encoder) == ["HTTP/1.1 200 OK", "Content-Length: 5"])
    }

    @Test func aLargeBodyIsGzippedForAClientThatAcceptsIt() {
        var encoder = ResponseEncoder(gzipMinimumBytes: 1024, gzipLevel: 5)
        let request = ResponseEncoderTests.request(fields: [("Accept-Encoding", "gzip")])
        let (body, _) = encoder.encode(Response(status: .ok, body: ResponseEncoderTests.large), for: request, close: false)
        #expect(body.count < ResponseEncoderTests.large.count)
        #expect(Array(body.prefix(2)) == [0x1f, 0x8b])
        #expect(ResponseEncoderTests.fields(encoder) == ["HTTP/1.1 200 OK", "Content-Length: \(body.count)",
                                                         "Content-Encoding: gzip", "Vary: Accept-Encoding"])
    }

    @Test func aLargeBodyVariesOnAcceptEncodingEvenWhenNotGzipped() {
        var encoder = ResponseEncoder(gzipMinimumBytes: 1024, gzipLevel: 5)
        let (body, _) = encoder.encode(Response(status: .ok, body: ResponseEncoderTests.large),
                                       for: ResponseEncoderTests.request(), close: false)
        #expect(body == ResponseEncoderTests.large)
        #expect(ResponseEncoderTests.fields(encoder).contains("Vary: Accept-Encoding"))
        #expect(!ResponseEncoderTests.fields(encoder).contains("Content-Encoding: gzip"))
    }

    @Test func aBodyBelowTheMinimumOrAlreadyCodedIsSentAsItIs() {
        var encoder = ResponseEncoder(gzipMinimumBytes: 1024, gzipLevel: 5)
        let request = ResponseEncoderTests.request(fields: [("Accept-Encoding", "gzip")])
        let small = [UInt8](repeating: 0x61, count: 1023)
        #expect(encoder.encode(Response(status: .ok, body: small), for: request, close: false).body == small)
        #expect(!ResponseEncoderTests.fields(encoder).contains("Vary: Accept-Encoding"))
        let coded = Response(status: .ok, headers: ["Content-Encoding": "br"], body: ResponseEncoderTests.large)
        #expect(encoder.encode(coded, for: request, close: false).body == ResponseEncoderTests.large)
    }

    @Test func headGetsTheGetResponsesLengthWithoutItsBody() {
        // RFC 9110 §9.3.2.
        var encoder = ResponseEncoder(gzipMinimumBytes: 1024, gzipLevel: 5)
        let (body, _) = encoder.encode(Response(status: .ok, body: Array("hello".utf8)), for: ResponseEncoderTests.request(.head), close: false)
        #expect(body.isEmpty)
        #expect(ResponseEncoderTests.fields(encoder).contains("Content-Length: 5"))
    }

    @Test(arguments: [(204, "No Content"), (304, "Not Modified")])
    func noContentAndNotModifiedHaveNeitherBodyNorLength(_ code: Int, _ reason: String) {
        var encoder = ResponseEncoder(gzipMinimumBytes: 1024, gzipLevel: 5)
        let response = Response(status: Status(code: code, reasonPhrase: reason), body: Array("x".utf8))
        let (body, _) = encoder.encode(response, for: ResponseEncoderTests.request(), close: false)
        #expect(body.isEmpty)
        #expect(ResponseEncoderTests.fields(encoder) == ["HTTP/1.1 \(code) \(reason)"])
    }

    @Test func http10KeepAliveIsWrittenOut() {
        var encoder = ResponseEncoder(gzipMinimumBytes: 1024, gzipLevel: 5)
        let request = ResponseEncoderTests.request(version: .http1_0, fields: [("Connection", "keep-alive")])
        #expect(!encoder.encode(Response(status: .ok), for: request, close: false).closes)
        #expect(ResponseEncoderTests.fields(encoder).contains("Connection: keep-alive"))
    }

    @Test func theConnectionClosesForTheServerTheClientTheResponseOrAnUnparsedRequest() {
        var encoder = ResponseEncoder(gzipMinimumBytes: 1024, gzipLevel: 5)
        let cases: [(Response, RequestHead?, Bool)] = [
            (Response(status: .ok), ResponseEncoderTests.request(), true),
            (Response(status: .ok), ResponseEncoderTests.request(fields: [("Connection", "close")]), false),
            (Response(status: .ok), ResponseEncoderTests.request(version: .http1_0), false),
            (Response(status: .ok, headers: ["Connection": "Close"]), ResponseEncoderTests.request(), false),
            (Response(status: .badRequest), nil, false),
        ]
        for (response, request, close) in cases {
            #expect(encoder.encode(response, for: request, close: close).closes)
            #expect(ResponseEncoderTests.fields(encoder).contains("Connection: close"))
        }
    }

    @Test func theKeepAliveRuleNeedsNoAllocationWithoutAConnectionField() {
        #expect(ResponseEncoder.keepsAlive(ResponseEncoderTests.request()))
        #expect(!ResponseEncoder.keepsAlive(ResponseEncoderTests.request(version: .http1_0)))
        #expect(ResponseEncoder.keepsAlive(ResponseEncoderTests.request(version: .http1_0, fields: [("connection", "Keep-Alive")])))
        #expect(!ResponseEncoder.keepsAlive(ResponseEncoderTests.request(fields: [("Connection", "te, close")])))
    }
}
