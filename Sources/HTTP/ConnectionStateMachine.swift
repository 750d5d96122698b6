/// The decisions of one connection as a pure state machine, generic over a
/// clock: events in (bytes were read, a head parsed, the responder replied, a
/// body step, a write's result, the peer closed, a deadline passed, the
/// server drains or evicts), an action out for the I/O shell (`Connection`)
/// to carry out (parse, read the body, send with or without close, wait for
/// the socket, linger, close, fail with a problem). It owns the phase of the
/// exchange, the flags that used to be scattered over the connection (peer
/// closed, draining, close after the write, a write pending), the lingering
/// close's budget, when the request began, and the one deadline the
/// server's sweeper checks, which `ConnectionTimer` computes.
///
/// It holds no socket, buffer, parser or handler: the shell runs those
/// stages and reports what they said. So keep-alive against close,
/// pipelining order, backpressure, every timeout and the drain are tested
/// with a manual clock, event by event, without a socket or a sleep.
///
/// Backpressure is part of its contract: while a response (or a
/// `100 Continue`) is not wholly accepted by the socket (`writePending`),
/// `readsPaused` is true and `nextInput` says `wait`, so a client that
/// pipelines requests without reading the answers stalls itself and never
/// grows a buffer; buffered requests are taken one at a time, each after the
/// previous response was written (the order of RFC 9112 §9.3.2).
///
/// Hot path, written for speed on purpose: a struct stored inline in the
/// connection, its actions small enums, nothing allocated per event.
struct ConnectionStateMachine<Clock: MonotonicClock> {
    // MARK: - Actions

    /// What the shell does next with the bytes it holds (`nextInput`).
    enum InputStep: Equatable {
        /// Nothing for now: more bytes are needed, a response is pending
        /// (backpressure), or the connection is ending.
        case wait
        /// Between requests with nothing buffered: the idle timeout (or the
        /// drain's idle grace) runs. `idleSince`, when not nil, is stored
        /// where the server looks for a connection to evict at the cap.
        case awaitRequest(idleSince: UInt64?)
        /// Run the parser on the buffer; `first`: these are the first bytes
        /// of a new request head (the previous request is forgotten).
        case parseHead(first: Bool)
        /// Feed the buffered bytes to the body stage.
        case readBody
        /// Close at once, without a response.
        case close
        /// Answer with this error's problem document, then close.
        case fail(HTTPError)
    }

    /// What a complete request head leads to (`headParsed`).
    enum HeadAction: Equatable {
        /// Admitted past the connection cap: answer 503 and close.
        case refuseOverCap
        /// The body cannot be read as its head says (417, 415, 413): answer and close.
        case fail(HTTPError)
        /// Ask the responder; `heavy`: reading and answering it must leave
        /// the event loop's thread (not `BodyPlan.runsInline`).
        case respond(BodyPlan, heavy: Bool)
    }

    /// What the responder's reply leads to (`answered`, `bodyWanted`).
    enum ReplyAction: Equatable {
        /// Send the response now (`close`: then end the connection).
        case send(close: Bool)
        /// Drop the body, as `plan` frames it, as it arrives; send the response now.
        case dropBodyAndSend(BodyPlan)
        /// Read the body for the handler; first send `100 Continue` when `sendContinue`.
        case readBody(BodyPlan, sendContinue: Bool)
        /// The body is empty: the handler's `finish()` is the response, send it.
        case finishAndSend
    }

    /// What a body step leads to (`bodyRead`).
    enum BodyAction {
        /// The body needs more bytes.
        case none
        /// Answer with this error's problem document and close.
        case fail(HTTPError)
        /// Stop reading a body being dropped: a lingering close, no second response.
        case linger
        /// Send this response (`close`: then end the connection).
        case send(Response, close: Bool)
    }

