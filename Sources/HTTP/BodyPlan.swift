/// How a request's body is to be read, decided from its head alone: its
/// length (or chunked), whether the client waits for `100 Continue`, and
/// whether it is gzip-coded. The meaning of `Expect` and `Content-Encoding`
/// lives here, next to the parser's framing, so the connection only follows
/// the plan. Pure: no I/O, no clock. Public so that a responder can ask
/// the connection's own question of a head (`init?(head:)`, `runsInline`).
public struct BodyPlan: Equatable, Sendable {
    /// Bytes of body that follow the head: 0 for none, -1 for a chunked body.
    public let length: Int
    /// The client sent `Expect: 100-continue` over HTTP/1.1 and waits for
    /// `100 Continue` before it sends the body (RFC 9110 §10.1.1).
    public let expectsContinue: Bool
    /// The body is gzip-coded (`Content-Encoding: gzip` or `x-gzip`) and is decoded before the handler sees it.
    public let gzip: Bool

    /// What the connection does with a body when the responder answered
    /// from the head alone (`Reply.response`), before the body was read.
    enum EarlyAnswer: Equatable, Sendable {
        /// There is no body: answer, and keep the connection.
        case noBody
        /// Drop the body as it arrives (at most `ServerConfiguration.discardBodyBytes`
        /// of it, or a chunked body), answer at once, keep the connection.
        case discardBody
        /// Answer, then close: the body is not worth reading, or the client
        /// waits for `100 Continue` and will send none.
        case close
    }

    /// The plan for `head`, framed as `framing`, or the error to refuse it
    /// with, checked in this order: an expectation other than `100-continue`
    /// (417, RFC 9110 §10.1.1), a content coding other than gzip, x-gzip and
    /// identity on a non-empty body (415, RFC 9110 §8.4, §15.5.16), a declared
    /// length over `Limits.maxBodyBytes` (413 before anything is read, RFC 9110 §15.5.14).
    init(head: RequestHead, framing: BodyFraming, limits: Limits) throws(HTTPError) {
        // One scan for the two fields that shape reading the body; arrays only when they are present.
        var expectations: [String] = []
        var contentEncodings: [String] = []
        for field in head.headers {
            if Headers.equalsIgnoringCase(field.name, "Expect") {
                expectations.append(field.value)
            } else if Headers.equalsIgnoringCase(field.name, "Content-Encoding") {
                contentEncodings.append(field.value)
            }
        }
        // RFC 9110 §10.1.1: only 100-continue is defined; a 1.0 client's is ignored.
        var expectsContinue = false
        if !expectations.isEmpty {
            guard expectations.count == 1,
                  Headers.equalsIgnoringCase(Substring(expectations[0]).trimmingASCIISpaces().description, "100-continue")
            else {
                throw HTTPError(status: .expectationFailed,
                                detail: "the only expectation supported is 100-continue, not \(expectations.joined(separator: ", "))")
            }
            expectsContinue = head.version == .http1_1
        }

        let length: Int
        switch framing {
        case .none: length = 0
        case .length(let n): length = n
        case .chunked: length = -1
        }

        // RFC 9110 §8.4: gzip (x-gzip, §8.4.1.3) and identity are the codings
        // understood; a coding on an empty body has nothing to decode.
        var gzip = false
        for value in length == 0 ? [] : contentEncodings {
            for coding in value.split(separator: ",") {
                let name = coding.trimmingASCIISpaces()
                if Headers.equalsIgnoringCase(String(name), "gzip") || Headers.equalsIgnoringCase(String(name), "x-gzip"),
                   !gzip {
                    gzip = true
                } else if !Headers.equalsIgnoringCase(String(name), "identity") {
                    throw HTTPError(status: .unsupportedMediaType,
                                    detail: "Content-Encoding \(value) is not supported; send gzip or identity")
                }
            }
        }

        if length > limits.maxBodyBytes {
            throw HTTPError(status: .contentTooLarge,
                            detail: "Content-Length \(length == .max ? "(over \(Int.max))" : String(length)) is over the body limit of \(limits.maxBodyBytes) bytes")
        }
        self.init(length: length, expectsContinue: expectsContinue, gzip: gzip)
    }

    /// The plan for a head the server accepted, its framing read back from
    /// the head's own fields as the parser framed it (RFC 9112 §6.3:
    /// Transfer-Encoding means chunked, else `Content-Length`, else no body);
    /// nil for a head the server refuses (417, 415, a malformed length).
    public init?(head: RequestHead) {
        var framing = BodyFraming.none
        for field in head.headers {
            if Headers.equalsIgnoringCase(field.name, "Transfer-Encoding") {
                framing = .chunked
                break
            } else if Headers.equalsIgnoringCase(field.name, "Content-Length"), framing == .none {
                // A list of identical values is one length (RFC 9110 §8.6), as the parser reads it.
                let first = field.value.split(separator: ",", omittingEmptySubsequences: false).first ?? ""
                guard let length = Int(first.trimmingASCIISpaces()), length >= 0 else { return nil }
                framing = .length(length)
            }
        }
        var limits = Limits()
        limits.maxBodyBytes = .max
        guard let plan = try? BodyPlan(head: head, framing: framing, limits: limits) else { return nil }
        self = plan
    }

    init(length: Int, expectsContinue: Bool, gzip: Bool) {
        self.length = length
        self.expectsContinue = expectsContinue
        self.gzip = gzip
    }

    /// A chunked body: its length is known only at its end.
    var isChunked: Bool { length < 0 }

    /// Whether the request is read and answered inline on the event loop's
    /// thread: a body of at most `inlineBodyBytes`
    /// (`ServerConfiguration.inlineBodyBytes`), or none, and not gzip-coded.
    /// Anything else (larger, chunked, gzip) is heavy work that leaves it.
    /// The one statement of the rule: `Connection.begin` offloads by it, and a
    /// responder may exempt what runs inline from its own limits (lossd's memory budget).
    public func runsInline(inlineBodyBytes: Int) -> Bool {
        length >= 0 && length <= inlineBodyBytes && !gzip
    }

    /// The length of an identity-coded body, nil for none, chunked or gzip (whose decoded length is unknown).
    public var identityLength: Int? {
        length > 0 && !gzip ? length : nil
    }

    /// What to do with the body when the answer came from the head alone;
    /// `discardBodyBytes` is `ServerConfiguration.discardBodyBytes`.
    func earlyAnswer(discardBodyBytes: Int) -> EarlyAnswer {
        if length == 0 { return .noBody }
        if expectsContinue { return .close }  // the client sends no body: nothing to drop
        if length > 0 && length <= discardBodyBytes || length < 0 { return .discardBody }
        return .close
    }
}
