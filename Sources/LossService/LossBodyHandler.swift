import HTTP
import Losses

/// Receives one loss request's body as it arrives and answers it: the bytes
/// go straight into the push decoder (the JSON text is never held whole), a
/// malformed byte stops the upload early with 400 (and tensors past their
/// limit with 413), and the end of the body validates the members, scores the
/// loss and writes the result.
final class LossBodyHandler<Request: LossRequest>: BodyHandler {
    private var decoder: TensorDecoder
    private let metrics: ServiceMetrics
    /// The early answer already given, if any: the decoder is not fed again.
    private var failure: Response?

    /// - Parameter bodyLength: the body's `Content-Length`, when sent: the
    ///   decoder then reserves each tensor's storage once instead of growing it
    ///   by doubling (the server has already refused a length past its limit).
    /// - Parameter maxTensorBytes: the most bytes the decoded tensors may take
    ///   (`TensorDecoder.maxTensorBytes`).
    init(metrics: ServiceMetrics, bodyLength: Int? = nil, maxTensorBytes: Int = TensorDecoder.defaultMaxTensorBytes) {
        self.metrics = metrics
        decoder = TensorDecoder(maxTensorBytes: maxTensorBytes, bodyLength: bodyLength)
    }

    func consume(_ bytes: UnsafeRawBufferPointer) -> Response? {
        if let failure { return failure }
        do {
            try decoder.feed(bytes)
            return nil
        } catch {
            failure = LossBodyHandler.problem(for: error)
            return failure
        }
    }

    func finish() -> Response {
        if let failure { return failure }
        let members: [String: JSONMember]
        do {
            members = try decoder.finish()
        } catch {
            return LossBodyHandler.problem(for: error)
        }
        let request: Request
        do {
            request = try Request(members: members)
        } catch {
            return Problem(status: .unprocessableContent, detail: error.message).response
        }
        let result: LossResult
        do {
            result = try request.score()
        } catch {
            return Problem(status: .unprocessableContent, detail: error.message).response
        }
        metrics.recordScored(Request.loss, elements: request.elementCount)
        var response = Response(status: .ok, body: JSONWriter.lossResponse(result))
        response.headers.add("Content-Type", "application/json")
        return response
    }

    /// Malformed JSON is 400 (the detail names the byte offset); well-formed
    /// JSON that is no valid tensor document is 422; tensors past their limit
    /// are 413 (RFC 9110 §15.5.14), the detail naming the limit and the byte.
    static func problem(for error: DecodeError) -> Response {
        switch error {
        case .malformed: return Problem(status: .badRequest, detail: error.description).response
        case .invalid(let message): return Problem(status: .unprocessableContent, detail: message).response
        case .tooLarge: return Problem(status: .contentTooLarge, detail: error.description).response
        }
    }
}