    /// What a write's result leads to (`wrote`, `sent`).
    enum WriteAction: Equatable {
        /// The socket failed: close (the exchange is reported first).
        case close
        /// The socket is full: wait for its writable edge; reading pauses.
        case waitWritable
        /// All written and the connection ends: a lingering close.
        case linger
        /// All written: go on with what is buffered, then read again.
        case resume
    }

    /// What a read's result leads to (`received`).
    enum ReceiveAction: Equatable {
        /// Bytes of a request: process them.
        case process
        /// Lingering: drop them.
        case drop
        /// Lingering and over its budget: drop them and close.
        case dropAndClose
    }

    /// What a lingering close's request leads to (`linger`).
    enum LingerAction: Equatable {
        /// Already lingering or closed.
        case none
        /// The peer closed already: close at once.
        case close
        /// Shut down the sending side (FIN), drop what the client still sends, read again.
        case shutdownWrite
    }

    /// What the TLS handshake's progress leads to (`handshake`).
    enum HandshakeAction: Equatable {
        /// It needs more from the socket.
        case wait
        /// Done: read what followed it; `idleSince` as in `InputStep.awaitRequest`.
        case read(idleSince: UInt64?)
        /// Answer in clear with this error and close.
        case fail(HTTPError)
        /// Close at once.
        case close
    }

    // MARK: - State

    /// The part of the exchange the connection is in.
    private(set) var phase = ConnectionPhase.idle
    /// The client sent its FIN (a read returned 0): buffered requests are still answered.
    private(set) var peerClosed = false
    /// The server drains: every response carries `Connection: close`.
    private(set) var draining = false
    /// The response being written ends the connection.
    private(set) var closeAfterWrite = false
    /// A response waits for the socket: reading and parsing pause.
    private(set) var writePending = false
    /// Bytes a lingering close still reads and drops before it closes.
    private var lingerBudget = 0
    /// When the request in progress began (its first byte, or the failure
    /// that answered before one): its exchange's duration counts from it.
    private(set) var requestStart: UInt64 = 0
    /// Monotonic nanoseconds after which the sweeper asks the connection to
    /// check its timeout (`timerFired`); 0 for none. The shell publishes it.
    private(set) var deadline: UInt64 = 0
    /// The timing rules: the next deadline after each event.
    private(set) var timer: ConnectionTimer<Clock>

    /// Admitted past the connection cap: its request is answered 503.
    let isOverflow: Bool
    private let limits: Limits
    /// `ServerConfiguration.discardBodyBytes`.
    private let discardBodyBytes: Int
    /// `ServerConfiguration.inlineBodyBytes`.
    private let inlineBodyBytes: Int
    /// `ServerConfiguration.lingerBytes`.
    private let lingerBytes: Int

    init(configuration: ServerConfiguration, clock: Clock, overflow: Bool = false) {
        timer = ConnectionTimer(configuration: configuration, clock: clock)
        isOverflow = overflow
        limits = configuration.limits
        discardBodyBytes = configuration.discardBodyBytes
        inlineBodyBytes = configuration.inlineBodyBytes
        lingerBytes = configuration.lingerBytes
    }

    /// The clock's time.
    @inline(__always)
    func now() -> UInt64 { timer.now() }

    /// Reading is paused: a response waits for the socket, or the connection is closed.
    var readsPaused: Bool { writePending || phase == .closed }

    /// Between requests, nothing to write and the connection not ending:
    /// where it may go back to the event loop's thread and the normal buffer.
    var atRequestBoundary: Bool { phase == .idle && !writePending && !closeAfterWrite }

    /// Between requests with nothing buffered and nothing to write: what an
    /// eviction or the drain may end without losing a request.
    func isQuiet(bufferEmpty: Bool) -> Bool {
        phase == .idle && bufferEmpty && !writePending
    }

    /// Seconds since the request began, for its exchange.
    func requestDuration() -> Double {
        Double(now() &- requestStart) / 1e9
    }

    // MARK: - Life cycle

