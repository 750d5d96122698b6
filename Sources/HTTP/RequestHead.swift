/// A parsed request line and header section (RFC 9112 §3, §5).
public struct RequestHead: Sendable {
    /// The request method.
    public var method: Method
    /// The request-target as sent, e.g. `/loss/ce?verbose=1`.
    public var target: String
    /// The request-target's path, without query: `/loss/ce`.
    public var path: String
    /// The protocol version.
    public var version: Version
    /// The header fields, in order.
    public var headers: Headers

    public init(method: Method, target: String, version: Version, headers: Headers) {
        self.method = method
        self.target = target
        if let q = target.firstIndex(of: "?") {
            self.path = String(target[..<q])
        } else {
            self.path = target
        }
        self.version = version
        self.headers = headers
    }

    /// A head whose path the caller has already cut from the target (the
    /// request parser does, from the bytes, and takes it from an absolute-form
    /// target's path).
    init(method: Method, target: String, path: String, version: Version, headers: Headers) {
        self.method = method
        self.target = target
        self.path = path
        self.version = version
        self.headers = headers
    }

    /// Whether the connection stays open after this request (RFC 9112 §9.3):
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        let tokens = headers.values("Connection").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingASCIISpaces().lowercased() }
        switch version {
        case .http1_1: return !tokens.contains("close")
        case .http1_0: return tokens.contains("keep-alive")
        }
    }
}

extension RequestHead: Equatable {}

extension Substring {
    func trimmingASCIISpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
