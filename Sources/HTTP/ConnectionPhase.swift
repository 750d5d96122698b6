/// What a connection is reading: the part of the exchange it is in, which
/// decides its timeout and what a passed deadline means.
enum ConnectionPhase: Equatable, Sendable {
    /// Between requests, nothing of the next one received (idle timeout).
    case idle
    /// Part of a request head received (head timeout from its first byte).
    case head
    /// A request body: for the handler, or dropped after an early answer.
    case body
    /// The sending side is shut down; reading and dropping until the client closes.
    case lingering
    /// The descriptor is released: every later event, timeout or drain call is ignored.
    case closed
}
