import Testing
@testable import HTTP

@Suite struct GzipTests {
    /// `{"hello":"gzip"}` as Python's `gzip.compress(..., mtime=0)` wrote it:
    /// bytes from an independent encoder.
    static let pythonGzip: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0xca, 0x48, 0xcd, 0xc9,
        0xc9, 0x57, 0xb2, 0x52, 0x4a, 0xaf, 0xca, 0x2c, 0x50, 0xaa, 0x05, 0x00, 0xf6, 0x4f, 0x05, 0x6f,
        0x10, 0x00, 0x00, 0x00,
    ]

    /// Inflates `bytes` whole (for tests), feeding the decoder `step` bytes at a time.
    static func inflate(_ bytes: [UInt8], limit: Int = 1 << 30, step: Int = 7) throws -> [UInt8] {
        let inflater = Inflater(limit: limit)
        var out: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            let slice = Array(bytes[offset..<end])
            _ = try slice.withUnsafeBytes { input in
                try inflater.decode(input) { piece in
                    out += piece
                    return true
                }
            }
            offset = end
        }
        try inflater.finish()
        return out
    }

    @Test(arguments: [1, 5, 36])
    func inflatesAnIndependentlyMadeStreamFedInAnyPieces(_ step: Int) throws {
        #expect(try GzipTests.inflate(GzipTests.pythonGzip, step: step) == Array(#"{"hello":"gzip"}"#.utf8))
    }

    @Test func inflatesConcatenatedMembers() throws {
        let twice = GzipTests.pythonGzip + GzipTests.pythonGzip
        #expect(try GzipTests.inflate(twice) == Array(#"{"hello":"gzip"}{"hello":"gzip"}"#.utf8))
    }

    @Test func aTruncatedStreamIsABadRequest() {
        #expect(throws: HTTPError(status: .badRequest, detail: "the gzip request body is truncated")) {
            try GzipTests.inflate(Array(GzipTests.pythonGzip.dropLast(3)))
        }
    }

    @Test func trailingGarbageIsABadRequest() throws {
        do {
            _ = try GzipTests.inflate(GzipTests.pythonGzip + [0x41, 0x42, 0x43])
            Issue.record("garbage accepted")
        } catch let error as HTTPError {
            #expect(error.status == .badRequest)
        }
    }

    @Test func aBombStopsAtTheLimitWithoutInflatingWhole() throws {
        let bomb = try #require(Deflater(level: 9).gzip([UInt8](repeating: 0, count: 50_000_000)))
        let inflater = Inflater(limit: 1_000_000)
        var delivered = 0
        do {
            _ = try bomb.withUnsafeBytes { input in
                try inflater.decode(input) { piece in
                    delivered += piece.count
                    return true
                }
            }
            Issue.record("bomb accepted")
        } catch let error as HTTPError {
            #expect(error.status == .contentTooLarge)
        }
        #expect(delivered <= 1_000_000)
        #expect(inflater.decodedBytes < 1_100_000)
    }

    @Test func deflateRoundTripsAndShrinksRepetitiveJSON() throws {
        let json = Array(String(repeating: #"{"loss":0.125},"#, count: 500).utf8)
        let compressed = try #require(Deflater(level: 5).gzip(json))
        #expect(compressed.count < json.count / 10)
        #expect(Array(compressed.prefix(2)) == [0x1f, 0x8b])  // RFC 1952 §2.3.1 magic
        #expect(try GzipTests.inflate(compressed) == json)
    }

    @Test func oneDeflaterServesManyBodies() throws {
        let deflater = Deflater(level: 1)
        for text in ["first body", "second, longer body", ""] {
            let compressed = try #require(deflater.gzip(Array(text.utf8)))
            #expect(try GzipTests.inflate(compressed) == Array(text.utf8))
        }
    }
}
