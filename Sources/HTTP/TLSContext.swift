import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// A server's OpenSSL context (`SSL_CTX`): the certificate, key and protocol
/// settings every TLS connection of the server shares.
///
/// Thread safety: configured once in `init`, after which OpenSSL allows
/// `SSL_new` from any thread; hence `@unchecked Sendable`. A certificate
/// reload (`Server.reloadTLS()`) makes a new context rather than changing
/// this one; each connection's `SSL` holds a reference to the context it was
/// made from, so the old one lives until its last connection closes.
final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer

    init(_ configuration: TLSConfiguration) throws(ServerError) {
        let certificate = configuration.certificateChainPath
        let key = configuration.privateKeyPath
        // Checked first so that the common mistake gets the system's words, not OpenSSL's.
        for (what, path) in [("certificate chain", certificate), ("private key", key)] where access(path, R_OK) != 0 {
            throw ServerError(message: "cannot read the TLS \(what) \(path): \(Socket.errorText())")
        }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw ServerError(message: "cannot create a TLS context: \(TLSContext.openSSLError())")
        }
        self.context = context
        // TLS 1.0 and 1.1 are deprecated (RFC 8996).
        guard lossd_SSL_CTX_set_min_proto_version(context, lossd_TLS1_2_VERSION) == 1 else {
            throw ServerError(message: "cannot require TLS 1.2: \(TLSContext.openSSLError())")
        }
        // Renegotiation only ever served attacks here (CVE-2009-3555, CPU
        // exhaustion); an unexpected EOF is a truncation that HTTP's own
        // framing already detects, so it reads as the end of the stream.
        SSL_CTX_set_options(context, lossd_SSL_OP_NO_RENEGOTIATION | lossd_SSL_OP_NO_COMPRESSION
                                     | lossd_SSL_OP_IGNORE_UNEXPECTED_EOF)
        // Partial writes: a full socket returns what was sent, as write(2) does.
        // Moving buffer: a retried write may come from another copy of the same bytes.
        // Release buffers: an idle keep-alive connection holds no 34 KiB of buffers.
        _ = lossd_SSL_CTX_set_mode(context, lossd_SSL_MODE_ENABLE_PARTIAL_WRITE
                                   | lossd_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | lossd_SSL_MODE_RELEASE_BUFFERS)
        lossd_SSL_CTX_select_http11(context)
        lossd_SSL_CTX_refuse_passphrase(context)

        guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
            throw ServerError(message: "the TLS certificate chain \(certificate) is not a PEM certificate: \(TLSContext.openSSLError())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
            let reason = TLSContext.openSSLError()
            if reason.contains("key values mismatch") {
                throw ServerError(message: "the TLS private key \(key) does not match the certificate \(certificate)")
            }
            throw ServerError(message: "the TLS private key \(key) is not an unencrypted PEM private key: \(reason)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw ServerError(message: "the TLS private key \(key) does not match the certificate \(certificate)")
        }
    }

    /// The certificate's subject and expiry, e.g. `/CN=localhost, valid until Nov 10 12:00:00 2125 GMT`.
    var certificateDescription: String {
        guard let certificate = SSL_CTX_get0_certificate(context) else { return "no certificate" }
        return "\(TLSContext.subject(of: certificate)), valid until \(TLSContext.notAfter(of: certificate))"
    }

    /// The subject in OpenSSL's one-line form (`/CN=localhost/O=…`).
    static func subject(of certificate: OpaquePointer) -> String {
        guard let name = X509_get_subject_name(certificate) else { return "no subject" }
        var text = [CChar](repeating: 0, count: 256)
        guard X509_NAME_oneline(name, &text, Int32(text.count)) != nil else { return "no subject" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func notAfter(of certificate: OpaquePointer) -> String {
        guard let time = X509_get0_notAfter(certificate) else { return "an unknown date" }
        return withMemoryBIO { bio in _ = ASN1_TIME_print(bio, time) }
    }

    private static func withMemoryBIO(_ write: (OpaquePointer) -> Void) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "?" }
        defer { BIO_free(bio) }
        write(bio)
        var bytes = [UInt8](repeating: 0, count: 512)
        let n = BIO_read(bio, &bytes, Int32(bytes.count))
        return String(decoding: bytes.prefix(max(0, Int(n))), as: UTF8.self)
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// The oldest error on this thread's OpenSSL error queue, in words; the queue is then cleared.
    static func openSSLError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "unknown OpenSSL error" }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
