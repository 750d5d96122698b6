import Dispatch
import HTTP
import LossService
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Graceful shutdown on SIGTERM or SIGINT: readiness flips to 503 at once
/// (so a load balancer stops sending), the server drains within the drain
/// timeout, answering every request that reached it (see `Server.drain`),
/// and the process exits 0. A second signal during the drain exits at once
/// with status 1. Before every exit the log lines still waiting are written,
/// for at most `LogWriter.exitFlushTimeout`, so that a reader of standard
/// error that never reads cannot keep lossd from exiting (nor change its
/// exit status).
final class Shutdown {
    private let server: Server
    private let readiness: Readiness
    private let drainTimeout: Double
    private let logger: Logger
    /// Log lines still waiting are written before every exit.
    private let log: LogWriter
    private var sources: [SignalSource] = []

    init(server: Server, readiness: Readiness, drainTimeout: Double, logger: Logger, log: LogWriter) {
        self.server = server
        self.readiness = readiness
        self.drainTimeout = drainTimeout
        self.logger = logger
        self.log = log
    }

    /// Replaces the default signal actions with handlers on the main queue, armed on return.
    func install() {
        for signalNumber in [SIGTERM, SIGINT] {
            sources.append(SignalSource(signalNumber) { [self] in received(signalNumber) })
        }
    }

    private func received(_ signalNumber: Int32) {
        let name = signalNumber == SIGTERM ? "SIGTERM" : "SIGINT"
        if readiness.isDraining {
            logger.warning("\(name) again during the drain: exiting now")
            log.flush(within: LogWriter.exitFlushTimeout)
            exit(1)
        }
        readiness.beginDraining()
        logger.notice("\(name): draining, at most \(drainTimeout) s")
        let logger = self.logger
        let log = self.log
        let start = DispatchTime.now().uptimeNanoseconds
        server.drain(deadline: drainTimeout) {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            logger.notice("drained in \((seconds * 1000).rounded() / 1000) s: exiting")
            log.flush(within: LogWriter.exitFlushTimeout)
            exit(0)
        }
        // Should the server never report back, the contract's promise still holds.
        let drainTimeout = self.drainTimeout
        DispatchQueue.main.asyncAfter(deadline: .now() + drainTimeout + 1) {
            logger.warning("drain did not finish within \(drainTimeout) s: exiting")
            log.flush(within: LogWriter.exitFlushTimeout)
            exit(0)
        }
    }
}
