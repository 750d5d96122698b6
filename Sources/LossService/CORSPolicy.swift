import HTTP

/// Which browser origins may call the service (contract rule 14). By default
/// any origin (`Access-Control-Allow-Origin: *`); with an allow-list, a
/// matching `Origin` is echoed back with `Vary: Origin` so that caches keep
/// one answer per origin.
public struct CORSPolicy: Sendable, Equatable {
    /// The origins allowed: any, or an exact allow-list (`https://dash.example`).
    public enum Origins: Sendable, Equatable {
        case any
        case list(Set<String>)
    }

    /// Headers a browser may send on a cross-origin request: the two a loss POST uses.
    public static let allowedHeaders = "Content-Type, Content-Encoding"
    /// Seconds a browser may cache a preflight answer. 7200 is the most Chromium honours.
    public static let maxAgeSeconds = 7200

    public let origins: Origins

    public init(origins: Origins = .any) {
        self.origins = origins
    }

    /// A policy from the `--cors-origins` setting: `*` (the default) or a
    /// comma-separated allow-list. An entry `*` anywhere in the list allows any origin.
    public init(setting: String) {
        // A browser's Origin never ends in "/", so "https://a.example/" in the
        // setting would never match: drop the slash rather than refuse silently.
        let entries = setting.split(separator: ",").map { entry -> String in
            var origin = entry.trimming(" \t")
            while origin.count > 1, origin.last == "/" { origin = origin.dropLast() }
            return String(origin)
        }.filter { !$0.isEmpty }
        if entries.isEmpty || entries.contains("*") {
            origins = .any
        } else {
            origins = .list(Set(entries))
        }
    }

    /// Why `setting` is not a valid `--cors-origins` value, or nil when it is:
    /// each entry must be `*` or an origin as a browser sends it in `Origin`
    /// (RFC 6454 §6.1: `scheme://host` or `scheme://host:port`, lowercase,
    /// no path, query or credentials). An entry such as `foo` or
    /// `dash.example` could never match, so it is refused rather than
    /// silently allowing nobody.
    public static func problem(inSetting setting: String) -> String? {
        for entry in setting.split(separator: ",") {
            var origin = entry.trimming(" \t")
            while origin.count > 1, origin.last == "/" { origin = origin.dropLast() }
            if origin.isEmpty || origin == "*" { continue }
            if let reason = CORSPolicy.originProblem(origin) {
                return "'\(origin)' is not * or an origin such as https://dash.example or http://localhost:3000: \(reason)"
            }
        }
        return nil
    }

    /// Why `origin` is not `scheme://host[:port]` (RFC 6454 §6.1, RFC 3986 §3.1-3.2), or nil.
    private static func originProblem(_ origin: Substring) -> String? {
        guard let separator = origin.firstRange(of: "://") else { return "it has no scheme:// (RFC 6454 §6.1)" }
        let scheme = origin[..<separator.lowerBound]
        // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); browsers send it lowercase.
        guard let first = scheme.first, first.isASCII, first.isLowercase,
              scheme.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "+-.".contains($0)) }) else {
            return "the scheme must be lowercase letters, digits, +, - or . (RFC 3986 §3.1)"
        }
        var authority = origin[separator.upperBound...]
        if let bad = authority.first(where: { "/?#@ \t".contains($0) }) {
            return "an origin has no path, query, fragment or credentials (found '\(bad)')"
        }
        // A port, unless the colon is inside an IPv6 literal ([::1]).
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            let port = authority[authority.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let number = Int(port), (1...65535).contains(number) else {
                return "the port must be a number in 1...65535"
            }
            authority = authority[..<colon]
        }
        guard !authority.isEmpty else { return "the host is empty" }
        guard !authority.contains(where: { $0.isUppercase }) else {
            return "browsers send the host in lowercase, so this would never match"
        }
        return nil
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, or
    /// nil when that origin is not allowed.
    public func allowOrigin(for origin: String?) -> String? {
        switch origins {
        case .any: return "*"
        case .list(let allowed):
            guard let origin, allowed.contains(origin) else { return nil }
            return origin
        }
    }

    /// Adds the CORS headers every actual response carries, errors included.
    public func apply(to response: inout Response, requestHeaders: Headers?) {
        let origin = requestHeaders?["Origin"]
        if let allow = allowOrigin(for: origin) {
            response.headers.set("Access-Control-Allow-Origin", allow)
        }
        if case .list = origins {
            // The answer depends on Origin even when it is refused (no header):
            // a shared cache must not hand one origin's answer to another.
            let varies = response.headers.values("Vary").contains { value in
                value.split(separator: ",").contains { $0.trimming(" \t").lowercased() == "origin" || $0.trimming(" \t") == "*" }
            }
            if !varies { response.headers.add("Vary", "Origin") }
        }
    }

    /// True when an `OPTIONS` request is a CORS preflight (Fetch standard §3.2.2):
    /// it carries both `Origin` and `Access-Control-Request-Method`.
    public static func isPreflight(_ headers: Headers) -> Bool {
        headers.contains("Origin") && headers.contains("Access-Control-Request-Method")
    }

    /// The answer to `OPTIONS` on a known route: 204 with `Allow`, and for a
    /// preflight from an allowed origin the `Access-Control-Allow-*` headers and
    /// `Access-Control-Max-Age`. (`Access-Control-Allow-Origin` itself is added
    /// by `apply(to:requestHeaders:)`, as on every response.)
    public func optionsResponse(for route: Route, requestHeaders: Headers) -> Response {
        var response = Response(status: .noContent)
        response.headers.add("Allow", route.allowHeader)
        if CORSPolicy.isPreflight(requestHeaders), allowOrigin(for: requestHeaders["Origin"]) != nil {
            response.headers.add("Access-Control-Allow-Methods", route.allowHeader)
            response.headers.add("Access-Control-Allow-Headers", CORSPolicy.allowedHeaders)
            response.headers.add("Access-Control-Max-Age", String(CORSPolicy.maxAgeSeconds))
        }
        return response
    }
}

extension StringProtocol where SubSequence == Substring {
    /// The string without leading and trailing characters from `set`.
    func trimming(_ set: String) -> Substring {
        var s = self[...]
        while let first = s.first, set.contains(first) { s = s.dropFirst() }
        while let last = s.last, set.contains(last) { s = s.dropLast() }
        return s
    }
}