    /// The connection was registered and starts reading. `draining`: accepted
    /// once the drain began. Returns the idle time to publish, if any.
    mutating func started(draining: Bool, tls: Bool, bufferEmpty: Bool) -> UInt64? {
        self.draining = self.draining || draining
        if isOverflow || tls {
            // Only to say 503, or a TLS handshake: within the head timeout; the idle one starts after it.
            deadline = timer.headStarted()
        } else if self.draining {
            // Accepted during the drain: its request is answered if it comes within the grace.
            // (Or the drain began before the start and answered a request already: that set the deadline.)
            if isQuiet(bufferEmpty: bufferEmpty) { awaitLastRequest() }
        } else {
            return waitForRequest()
        }
        return nil
    }

    /// The TLS handshake moved on.
    mutating func handshake(_ progress: TLSStream.Handshake) -> HandshakeAction {
        switch progress {
        case .pending:
            return .wait
        case .done:
            return .read(idleSince: waitForRequest())
        case .plainHTTP:
            // Answered in clear (as nginx and Go answer it), so the user sees why instead of a reset.
            return .fail(HTTPError(status: .badRequest, detail: "this port speaks HTTPS: send the request over TLS (https://)"))
        case .failed:
            return .close
        }
    }

    /// Between requests with nothing buffered or pending: the idle timeout
    /// runs, and the connection becomes a candidate for eviction at the
    /// connection cap (the returned time). An overflow connection keeps its
    /// head timeout; a draining one waits for the drain's idle grace.
    private mutating func waitForRequest() -> UInt64? {
        guard !isOverflow else { return nil }
        if draining {
            awaitLastRequest()
            return nil
        }
        let (due, now) = timer.idle()
        deadline = due
        return now
    }

    /// Draining and idle, nothing of a next request received: a keep-alive
    /// client in a request loop may have written it already, so the
    /// connection is kept until the timer's `drainIdleDeadline` rather than
    /// closed, which would lose that request.
    private mutating func awaitLastRequest() {
        deadline = timer.drainIdle()
    }

    /// The descriptor is to be closed: false when it already was.
    mutating func closed() -> Bool {
        guard phase != .closed else { return false }
        phase = .closed
        deadline = 0
        return true
    }

    // MARK: - Reading

    /// A read returned `count` bytes.
    mutating func received(_ count: Int) -> ReceiveAction {
        guard phase == .lingering else { return .process }
        lingerBudget -= count
        return lingerBudget <= 0 ? .dropAndClose : .drop
    }

    /// A read returned 0: the client will send no more. True: close now
    /// (a lingering close is done); false: answer what is buffered.
    mutating func peerDidClose() -> Bool {
        peerClosed = true
        return phase == .lingering
    }

    /// The read buffer is full and the parser or decoder still wants more:
    /// a line no limit allows (`fail`), or a dropped body's (`linger`).
    func bufferFull(droppingBody: Bool) -> BodyAction {
        if phase == .body && droppingBody { return .linger }
        return .fail(HTTPError(status: phase == .body ? .badRequest : .requestHeaderFieldsTooLarge,
                               detail: phase == .body ? "a chunk-size line is too long"
                                   : "the request head is larger than \(limits.maxHeaderBytes) bytes"))
    }

    /// What to do with the buffered bytes (`bufferEmpty`: none), asked
    /// again after every step until it says `wait`, `close` or `fail`.
    /// `droppingBody` and `decodedBodyBytes` are the body stage's.
    mutating func nextInput(bufferEmpty: Bool, droppingBody: Bool, decodedBodyBytes: Int) -> InputStep {
        guard !writePending && !closeAfterWrite else { return .wait }
        switch phase {
        case .idle, .head:
            if bufferEmpty {
                if peerClosed { return .close }
                if phase == .idle { return .awaitRequest(idleSince: waitForRequest()) }
                return .wait
            }
            guard phase == .idle else { return .parseHead(first: false) }
            phase = .head
            requestStart = now()
            deadline = timer.headStarted()
            return .parseHead(first: true)
        case .body:
            if bufferEmpty {
                if peerClosed && droppingBody { return .close }  // already answered
                if peerClosed {
                    return .fail(HTTPError(status: .badRequest,
                                           detail: "the request body ended after \(decodedBodyBytes) bytes, before its end (RFC 9112 §6)"))
                }
                return .wait
            }
            return .readBody
        case .lingering, .closed:
            return .wait
        }
    }

