#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Polls `condition` every `interval` seconds until it holds or `timeout`
/// seconds passed, and returns its last answer: for effects that follow an
/// event on another thread (a drain closing the listener, an exchange being
/// reported after its write), without a fixed sleep.
@discardableResult
public func eventually(timeout: Double = 3, interval: Double = 0.005, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
    while true {
        if try condition() { return true }
        if DispatchTime.now().uptimeNanoseconds >= deadline { return false }
        usleep(UInt32(interval * 1e6))
    }
}

/// The seconds `body` took.
public func elapsed(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
