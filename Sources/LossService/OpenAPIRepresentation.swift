import HTTP

/// The answers to `GET /openapi.yaml`: the document as it is and gzipped,
/// each with a strong `ETag` computed once from its own bytes, so a client
/// or cache can revalidate with `If-None-Match` and get a 304 (RFC 9110
/// §13.1.2, §15.4.5) instead of the whole document again.
///
/// The responder picks the gzip representation itself (when the client
/// accepts it) rather than leaving it to the server's response compression:
/// a strong validator names one exact sequence of bytes (RFC 9110 §8.8.1),
/// so the gzip bytes need a tag of their own.
struct OpenAPIRepresentation: Sendable {
    /// `Cache-Control` of every answer: any cache may keep the document five
    /// minutes, then revalidate it with its ETag.
    static let cacheControl = "public, max-age=300"

    let body: [UInt8]
    /// `"…"`: 16 hex digits of the FNV-1a 64 hash of `body`.
    let etag: String
    let gzipped: Bool

    init(body: [UInt8], gzipped: Bool) {
        self.body = body
        self.gzipped = gzipped
        etag = "\"\(OpenAPIRepresentation.fnv1a64Hex(body))\""
    }

    static let identity = OpenAPIRepresentation(body: Array(OpenAPIDocument.text.utf8), gzipped: false)
    /// Compressed at zlib's best level: once per process, for every later answer.
    static let gzip: OpenAPIRepresentation? = Deflater(level: 9).gzip(identity.body)
        .map { OpenAPIRepresentation(body: $0, gzipped: true) }

    /// The 200 (or, when `If-None-Match` names this representation, 304)
    /// answer to `head`.
    static func response(to head: RequestHead) -> Response {
        let chosen = head.headers.acceptsGzip ? (gzip ?? identity) : identity
        let notModified = head.headers.values("If-None-Match").contains { chosen.matches(ifNoneMatch: $0) }
        var response = Response(status: notModified ? .notModified : .ok, body: notModified ? [] : chosen.body)
        response.headers.add("ETag", chosen.etag)
        response.headers.add("Cache-Control", cacheControl)
        // The answer depends on Accept-Encoding. The server adds this Vary to
        // an uncompressed body of gzip size itself (the document is ~40 KiB,
        // far over --gzip-min-bytes' default of 1 KiB); a 304 or a gzip body
        // it leaves alone, so they say it here.
        if notModified || chosen.gzipped { response.headers.add("Vary", "Accept-Encoding") }
        if !notModified {
            response.headers.add("Content-Type", "application/yaml")
            if chosen.gzipped { response.headers.add("Content-Encoding", "gzip") }
        }
        return response
    }

    /// RFC 9110 §13.1.2: `If-None-Match: *` matches any current representation;
    /// otherwise a listed entity-tag matches by weak comparison (§8.8.3.2:
    /// `W/` ignored, the quoted opaque tags equal).
    func matches(ifNoneMatch value: String) -> Bool {
        for member in value.split(separator: ",") {
            var tag = member.trimming(" \t")
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag == etag { return true }
        }
        return false
    }

    /// The 64-bit FNV-1a hash of `bytes`, as 16 lowercase hex digits.
    static func fnv1a64Hex(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