    /// The parser needs more than the `buffered` bytes; `atHeadBound`: the
    /// buffer can grow no more. Nil to wait for more, else the error to fail with.
    func headIncomplete(buffered: Int, atHeadBound: Bool) -> HTTPError? {
        if peerClosed {
            // The client half-closed mid-head; it may still be reading, so tell it why.
            return HTTPError(status: .badRequest,
                             detail: "the request head ended after \(buffered) bytes, before its empty line (RFC 9112 §2.1)")
        }
        if atHeadBound {
            return HTTPError(status: .requestHeaderFieldsTooLarge,
                             detail: "the request head is larger than \(limits.maxHeaderBytes) bytes")
        }
        return nil
    }

    // MARK: - Requests

    /// A request head parsed, its body framed as `framing`.
    func headParsed(_ head: RequestHead, framing: BodyFraming) -> HeadAction {
        if isOverflow { return .refuseOverCap }
        do throws(HTTPError) {
            let plan = try BodyPlan(head: head, framing: framing, limits: limits)
            return .respond(plan, heavy: !plan.runsInline(inlineBodyBytes: inlineBodyBytes))
        } catch {
            return .fail(error)
        }
    }

    /// The responder answered from the head alone, before the body was read.
    mutating func answered(_ plan: BodyPlan) -> ReplyAction {
        // The phase is set before the response is sent, which may end the connection.
        switch plan.earlyAnswer(discardBodyBytes: discardBodyBytes) {
        case .noBody:
            phase = .idle
            return .send(close: false)
        case .discardBody:
            startBody()
            return .dropBodyAndSend(BodyPlan(length: plan.length, expectsContinue: plan.expectsContinue, gzip: false))
        case .close:
            return .send(close: true)
        }
    }

    /// The responder wants the body, as `plan` frames it.
    mutating func bodyWanted(_ plan: BodyPlan) -> ReplyAction {
        if plan.length == 0 {
            phase = .idle
            return .finishAndSend
        }
        startBody()
        return .readBody(plan, sendContinue: plan.expectsContinue)
    }

    /// Enters the body phase: its timing rules start now (the deadline waits
    /// for a pending write, whose own deadline rules until it is written).
    private mutating func startBody() {
        phase = .body
        let due = timer.bodyStarted()
        if !writePending { deadline = due }
    }

    /// The body stage took `consumed` bytes of the buffer and said `step`.
    mutating func bodyRead(consumed: Int, step: BodyReader.Step) -> BodyAction {
        switch step {
        case .failed(let error) where consumed == 0:
            return .fail(error)
        case .stopDropping where consumed == 0:
            return .linger
        default:
            break
        }
        deadline = timer.bodyRead(consumed)
        switch step {
        case .needMore:
            return .none
        case .failed(let error):
            return .fail(error)
        case .stopDropping:
            return .linger
        case .answeredEarly(let response, let bodyEnded, let close):
            if bodyEnded { phase = .idle }
            return .send(response, close: close)
        case .finished(let response):
            phase = .idle
            if let response { return .send(response, close: false) }
            return .none
        }
    }

    /// The connection answers with its own problem document and closes.
    mutating func failing() {
        if phase == .idle { requestStart = now() }
    }

    // MARK: - Writing

    /// Whether the response about to be encoded must close the connection
    /// for the connection's own reasons: `close` (an error, a refused
    /// body), its drain, or the server's (`drainBegun`).
    func closes(_ close: Bool, drainBegun: Bool) -> Bool {
        close || draining || drainBegun
    }

