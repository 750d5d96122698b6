/// Why a `Server` could not start: the message names the address and the
/// system's reason ("cannot listen on 0.0.0.0:8080: address already in use").
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) { self.message = message }

    public var description: String { message }
}
