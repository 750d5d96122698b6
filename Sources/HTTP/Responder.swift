/// The application behind a server: it answers each request.
///
/// Every method is called on the request's connection queue; a connection's
/// requests are handled one at a time, in order, and the server reads no more
/// of that connection while a response is pending (backpressure).
public protocol Responder: Sendable {
    /// Called once a request head is complete and its framing checked. Answer
    /// at once with `.response` (the body, if any, is then not read: with
    /// `Expect: 100-continue` no `100 Continue` is sent) or ask for the body
    /// with `.body`, whose handler receives it decoded (de-chunked, gunzipped).
    func respond(to head: RequestHead) -> Reply

    /// Called for every response just before it is written, including those
    /// the server makes itself (400, 408, 413, 431, …), so the application can
    /// add headers such as CORS's. `head` is nil when no request head was parsed.
    func prepare(_ response: inout Response, for head: RequestHead?)

    /// Called once each response has been written or the connection failed
    /// while writing it: for metrics and access logs. Also called once, with
    /// status 499 (nginx's "Client Closed Request"), for a request passed to
    /// `respond(to:)` whose client went away before its response could be
    /// written, so that every `respond(to:)` is matched by one `completed(_:)`.
    func completed(_ exchange: Exchange)
}

/// A responder's answer to a request head.
public enum Reply {
    /// Answer now without reading the body.
    case response(Response)
    /// Read the body into this handler, then answer with what it returns.
    case body(any BodyHandler)
}

/// Receives one request's body, in order, on the connection's queue.
public protocol BodyHandler: AnyObject {
    /// The next piece of the decoded body. The bytes are valid only during the
    /// call. Return a response to stop early (say, malformed JSON): the server
    /// sends it, then discards the rest of the body or closes the connection.
    func consume(_ bytes: UnsafeRawBufferPointer) -> Response?
    /// The body is complete: the response to send.
    func finish() -> Response
}

/// What happened to one request, reported to `Responder.completed(_:)`.
public struct Exchange: Sendable {
    /// The request head, or nil when the server rejected the bytes before a
    /// head was complete (the route label is then `unmatched`).
    public var head: RequestHead?
    /// True when `Responder.respond(to:)` was called for this request.
    public var wasRouted: Bool
    /// The status sent.
    public var status: Status
    /// Request body bytes as they crossed the wire (compressed, chunk framing excluded).
    public var requestBodyBytes: Int
    /// Response body bytes as they crossed the wire (compressed where gzip was used).
    public var responseBodyBytes: Int
    /// Seconds from the request's first byte to the response's last byte written.
    public var duration: Double

    public init(head: RequestHead?, wasRouted: Bool, status: Status, requestBodyBytes: Int,
                responseBodyBytes: Int, duration: Double) {
        self.head = head
        self.wasRouted = wasRouted
        self.status = status
        self.requestBodyBytes = requestBodyBytes
        self.responseBodyBytes = responseBodyBytes
        self.duration = duration
    }
}
