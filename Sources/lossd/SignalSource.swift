import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// A signal's handler as a Dispatch source that is armed when `init`
/// returns, its events delivered on the main queue.
///
/// Why: the signal's default action must be ignored before the source is
/// made (else the signal ends the process first), and Dispatch arms a signal
/// source asynchronously, after `resume()` returns; a signal that came in
/// between was ignored and lost. lossd prints its "listening" line once its
/// sources are installed, so a SIGTERM sent as soon as that line appears
/// (a quick restart, a test) was lost 7 times in 10 and lossd never exited.
/// `init` now waits for the source's registration.
final class SignalSource {
    /// At most this long is waited for Dispatch to arm the source: 2 s.
    static let armTimeout = 2.0

    private let source: DispatchSourceSignal
    private static let queue = DispatchQueue(label: "lossd.signals")

    /// `handler` runs on the main queue only, hence it need not be Sendable.
    init(_ signalNumber: Int32, handler: @escaping () -> Void) {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: SignalSource.queue)
        let armed = DispatchSemaphore(value: 0)
        source.setRegistrationHandler { armed.signal() }
        nonisolated(unsafe) let onMain = handler
        source.setEventHandler { DispatchQueue.main.async { onMain() } }
        source.resume()
        _ = armed.wait(timeout: .now() + SignalSource.armTimeout)
        self.source = source
    }

    deinit {
        source.cancel()
    }
}
