import HTTP
@testable import LossService

/// Drives a `Responder` the way the server does, without sockets: head, body
/// in chunks (split at awkward places on purpose), finish, prepare.
struct ResponderHarness {
    let responder: LossResponder

    init(_ responder: LossResponder = LossResponder(metrics: ServiceMetrics(includeProcessMetrics: false))) {
        self.responder = responder
    }

    /// The response to one request; `chunk` is the size the body is cut into.
    func call(_ method: Method, _ path: String, headers: Headers = [:], body: String = "",
              chunk: Int = 7) -> Response {
        let head = RequestHead(method: method, target: path, version: .http1_1, headers: headers)
        var response: Response
        switch responder.respond(to: head) {
        case .response(let immediate):
            response = immediate
        case .body(let handler):
            response = ResponderHarness.feed(Array(body.utf8), to: handler, chunk: chunk)
        }
        responder.prepare(&response, for: head)
        responder.completed(Exchange(head: head, wasRouted: true, status: response.status,
                                     requestBodyBytes: body.utf8.count, responseBodyBytes: response.body.count,
                                     duration: 0.001))
        return response
    }

    /// A loss POST with a JSON content type.
    func post(_ path: String, _ body: String, chunk: Int = 7) -> Response {
        call(.post, path, headers: ["Content-Type": "application/json"], body: body, chunk: chunk)
    }

    static func feed(_ bytes: [UInt8], to handler: any BodyHandler, chunk: Int) -> Response {
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + max(1, chunk))
            let early = bytes[offset..<end].withUnsafeBytes { handler.consume($0) }
            if let early { return early }
            offset = end
        }
        return handler.finish()
    }
}

extension Response {
    /// The body as text.
    var text: String { String(decoding: body, as: UTF8.self) }
}
