extension Headers {
    /// Whether a request with these headers takes a gzip response (RFC 9110
    /// §12.5.3), by the same rule the server uses to compress answers; for a
    /// responder that serves its own gzip representation.
    public var acceptsGzip: Bool { ResponseWriter.acceptsGzip(self) }
}
