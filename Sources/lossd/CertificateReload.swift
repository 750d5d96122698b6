import Dispatch
import HTTP
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Reloads the TLS certificate and key on SIGHUP (Kubernetes rewrites a
/// mounted secret in place when it rotates; whoever rotates it then sends
/// SIGHUP): connections accepted from then on get the new certificate, open
/// ones keep theirs and are not dropped (see `Server.reloadTLS()`). A pair
/// that does not load (a missing file, not PEM, a key for another
/// certificate: a rotation caught half-way) is refused with an error log line
/// naming the file, and the previous certificate stays in service. Without
/// TLS, SIGHUP only logs that there is nothing to reload; either way it no
/// longer ends lossd, as its default action would.
final class CertificateReload {
    private let server: Server
    private let logger: Logger
    private let certificatePath: String?
    private var source: SignalSource?

    init(server: Server, certificatePath: String?, logger: Logger) {
        self.server = server
        self.certificatePath = certificatePath
        self.logger = logger
    }

    /// Replaces SIGHUP's default action (ending the process) with a handler on the main queue, armed on return.
    func install() {
        source = SignalSource(SIGHUP) { [self] in reload() }
    }

    private func reload() {
        guard let certificatePath else {
            logger.notice("SIGHUP: serving plain HTTP, no TLS certificate to reload")
            return
        }
        do {
            let certificate = try server.reloadTLS()
            logger.notice("SIGHUP: reloaded the TLS certificate \(certificatePath): \(certificate); new connections use it")
        } catch {
            logger.error("SIGHUP: kept the previous TLS certificate: \(error)")
        }
    }
}
