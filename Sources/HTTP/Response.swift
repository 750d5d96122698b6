/// A response a responder hands the server. The server adds `Date`,
/// `Content-Length` and `Connection`, compresses the body when the client
/// accepts gzip and it gains, and leaves the body out for HEAD.
public struct Response: Sendable {
    public var status: Status
    public var headers: Headers
    public var body: [UInt8]

    public init(status: Status, headers: Headers = Headers(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