    /// The response was encoded; `closing`: it ends the connection
    /// (`ResponseEncoder.encode`'s decision, keep-alive per RFC 9112 §9.3).
    mutating func encoded(closing: Bool) {
        if closing { closeAfterWrite = true }
    }

    /// The first write of a response (or `100 Continue`) of `total` bytes
    /// took `written` of them (-1: the socket failed).
    mutating func wrote(_ written: Int, of total: Int) -> WriteAction {
        if written < 0 { return .close }
        if written == total { return closeAfterWrite ? .linger : .resume }
        // The slow path: the rest waits for the socket; reading pauses.
        writePending = true
        deadline = timer.sendBlocked(at: written)
        return .waitWritable
    }

    /// The socket took the pending response up to `offset` of its bytes; `complete`: all of them.
    mutating func sent(upTo offset: Int, complete: Bool) -> WriteAction {
        deadline = timer.sent(upTo: offset)
        guard complete else { return .waitWritable }
        writePending = false
        if closeAfterWrite { return .linger }
        deadline = phase == .body ? timer.bodyRead(0) : timer.idle().deadline
        return .resume
    }

    /// Staged close (RFC 9112 §9.6): send FIN, then read and drop what the
    /// client still sends (at most `ServerConfiguration.lingerBytes`, within
    /// `lingerTimeout`), so that closing with unread bytes does not reset the
    /// connection before the client has read the last response.
    mutating func linger() -> LingerAction {
        guard phase != .lingering && phase != .closed else { return .none }
        if peerClosed { return .close }
        phase = .lingering
        lingerBudget = lingerBytes
        deadline = timer.lingering()
        return .shutdownWrite
    }

    // MARK: - Deadlines, eviction, drain

    /// The sweeper saw the deadline pass: what to do, or nil when it has not
    /// (a later event moved it). See `ConnectionTimer.expiry`.
    func timerFired(droppingBody: Bool, handshakeDone: Bool) -> ConnectionTimer<Clock>.Expiry? {
        timer.expiry(of: deadline, phase: phase, writePending: writePending, droppingBody: droppingBody,
                     draining: draining, handshakeDone: handshakeDone)
    }

    /// The server chose this connection, idle the longest, to make room at
    /// the connection cap (RFC 9112 §9.3.1: a client must expect an idle
    /// connection to close). True: end it (a lingering close); false: a
    /// request came meanwhile, keep it.
    func evictionRequested(bufferEmpty: Bool) -> Bool {
        isQuiet(bufferEmpty: bufferEmpty) && !closeAfterWrite
    }

    /// The server began draining: from now on every response carries
    /// `Connection: close`. True: the connection is idle, read a last time
    /// (a request the kernel already holds is answered), then call `drainReadDone`.
    mutating func drainRequested(bufferEmpty: Bool, handshakeDone: Bool) -> Bool {
        draining = true
        return isQuiet(bufferEmpty: bufferEmpty) && handshakeDone
    }

    /// The drain's last read found nothing (`bufferEmpty` and still idle):
    /// wait for the rest of the drain's idle grace.
    mutating func drainReadDone(bufferEmpty: Bool) {
        if isQuiet(bufferEmpty: bufferEmpty) { awaitLastRequest() }
    }

    /// The drain's idle grace passed (`Expiry.endIdleDrain`): true when still
    /// idle, to read a last time (then `idleDrainReadDone`); false when a request came meanwhile.
    func idleDrainEnded(bufferEmpty: Bool) -> Bool {
        isQuiet(bufferEmpty: bufferEmpty)
    }

    /// After the last read of an idle drain: true to end with a lingering
    /// close (nothing came), false when a request came and is being answered.
    func idleDrainReadDone(bufferEmpty: Bool) -> Bool {
        isQuiet(bufferEmpty: bufferEmpty)
    }
}
