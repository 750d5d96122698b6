/// Where a TLS-serving `Server` finds its certificate and private key.
///
/// Both are PEM files, read once by `Server.start()`, which throws a
/// `ServerError` naming the file when one is missing or unreadable, is not
/// PEM, is an encrypted key (there is no one to type the passphrase), or
/// when the key does not belong to the certificate. The server then speaks
/// TLS 1.2 and 1.3 only, with OpenSSL's default cipher suites, ALPN
/// `http/1.1` and renegotiation refused.
public struct TLSConfiguration: Sendable, Equatable {
    /// The server certificate first, then any intermediate certificates
    /// (the chain a client needs, without the root). No default.
    public var certificateChainPath: String
    /// The unencrypted private key of the first certificate. No default.
    public var privateKeyPath: String

    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }
}
