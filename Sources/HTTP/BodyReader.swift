/// The body stage of one request: frames the body (by length or chunked,
/// RFC 9112 §6), decodes its content coding (gzip, per the `BodyPlan`),
/// counts it against `Limits.maxBodyBytes` and hands it to the handler, or,
/// after an early answer, drops it within `ServerConfiguration.discardBodyBytes`.
/// Bytes in, a `Step` out: no I/O, no clock, so the connection only moves
/// its buffer and acts on the step.
///
/// Stored inline in the connection and reset per request: nothing here is
/// allocated for a request with an identity-coded body (the hot path).
struct BodyReader {
    /// What the connection does after a read.
    enum Step {
        /// The body needs more bytes.
        case needMore
        /// The body is refused: answer with this error and close.
        case failed(HTTPError)
        /// Stop reading a body being dropped after an early answer (it is
        /// over its budget, or malformed): a lingering close, no second response.
        case stopDropping
        /// The handler answered before the end of its body. `bodyEnded`: the
        /// body ended in the same read (the next request may follow);
        /// otherwise its rest is dropped, or, with `close`, the connection
        /// closes after the answer (too much left to be worth reading).
        case answeredEarly(Response, bodyEnded: Bool, close: Bool)
        /// The body is complete: the handler's response, or nil for a dropped body.
        case finished(Response?)
    }

    private let limits: Limits
    /// `ServerConfiguration.discardBodyBytes`.
    private let discardBodyBytes: Int

    /// Decoded body bytes delivered so far in this request (reported in its `Exchange`).
    private(set) var decodedBytes = 0
    /// Bytes of a body with a length still to come.
    private var remaining = 0
    private var chunked: ChunkedDecoder?
    private var inflater: Inflater?
    /// Nil while the body is dropped.
    private var handler: (any BodyHandler)?
    private var earlyResponse: Response?
    /// Wire bytes of body still allowed to be dropped after an early answer.
    private var discardBudget = 0

    init(limits: Limits, discardBodyBytes: Int) {
        self.limits = limits
        self.discardBodyBytes = discardBodyBytes
    }

    /// True while the body in progress is dropped after an early answer (or there is none).
    var isDropping: Bool { handler == nil }

    /// A chunked body, or one with more than `bytes` still to come: worth larger reads.
    func isLarge(than bytes: Int) -> Bool { chunked != nil || remaining > bytes }

    /// A new request head: nothing of a body yet.
    mutating func reset() {
        decodedBytes = 0
        earlyResponse = nil
        abandon()
    }

    /// Lets go of the body in progress (an error, or the connection closed).
    mutating func abandon() {
        handler = nil
        inflater = nil
        chunked = nil
    }

    /// Begins the body `plan` describes, for `handler`, or dropping it when nil.
    mutating func start(_ plan: BodyPlan, handler: (any BodyHandler)?) {
        if plan.isChunked {
            chunked = ChunkedDecoder(limits: limits)
        } else {
            remaining = plan.length
        }
        self.handler = handler
        if handler == nil { discardBudget = discardBodyBytes }
        if plan.gzip { inflater = Inflater(limit: limits.maxBodyBytes) }
    }

    /// Reads what it can of the body from `available`; returns how many of
    /// its bytes were body (the rest belongs to the next request) and what
    /// the connection does next.
    mutating func read(_ available: UnsafeRawBufferPointer) -> (consumed: Int, step: Step) {
        var consumed = 0
        var done = false
        do throws(HTTPError) {
            if var decoder = chunked {
                // Out of `self` while it calls back into `deliver`, which changes `self`.
                defer { chunked = decoder }
                (consumed, done) = try decoder.decode(available) { (payload) throws(HTTPError) in
                    try deliver(payload)
                }
            } else {
                consumed = min(available.count, remaining)
                try deliver(UnsafeRawBufferPointer(rebasing: available[..<consumed]))
                remaining -= consumed
                done = remaining == 0
            }
        } catch {
            // Dropping a body already answered: no second response.
            return (0, handler == nil ? .stopDropping : .failed(error))
        }
        if handler == nil && earlyResponse == nil {
            discardBudget -= consumed
            if discardBudget < 0 && !done {
                return (consumed, .stopDropping)  // the early answer is written; the rest is not worth reading
            }
        }
        if let response = earlyResponse {
            earlyResponse = nil
            handler = nil
            inflater = nil
            if done {
                chunked = nil
                return (consumed, .answeredEarly(response, bodyEnded: true, close: false))
            }
            if chunked != nil || remaining <= discardBodyBytes {
                discardBudget = discardBodyBytes
                return (consumed, .answeredEarly(response, bodyEnded: false, close: false))
            }
            return (consumed, .answeredEarly(response, bodyEnded: false, close: true))
        }
        guard done else { return (consumed, .needMore) }
        guard let handler else {
            abandon()
            return (consumed, .finished(nil))
        }
        do throws(HTTPError) {
            try inflater?.finish()
        } catch {
            abandon()
            return (consumed, .failed(error))
        }
        abandon()
        return (consumed, .finished(handler.finish()))
    }

    /// Hands decoded body bytes to the handler, counting them against the limit.
    private mutating func deliver(_ payload: UnsafeRawBufferPointer) throws(HTTPError) {
        decodedBytes += payload.count
        if decodedBytes > limits.maxBodyBytes {
            throw HTTPError(status: .contentTooLarge,
                            detail: "the request body is larger than the limit of \(limits.maxBodyBytes) bytes")
        }
        guard let handler, earlyResponse == nil, payload.count > 0 else { return }
        if let inflater {
            var early: Response?
            _ = try inflater.decode(payload) { piece in
                if let response = handler.consume(piece) {
                    early = response
                    return false
                }
                return true
            }
            if let early { earlyResponse = early }
        } else if let response = handler.consume(payload) {
            earlyResponse = response
        }
    }
}
