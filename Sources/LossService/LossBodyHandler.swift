import HTTP
import Losses
import TensorJSON

/// Receives one loss request's body as it arrives and answers it: the bytes
/// go straight into the push decoder (the JSON text is never held whole), a
/// malformed byte stops the upload early with 400 (tensors past their limit
/// with 413, tensors the memory budget cannot hold with 503), and the end of
/// the body checks the members against the loss's declaration, scores the
/// loss and writes the result. For a difference loss (the declaration's
/// `differenceFold`) the decoder folds the second of predictions and targets
/// into the first as it streams, so one tensor is held instead of two.
final class LossBodyHandler: BodyHandler {
    /// The loss the body is for.
    private let declaration: LossDeclaration
    private var decoder: TensorDecoder
    private let metrics: ServiceMetrics
    /// The early answer already given, if any: the decoder is not fed again.
    private var failure: Response?
    /// Where large tensors' arrays come from and go back to, or nil.
    private let storagePool: OIPStoragePool?

    /// - Parameter declaration: the loss the body is for.
    /// - Parameter bodyLength: the body's `Content-Length`, when sent: the
    ///   decoder then reserves each tensor's storage once instead of growing it
    ///   by doubling (the server has already refused a length past its limit).
    /// - Parameter maxTensorBytes: the most bytes the decoded tensors may take
    ///   (`TensorDecoder.maxTensorBytes`).
    /// - Parameter budget: the server's memory budget, which the decoded
    ///   tensors reserve from as they grow (and may wait for), or nil for
    ///   none (a request small enough to run on an event loop).
    /// - Parameter storagePool: the arrays kept from earlier requests: a
    ///   tensor of 4 MiB or more is decoded into one, and every large tensor's
    ///   array goes back to it once the loss is scored (so the kernel does
    ///   not zero fresh pages for each request), or nil for fresh arrays.
    init(declaration: LossDeclaration, metrics: ServiceMetrics, bodyLength: Int? = nil, maxTensorBytes: Int = TensorDecoder.defaultMaxTensorBytes,
         budget: MemoryBudget? = nil, storagePool: OIPStoragePool? = nil) {
        self.declaration = declaration
        self.metrics = metrics
        self.storagePool = storagePool
        decoder = TensorDecoder(maxTensorBytes: maxTensorBytes, bodyLength: bodyLength, budget: budget,
                                storage: storagePool.map { pool in { pool.takeEmpty(capacity: $0) } },
                                fold: declaration.differenceFold)
    }

    func consume(_ bytes: UnsafeRawBufferPointer) -> Response? {
        if let failure { return failure }
        do {
            try decoder.feed(bytes)
            return nil
        } catch {
            failure = answer(error)
            return failure
        }
    }

    func finish() -> Response {
        if let failure { return failure }
        // The tensors are freed when this returns (the members and the
        // request are locals): the reservation goes with them. A request that
        // ends otherwise (its client gone) gives it back when the server
        // drops this handler (`MemoryReservation.deinit`).
        defer { decoder.releaseMemory() }
        var members: [String: JSONMember]
        do {
            members = try decoder.finish()  // a number cut at the body's end is stored here: it may reserve too
        } catch {
            return answer(error)
        }
        let scored: (result: LossResult, elements: Int, reduction: String)
        do {
            scored = try declaration.evaluate(members)
        } catch {
            return Problem(status: .unprocessableContent, detail: error.message).response
        }
        if let storagePool {
            // Back to the pool once no member holds them, so the next request's decoder has them to itself.
            var arrays = members.values.compactMap { member -> [Double]? in
                if case .tensor(let tensor) = member { tensor.data } else { nil }
            }
            members = [:]
            while let array = arrays.popLast() { storagePool.recycle(array) }
        }
        metrics.recordScored(declaration, elements: scored.elements)
        var response = Response(status: .ok, body: JSONWriter.lossResponse(scored.result, reduction: scored.reduction))
        response.headers.add("Content-Type", "application/json")
        return response
    }

    /// The answer to a decoding error, counting a memory refusal. The decoder
    /// has already dropped its tensors and given back its reservation.
    private func answer(_ error: DecodeError) -> Response {
        if case .overBudget = error { metrics.recordRejected(.memory) }
        return LossBodyHandler.problem(for: error)
    }

    /// Malformed JSON is 400 (the detail names the byte offset); well-formed
    /// JSON that is no valid tensor document is 422; tensors past their limit
    /// are 413 (RFC 9110 §15.5.14), the detail naming the limit and the byte.
    static func problem(for error: DecodeError) -> Response {
        switch error {
        case .malformed: return Problem(status: .badRequest, detail: error.description).response
        case .invalid(let message): return Problem(status: .unprocessableContent, detail: message).response
        case .tooLarge: return Problem(status: .contentTooLarge, detail: error.description).response
        case .overBudget(_, _, let wait, _):
            // RFC 9110 §15.6.4, §10.2.3: the condition is temporary; try again after about the wait.
            var response = Problem(status: .serviceUnavailable, detail: error.description).response
            response.headers.add("Retry-After", String(max(1, Int(wait.rounded(.up)))))
            return response
        }
    }
}
