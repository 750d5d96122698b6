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
/// with status 1.
final class Shutdown {
    private let server: Server
    private let readiness: Readiness
    private let drainTimeout: Double
    private let logger: Logger
    /// Access lines still buffered are written before every exit.
    private let accessLog: AccessLogBuffer
    private var sources: [DispatchSourceSignal] = []

    init(server: Server, readiness: Readiness, drainTimeout: Double, logger: Logger, accessLog: AccessLogBuffer) {
        self.server = server
        self.readiness = readiness
        self.drainTimeout = drainTimeout
        self.logger = logger
        self.accessLog = accessLog
    }

    /// Replaces the default signal actions with Dispatch sources on the main queue.
    func install() {
        for signalNumber in [SIGTERM, SIGINT] {
            // The default action would kill the process before the source sees the signal.
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            source.setEventHandler { [self] in received(signalNumber) }
            source.resume()
            sources.append(source)
        }
    }

    private func received(_ signalNumber: Int32) {
        let name = signalNumber == SIGTERM ? "SIGTERM" : "SIGINT"
        if readiness.isDraining {
            accessLog.flush()
            logger.warning("\(name) again during the drain: exiting now")
            exit(1)
        }
        readiness.beginDraining()
        logger.notice("\(name): draining, at most \(drainTimeout) s")
        let logger = self.logger
        let accessLog = self.accessLog
        let start = DispatchTime.now().uptimeNanoseconds
        server.drain(deadline: drainTimeout) {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            accessLog.flush()
            logger.notice("drained in \((seconds * 1000).rounded() / 1000) s: exiting")
            exit(0)
        }
        // Should the server never report back, the contract's promise still holds.
        let drainTimeout = self.drainTimeout
        DispatchQueue.main.asyncAfter(deadline: .now() + drainTimeout + 1) {
            accessLog.flush()
            logger.warning("drain did not finish within \(drainTimeout) s: exiting")
            exit(0)
        }
    }
}
