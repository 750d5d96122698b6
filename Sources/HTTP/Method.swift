/// A request method the server knows: those of RFC 9110 §9, PATCH (RFC 5789)
/// and QUERY (the safe method with a body, draft-ietf-httpbis-safe-method-w-body).
/// A known method on a known path that does not answer it is a 405 with
/// `Allow`, which is what clients and API testers expect; any other token is
/// answered with 501 Not Implemented before it reaches a responder.
public enum Method: String, Sendable, Hashable, CaseIterable {
    case get = "GET"
    case head = "HEAD"
    case post = "POST"
    case put = "PUT"
    case delete = "DELETE"
    case connect = "CONNECT"
    case options = "OPTIONS"
    case trace = "TRACE"
    case patch = "PATCH"
    case query = "QUERY"
}
