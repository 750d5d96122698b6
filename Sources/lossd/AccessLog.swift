import HTTP
import Logging

/// One log line per request, written when its response has gone out:
/// method, path (never the query, which may hold data), status, response
/// body bytes and duration.
struct AccessLog: Sendable {
    let logger: Logger

    func record(_ exchange: Exchange, route: String) {
        let method = exchange.head?.method.rawValue ?? "-"
        let path = exchange.head?.path ?? "-"
        let milliseconds = (exchange.duration * 1e6).rounded() / 1e3
        logger.info(
            "request",
            metadata: [
                "method": "\(method)",
                "path": "\(path)",
                "route": "\(route)",
                "status": .stringConvertible(exchange.status.code),
                "bytes": .stringConvertible(exchange.responseBodyBytes),
                "request_bytes": .stringConvertible(exchange.requestBodyBytes),
                "duration_ms": .stringConvertible(milliseconds),
            ])
    }
}
