import HTTP
import TensorJSON

/// An inference request the protocol refuses, answered in its own form,
/// `{"error": "…"}` (KServe Open Inference Protocol, "Inference Response
/// JSON Object": `$inference_error_response`), with 400 for a bad request,
/// 404 for an unknown model, 413 for tensors past `--max-tensor-bytes` and
/// 503 with `Retry-After` when the memory budget cannot hold them.
struct OIPError: Error, Equatable {
    var status: Status
    var message: String
    /// Seconds for `Retry-After` (RFC 9110 §10.2.3), sent when set.
    var retryAfter: Int?

    init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// A 400.
    init(_ message: String) { self.init(.badRequest, message) }

    /// The response: `{"error":"…"}`, `application/json`.
    var response: Response {
        var writer = JSONWriter(capacity: message.utf8.count + 16)
        writer.raw("{\"error\":")
        writer.string(message)
        writer.raw("}")
        var response = Response(status: status, body: writer.bytes)
        response.headers.add("Content-Type", "application/json")
        if let retryAfter { response.headers.add("Retry-After", String(retryAfter)) }
        return response
    }
}

extension OIPError {
    /// The memory budget's refusal (`DecodeError.overBudget`): a 503 whose
    /// `Retry-After` is about the wait (RFC 9110 §15.6.4: the condition is temporary).
    init(overBudget error: DecodeError) {
        var wait = 0.0
        if case .overBudget(_, _, let seconds, _) = error { wait = seconds }
        self.init(.serviceUnavailable, error.description)
        retryAfter = max(1, Int(wait.rounded(.up)))
    }
}
