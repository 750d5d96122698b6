/// Turns a final response to one request into what goes on the wire: the
/// serialised head (with `Content-Length`, `Connection`, and `Content-Encoding`
/// / `Vary` when the body is gzipped) and the body, compressed when the client
/// accepts gzip and it gains, empty for HEAD, 204 and 304. Also decides
/// whether the connection closes after it. Pure: no I/O.
///
/// One per connection, stored inline on it: the head buffer and the zlib
/// state are reused for every response, so a steady keep-alive connection
/// allocates nothing here after its first response (gzip aside).
struct ResponseEncoder {
    private var writer = ResponseWriter()
    /// Created on the first response worth compressing.
    private var deflater: Deflater?
    /// `ServerConfiguration.gzipMinimumBytes`: smaller bodies are sent as they are.
    private let gzipMinimumBytes: Int
    /// `ServerConfiguration.gzipLevel`.
    private let gzipLevel: Int

    init(gzipMinimumBytes: Int, gzipLevel: Int) {
        self.gzipMinimumBytes = gzipMinimumBytes
        self.gzipLevel = gzipLevel
    }

    /// The head serialised by the last `encode`; overwritten by the next.
    var head: [UInt8] { writer.head }

    /// Serialises `response` to `request` (nil: a request whose head never
    /// parsed) into `head`, and returns the body to send after it and
    /// whether the connection closes after it: when `close` (the
    /// connection's own reasons: an error, a drain), when there is no
    /// request head, when the request does not keep the connection alive
    /// (RFC 9112 §9.3), or when the response says `Connection: close`.
    mutating func encode(_ response: Response, for request: RequestHead?, close: Bool)
        -> (body: [UInt8], closes: Bool) {
        let code = response.status.code
        let hasBody = code != 204 && code != 304
        var body = hasBody ? response.body : []
        var gzipped = false
        var vary = false
        if hasBody && body.count >= gzipMinimumBytes && !response.headers.contains("Content-Encoding") {
            vary = true  // the representation depends on Accept-Encoding whatever this client sent
            if let request, ResponseWriter.acceptsGzip(request.headers) {
                if deflater == nil { deflater = Deflater(level: gzipLevel) }
                if let compressed = deflater!.gzip(body), compressed.count < body.count {
                    body = compressed
                    gzipped = true
                }
            }
        }

        var closing = close || request == nil || !ResponseEncoder.keepsAlive(request!)
        if let value = response.headers["Connection"], value.lowercased().contains("close") { closing = true }
        let persistence: ResponseWriter.Persistence =
            closing ? .close : (request!.version == .http1_0 ? .keepAliveHTTP10 : .keepAlive)
        writer.serialise(response, contentLength: hasBody ? body.count : nil, persistence: persistence,
                         gzipped: gzipped, vary: vary)
        if request?.method == .head { body = [] }  // RFC 9110 §9.3.2: the GET response's head, no content
        return (body, closing)
    }

    /// `RequestHead.keepAlive` (RFC 9112 §9.3), without its allocations when
    /// the request has no Connection field, which is the common case.
    static func keepsAlive(_ head: RequestHead) -> Bool {
        for field in head.headers where Headers.equalsIgnoringCase(field.name, "Connection") {
            return head.keepAlive
        }
        return head.version == .http1_1
    }
}
