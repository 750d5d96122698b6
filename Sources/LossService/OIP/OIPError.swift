import HTTP

/// An inference request the protocol refuses, answered in its own form,
/// `{"error": "…"}` (KServe Open Inference Protocol, "Inference Response
/// JSON Object": `$inference_error_response`), with 400 for a bad request,
/// 404 for an unknown model and 413 for tensors past `--max-tensor-bytes`.
struct OIPError: Error, Equatable {
    var status: Status
    var message: String

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
        return response
    }
}
