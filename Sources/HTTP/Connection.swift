#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// One client connection: reads requests, hands them to the responder and
/// writes the responses, in order, on the connection's own serial queue.
///
/// The I/O shell around a pure state machine. `ConnectionStateMachine`
/// makes every decision: the phase of the exchange, keep-alive or close,
/// pipelining order and backpressure, what a full buffer, a half-close or a
/// passed deadline means, the drain and the eviction; it owns the deadline
/// (`ConnectionTimer` over a clock computes it). The shell reads and writes
/// the socket or TLS stream, runs the pure stages and reports what each said
/// as an event, then carries out the action it gets back. The stages are
/// stored inline (no indirection, nothing allocated per request):
/// `ReadBuffer` (buffer growth), `RequestParser`, `BodyPlan` (what `Expect`
/// and `Content-Encoding` mean), `BodyReader` (the body stage),
/// `ResponseEncoder` (head, gzip, whether the request keeps the connection)
/// and `PendingWrite` (the bytes of a response the socket has not taken).
/// What stays here is what touches the world: `read`, `sendmsg`, `shutdown`
/// and `close`, the event loop's registration, the responder and its
/// handlers, the exchange reported for each response, and where an event
/// runs (inline or offloaded, below).
///
/// Backpressure: while a response (or a `100 Continue`) is not yet wholly
/// accepted by the socket, the connection neither reads nor parses
/// (`ConnectionStateMachine.readsPaused`), so a client that pipelines
/// requests without reading the answers stalls itself and never grows a
/// buffer. Requests already buffered are answered one at a time, each after
/// the previous response was written.

/// Hot path, written for speed on purpose: one read buffer reused for every
/// request, the response head serialised into one reused array, head and
/// body sent with one `sendmsg`, and timeouts kept as one atomic deadline
/// (swept by the server) rather than a timer rescheduled per request. The
/// minimum body and send rates and the body's total duration are folded into
/// that deadline (the earliest rule wins), so enforcing them is arithmetic
/// after each read or write, nothing more.
///
/// TLS: with a `TLSStream`, the handshake runs first (within the head
/// timeout), then every read and write goes through the stream, which keeps
/// the contract of `read` and `sendmsg`; the rest is the same over TLS.
///
/// Where it runs (`handle(_:)`): the event loop's thread runs a readiness
/// event itself, inside `queue.sync`, while the connection is cheap: between
/// requests, or in a request whose body is declared at most
/// `ServerConfiguration.inlineBodyBytes` without a content coding. The hop to
/// a Dispatch worker and back cost two context switches per small request,
/// about half its CPU (measured: sys 13-19 µs per request inline against
/// 29-32 µs with the hop). A request with a larger, chunked or gzip body, and
/// every TLS connection (a handshake is milliseconds of CPU), makes the
/// connection *offloaded*: its events go to `queue` with `async`, as do
/// sweeper and drain calls, and an event that was running inline when the
/// request turned out heavy stops and goes on in an `async` block. It
/// becomes inline again only at a request boundary, and the loop runs it
/// inline only once no `async` block for it is queued or running (counted in
/// `queuedBlocks`), so the loop never `sync`s onto a queue busy with heavy
/// work and other connections on the loop never wait behind it.
///
/// Confinement: every stored `var` is touched only on `queue` (inline events
/// run inside `queue.sync`, so they are on it too); the state shared with
/// other threads is atomic: `deadline` (the machine's, published at the end
/// of each event), which the server's sweeper reads; `idleSince`, which the
/// server reads and claims at the connection cap; and `offloaded`,
/// `queuedBlocks` and `offloadedEvents`, which the loop reads. These only choose where an event runs, never whether it is
/// serialised. Hence `@unchecked Sendable`.
final class Connection: @unchecked Sendable {
    let queue: DispatchQueue
    /// Monotonic nanoseconds after which the sweeper asks this connection to
    /// check its timeout; 0 for none. The machine's `deadline`, published at
    /// the end of every event (`publishDeadline`).
    let deadline = Atomic<UInt64>(0)
    /// Monotonic nanoseconds since which the connection has waited for a
    /// request with nothing buffered or pending; 0 while it is not idle. Set
    /// on `queue`; the server reads it, and claims the connection (stores 0),
    /// when it looks for one to evict at the connection cap.
    let idleSince = Atomic<UInt64>(0)
    /// Admitted past the connection cap: its request is answered 503 and the connection closed.
    let isOverflow: Bool
    /// True while events must go to `queue` asynchronously: a heavy request
    /// is in progress, or the connection is TLS. Set on `queue`, read by the loop.
    private let offloaded: Atomic<Bool>
    /// `async` blocks for this connection queued or running; the loop runs an
    /// event inline only when there are none.
    private let queuedBlocks = Atomic<Int>(0)
    /// Readiness events of an offloaded connection not yet taken by a block
    /// on `queue`: events that come while one waits join it instead of
    /// queueing (and waking a worker for) another.
    private let offloadedEvents = Atomic<UInt32>(0)
    /// True while an event runs inline on the loop's thread.
    private var runningInline = false
    /// Set when a request turned heavy during an inline event: reading and
    /// parsing stop, and go on in an `async` block.
    private var mustHandOff = false

    private let fd: Int32
    /// TLS over `fd`, or nil for plain TCP: every read and write goes through it when set.
    private let tls: TLSStream?
    /// Strong: the server keeps its connections until each unregisters, so neither outlives the other by accident.
    private let server: Server
    private let configuration: ServerConfiguration
    private let limits: Limits
    private let responder: any Responder

    private let loop: EventLoop
    /// This connection's key in the event loop; never reused.
    private let id: UInt64

    /// Every decision: the phase, keep-alive or close, backpressure, the deadline.
    private var machine: ConnectionStateMachine<SystemClock>
    /// The read buffer, reused for every request, and its growth rules.
    private var readBuffer: ReadBuffer
    private var parser: RequestParser
    private var encoder: ResponseEncoder
    /// The body stage: framing, content coding, the limit, the handler or dropping.
    private var bodyReader: BodyReader

    /// The unsent response: its head and body arrays (shared, not copied),
    /// how many bytes of the two, in order, the socket has taken, and the
    /// exchange to report once it has taken them all.
    private var pending: PendingWrite?

    /// The request in progress (nil before its head parsed).
    private var current: RequestHead?
    /// True from `respond(to:)` until its exchange is reported.
    private var exchangeOpen = false

    /// The status reported for a routed request whose client went away before
    /// its response could be written (nginx's convention).
    static let clientClosedRequest = Status(code: 499, reasonPhrase: "Client Closed Request")

    init(fd: Int32, tls: TLSStream? = nil, id: UInt64, server: Server, loop: EventLoop, queue: DispatchQueue,
         overflow: Bool = false) {
        self.fd = fd
        self.isOverflow = overflow
        self.tls = tls
        self.id = id
        self.loop = loop
        self.server = server
        self.queue = queue
        self.configuration = server.configuration
        self.limits = server.configuration.limits
        self.responder = server.responder
        self.parser = RequestParser(limits: server.configuration.limits)
        self.encoder = ResponseEncoder(gzipMinimumBytes: server.configuration.gzipMinimumBytes,
                                       gzipLevel: server.configuration.gzipLevel)
        self.readBuffer = ReadBuffer(configuration: server.configuration)
        self.offloaded = Atomic(tls != nil)
        self.machine = ConnectionStateMachine(configuration: server.configuration, clock: server.clock,
                                              overflow: overflow)
        self.bodyReader = BodyReader(limits: server.configuration.limits,
                                     discardBodyBytes: server.configuration.discardBodyBytes)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// The part of the exchange the connection is in, read on `queue` (for
    /// the tests, which wait for a phase before moving the server's clock).
    /// Never call it on `queue`.
    var phase: ConnectionPhase { queue.sync { machine.phase } }

    /// Wire bytes of the body in progress read so far, read on `queue` (for
    /// the tests, which wait for them before moving the server's clock).
    /// Never call it on `queue`.
    var bodyBytesRead: Int { queue.sync { machine.timer.bodyWireBytes } }

    /// When the drain's idle grace ends (monotonic nanoseconds on the
    /// server's clock), 0 until the drain armed it; read on `queue` (for the
    /// tests: the published `deadline` may be another rule's meanwhile, such
    /// as a pending answer's write timeout). Never call it on `queue`.
    var drainIdleDeadline: UInt64 { queue.sync { machine.timer.drainIdleDeadline } }

    /// Stores the machine's deadline where the sweeper reads it. Every event
    /// ends with it (a `defer` in each entry point on `queue`), so the sweeper
    /// sees each event's last deadline; one that it saw pass meanwhile is
    /// checked again against the machine's (`deadlinePassed`).
    @inline(__always)
    private func publishDeadline() {
        deadline.store(machine.deadline, ordering: .relaxed)
    }

    /// Stores when the connection became idle, for the server's eviction at the cap.
    @inline(__always)
    private func publishIdle(_ since: UInt64?) {
        if let since { idleSince.store(since, ordering: .relaxed) }
    }

    // MARK: - Life cycle

    /// Starts reading; called once, after the server registered the connection.
    /// `draining`: accepted once the drain began (during its accept grace, or
    /// from the listener's backlog as it closed), so its response ends it.
    func activate(draining: Bool = false) {
        // On the accepting thread when nothing is queued for the connection (the usual case), not
        // on a Dispatch worker: heavy requests on other connections may keep every worker busy,
        // and a new client must not wait for them (measured: no answer in 4 s under 2 large bodies).
        if queuedBlocks.load(ordering: .acquiring) == 0 {
            queue.sync { start(draining: draining) }
        } else {
            async { [draining] connection in connection.start(draining: draining) }
        }
    }

    private func start(draining: Bool) {
        guard machine.phase != .closed else { return }  // a drain may have closed it before it started
        defer { publishDeadline() }
        publishIdle(machine.started(draining: draining, tls: tls != nil, bufferEmpty: readBuffer.isEmpty))
        guard loop.add(self, fd: fd, id: id) else {
            _ = machine.closed()
            Glibc.close(fd)
            server.unregister(self)
            return
        }
    }

    /// Runs `work` on `queue` asynchronously, counted in `queuedBlocks`.
    /// Every asynchronous call into a connection goes through here.
    func async(_ work: @escaping @Sendable (Connection) -> Void) {
        queuedBlocks.add(1, ordering: .relaxed)
        queue.async { [self] in
            work(self)
            queuedBlocks.subtract(1, ordering: .releasing)
        }
    }

    /// Runs `work` on `queue`: on the calling thread when the connection is
    /// cheap and nothing is queued for it (as the loop runs events), else
    /// asynchronously; so the server's sweeper is not kept waiting for a
    /// Dispatch worker by heavy requests elsewhere. Never call it on a
    /// connection's queue (`queue.sync` there would deadlock).
    func performSoon(_ work: @escaping @Sendable (Connection) -> Void) {
        if queuedBlocks.load(ordering: .acquiring) == 0 && !offloaded.load(ordering: .relaxed) {
            queue.sync { work(self) }
        } else {
            async(work)
        }
    }

    /// Called on the event loop's thread for each readiness event: runs it
    /// there while the connection is cheap, else on `queue` (see the type's
    /// comment for the rule and why).
    func handle(_ events: UInt32) {
        // Blocks first: once the last one is seen to have ended (acquire), whatever it stored in `offloaded` is seen too.
        guard queuedBlocks.load(ordering: .acquiring) == 0 && !offloaded.load(ordering: .relaxed) else {
            // The block reads after taking the events, so an event joined before that is not missed.
            if offloadedEvents.bitwiseOr(events, ordering: .acquiringAndReleasing).oldValue == 0 {
                async { $0.ioReady($0.offloadedEvents.exchange(0, ordering: .acquiringAndReleasing)) }
            }
            return
        }
        queue.sync {
            runningInline = true
            ioReady(events)
            runningInline = false
            if mustHandOff {
                mustHandOff = false
                async { $0.continueOffloaded() }
            }
        }
    }

    /// Goes on where an inline event stopped once its request turned heavy:
    /// what is buffered first, then the socket (its edge may have passed).
    private func continueOffloaded() {
        guard machine.phase != .closed else { return }
        defer { publishDeadline() }
        processInput()
        resumeReading()
    }

    /// The request in progress is heavy: from now on events run on `queue`,
    /// and an inline event in progress hands off at once.
    private func offload() {
        offloaded.store(true, ordering: .relaxed)
        if runningInline { mustHandOff = true }
    }

    /// Between requests: back to inline events (unless TLS), and back to the
    /// normal read buffer after a large body or head, if what it holds fits.
    private func requestBoundary() {
        if tls == nil && offloaded.load(ordering: .relaxed) { offloaded.store(false, ordering: .relaxed) }
        readBuffer.shrinkToNormal()
    }

    /// Closes a connection that was never started (over the cap, or draining).
    func discard() {
        _ = machine.closed()
        Glibc.close(fd)
    }

    /// The server chose this connection, idle the longest, to make room for a
    /// new one at the connection cap: a clean close (FIN, then a lingering
    /// close) if it is still idle, else nothing (a request came meanwhile).
    func evict() {
        guard machine.evictionRequested(bufferEmpty: readBuffer.isEmpty) else { return }
        defer { publishDeadline() }
        linger()
    }

    /// The server began draining: from now on every response carries
    /// `Connection: close` and ends the connection. A request in progress is
    /// answered. An idle connection reads a last time (a request the kernel
    /// already holds is answered), then waits for the rest of
    /// `ServerConfiguration.drainIdleGrace` (see `endIdleDrain`).
    func beginDrain() {
        defer { publishDeadline() }
        guard machine.drainRequested(bufferEmpty: readBuffer.isEmpty, handshakeDone: tls?.isEstablished ?? true)
        else { return }
        readable(untilEmpty: true)
        machine.drainReadDone(bufferEmpty: readBuffer.isEmpty)
    }

    /// The drain's idle grace passed: reads a last time (a request the kernel
    /// holds is answered, with `Connection: close`), else ends with a
    /// lingering close: a FIN, so a client sees a clean end, never the reset a
    /// close with unread bytes sends.
    private func endIdleDrain() {
        guard machine.idleDrainEnded(bufferEmpty: readBuffer.isEmpty) else { return }  // a request came meanwhile
        defer { publishDeadline() }
        readable(untilEmpty: true)
        if machine.idleDrainReadDone(bufferEmpty: readBuffer.isEmpty) { linger() }
    }

    /// Called by the server's sweeper once `deadline` has passed.
    func deadlinePassed() {
        defer { publishDeadline() }
        let expiry = machine.timerFired(droppingBody: bodyReader.isDropping, handshakeDone: tls?.isEstablished ?? true)
        switch expiry {
        case nil:
            return
        case .endIdleDrain:
            async { $0.endIdleDrain() }  // not on the sweeper's thread: the last read may find a heavy request
        case .close:
            close()
        case .linger:
            linger()  // an early answer was sent; the rest of its body is not worth waiting for
        case .fail(let error):
            fail(error)
        }
    }

    /// Closes at once: leaves the event loop, then closes the descriptor.
    func close() {
        guard machine.closed() else { return }
        publishDeadline()
        if exchangeOpen || pending?.exchange != nil {
            report(pending?.exchange ?? exchange(status: Connection.clientClosedRequest, responseBodyBytes: 0))
        }
        bodyReader.abandon()
        loop.remove(fd: fd, id: id)  // before close, so the number can be reused safely
        Glibc.close(fd)
        server.unregister(self)
    }

    /// Called on `queue` for each readiness event of the socket.
    func ioReady(_ events: UInt32) {
        guard machine.phase != .closed else { return }
        defer { publishDeadline() }
        if let tls, !tls.isEstablished {
            continueHandshake(tls)
            return
        }
        if events & EventLoop.writeEvents != 0 && machine.writePending { writable() }
        // A hang-up rides on the same edge as the last bytes: read on to the end, past a short read.
        // TLS: a read may wait for the socket to take a write (a key update's answer), so retry on that edge too.
        if events & EventLoop.readEvents != 0 || (tls != nil && events & EventLoop.writeEvents != 0) {
            readable(untilEmpty: events & EventLoop.hangUpEvents != 0)
        }
    }

    /// Runs the TLS handshake on as far as the socket allows; once it is
    /// done, reads what followed it. The head timeout bounds it (see `start`).
    private func continueHandshake(_ tls: TLSStream) {
        switch machine.handshake(tls.handshake()) {
        case .wait:
            return
        case .read(let since):
            publishIdle(since)
            readable(untilEmpty: true)
        case .fail(let error):
            fail(error)
        case .close:
            close()
        }
    }

    /// Reads again after a pause: the edge that announced the bytes waiting
    /// now may have come, and gone, during the pause.
    private func resumeReading() {
        guard !machine.peerClosed else { return }
        readable(untilEmpty: true)
    }

    // MARK: - Reading

    /// Reads until the socket is drained (edge-triggered: a short read or
    /// EAGAIN; with `untilEmpty`, EAGAIN or the end), answering as it goes;
    /// stops while a write is pending (`machine.readsPaused`).
    private func readable(untilEmpty: Bool = false) {
        while !machine.readsPaused && !mustHandOff {
            readBuffer.makeRoom(largeBody: machine.phase == .body && bodyReader.isLarge(than: configuration.inlineBodyBytes))
            if readBuffer.isFull {
                // Full and the parser or decoder still wants more: a line no limit allows.
                perform(machine.bufferFull(droppingBody: bodyReader.isDropping))
                return
            }
            let (space, room) = readBuffer.freeSpace
            let count = tls == nil ? read(fd, space, room) : tls!.read(space, room)
            if count > 0 {
                switch machine.received(count) {
                case .process:
                    readBuffer.didRead(count)
                    processInput()
                case .drop:
                    readBuffer.clear()
                case .dropAndClose:
                    readBuffer.clear()
                    close()
                    return
                }
                // A short read drained the socket; bytes arriving later raise a new edge.
                // Not so for TLS, which reads a record at a time: it reads on until EAGAIN.
                if count < room && !untilEmpty && tls == nil { return }
            } else if count == 0 {
                if machine.peerDidClose() {
                    close()
                } else {
                    processInput()  // the buffered requests are still answered
                }
                return
            } else if errno == EINTR {
                continue
            } else {
                if errno != EAGAIN && errno != EWOULDBLOCK {
                    close()  // ECONNRESET and the like: nobody left to answer
                }
                return
            }
        }
    }

    /// Answers what the buffer holds, request after request, as the machine
    /// directs, until it needs more bytes, a write is pending, or the
    /// connection is ending.
    private func processInput() {
        while !mustHandOff {
            if machine.atRequestBoundary { requestBoundary() }
            switch machine.nextInput(bufferEmpty: readBuffer.isEmpty, droppingBody: bodyReader.isDropping,
                                     decodedBodyBytes: bodyReader.decodedBytes) {
            case .wait:
                return
            case .awaitRequest(let since):
                publishIdle(since)
                return
            case .close:
                close()
                return
            case .fail(let error):
                fail(error)
                return
            case .parseHead(let first):
                if first {
                    idleSince.store(0, ordering: .relaxed)
                    current = nil
                }
                switch parser.parse(readBuffer.unread) {
                case .incomplete:
                    if let error = machine.headIncomplete(buffered: readBuffer.count,
                                                          atHeadBound: readBuffer.isFullAtHeadBound) {
                        fail(error)
                    }
                    return
                case .failed(let error):
                    fail(error)
                case .complete(let head, let framing, let headLength):
                    readBuffer.consume(headLength)
                    parser.reset()
                    begin(head, framing)
                }
            case .readBody:
                let (consumed, step) = bodyReader.read(readBuffer.unread)
                readBuffer.consume(consumed)
                perform(machine.bodyRead(consumed: consumed, step: step))
            }
        }
    }

    // MARK: - Requests

    private func begin(_ head: RequestHead, _ framing: BodyFraming) {
        current = head
        bodyReader.reset()
        let plan: BodyPlan
        switch machine.headParsed(head, framing: framing) {
        case .refuseOverCap:
            refuseOverCap()
            return
        case .fail(let error):
            fail(error)
            return
        case .respond(let bodyPlan, let heavy):
            plan = bodyPlan
            // Decoding it, and then answering, may take long: not on the event loop's thread.
            if heavy { offload() }
        }

        exchangeOpen = true
        switch responder.respond(to: head) {
        case .response(let response):
            switch machine.answered(plan) {
            case .send(let close):
                send(response, close: close)
            case .dropBodyAndSend(let dropPlan):
                bodyReader.start(dropPlan, handler: nil)
                send(response)
            case .readBody, .finishAndSend:
                preconditionFailure("an answer from the head reads no body for a handler")
            }
        case .body(let bodyHandler):
            switch machine.bodyWanted(plan) {
            case .finishAndSend:
                send(bodyHandler.finish())
            case .readBody(let bodyPlan, let sendContinue):
                bodyReader.start(bodyPlan, handler: bodyHandler)
                if sendContinue { enqueue(ResponseWriter.continueHead, body: [], exchange: nil) }
            case .send, .dropBodyAndSend:
                preconditionFailure("a body handler's request is read or finished")
            }
        }
    }

    /// Carries out what a body step (or a full buffer) led to.
    private func perform(_ action: ConnectionStateMachine<SystemClock>.BodyAction) {
        switch action {
        case .none:
            return
        case .fail(let error):
            fail(error)
        case .linger:
            linger()
        case .send(let response, let close):
            send(response, close: close)
        }
    }

    // MARK: - Responses

    /// Answers with the server's own problem document and closes: after a
    /// parse error, a timeout or a refused body the stream is no longer in step.
    private func fail(_ error: HTTPError) {
        bodyReader.abandon()
        machine.failing()
        send(Problem(status: error.status, detail: error.detail).response, close: true)
    }

    /// The answer to a request on an overflow connection (admitted past the
    /// connection cap): 503 with `Retry-After` (RFC 9110 §15.6.4, §10.2.3),
    /// then a lingering close. Not routed: it counts as the server's own
    /// problem, like a 408.
    private func refuseOverCap() {
        var response = Problem(
            status: .serviceUnavailable,
            detail: "the server is at its limit of \(limits.maxConnections) connections and none is idle;"
                + " retry after \(configuration.overloadRetryAfter) second\(configuration.overloadRetryAfter == 1 ? "" : "s")")
            .response
        response.headers.add("Retry-After", String(configuration.overloadRetryAfter))
        send(response, close: true)
    }

    /// Prepares, checks, compresses and writes `response` for the current request.
    private func send(_ original: Response, close: Bool = false) {
        let head = current
        var response = original
        responder.prepare(&response, for: head)
        if let problem = ResponseWriter.problem(in: response) {
            configuration.log("invalid response to \(head.map { "\($0.method.rawValue) \($0.path)" } ?? "an unparsed request"): \(problem); sent 500 instead")
            response = Problem(status: .internalServerError, detail: "the server made an invalid response").response
            responder.prepare(&response, for: head)
            if ResponseWriter.problem(in: response) != nil {
                response = Problem(status: .internalServerError, detail: "the server made an invalid response").response
            }
        }

        let (body, closing) = encoder.encode(
            response, for: head, close: machine.closes(close, drainBegun: server.drainBegun.load(ordering: .relaxed)))
        machine.encoded(closing: closing)
        let exchange = exchange(status: response.status, responseBodyBytes: body.count)
        exchangeOpen = false
        enqueue(encoder.head, body: body, exchange: exchange)
    }

    private func exchange(status: Status, responseBodyBytes: Int) -> Exchange {
        // The duration is filled in by `report`, once the last byte is written.
        Exchange(head: current, wasRouted: exchangeOpen, status: status, requestBodyBytes: bodyReader.decodedBytes,
                 responseBodyBytes: responseBodyBytes, duration: 0)
    }

    private func report(_ exchange: Exchange) {
        var exchange = exchange
        exchange.duration = machine.requestDuration()
        pending?.exchange = nil
        exchangeOpen = false
        responder.completed(exchange)
    }

    /// Writes head and body with one system call; what the socket does not
    /// take is kept and written when it can take more, with reading paused.
    private func enqueue(_ head: [UInt8], body: [UInt8], exchange: Exchange?) {
        if runningInline && tls == nil && loop.defersWrites {
            // Written at the end of the loop's round with its other answers (see EventLoop.run):
            // the slow path's pending write, reading paused until then.
            pending = PendingWrite(head: head, body: body, written: 0, exchange: exchange)
            _ = machine.wrote(0, of: head.count + body.count)
            loop.deferWrite(self)
            return
        }
        let written = sendVectors(head, body, from: 0)
        switch machine.wrote(written, of: head.count + body.count) {
        case .close:
            if let exchange { report(exchange) }
            close()
        case .linger:
            if let exchange { report(exchange) }
            linger()
        case .resume:
            if let exchange { report(exchange) }
        case .waitWritable:
            // The slow path: keep the rest and wait until the socket takes more.
            // Reading pauses; the loop's next writable edge resumes the write.
            pending = PendingWrite(head: head, body: body, written: written, exchange: exchange)
        }
    }

    /// One `sendmsg` of `head` and `body` from byte `offset` of the two:
    /// the bytes written, 0 when the socket is full, -1 when it failed.
    private func sendVectors(_ head: [UInt8], _ body: [UInt8], from offset: Int) -> Int {
        head.withUnsafeBytes { h in
            body.withUnsafeBytes { b in
                let (headPart, bodyPart) = PendingWrite.unsent(h, b, from: offset)
                if let tls { return tls.send(headPart, bodyPart) }
                var vectors = (iovec(iov_base: UnsafeMutableRawPointer(mutating: headPart.baseAddress), iov_len: headPart.count),
                               iovec(iov_base: UnsafeMutableRawPointer(mutating: bodyPart.baseAddress), iov_len: bodyPart.count))
                return withUnsafeMutableBytes(of: &vectors) { raw in
                    var message = msghdr()
                    let first = headPart.count > 0 ? 0 : 1
                    message.msg_iov = raw.baseAddress!.assumingMemoryBound(to: iovec.self) + first
                    message.msg_iovlen = (bodyPart.count > 0 ? 2 : 1) - first
                    while true {
                        // MSG_NOSIGNAL: a vanished client must give EPIPE, not kill the process with SIGPIPE.
                        let n = sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                        if n >= 0 { return n }
                        if errno == EINTR { continue }
                        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1
                    }
                }
            }
        }
    }

    private func writable() {
        guard machine.writePending, machine.phase != .closed else { return }
        var n = 0
        // Edge-triggered: write until done or the socket is full again.
        repeat {
            n = sendVectors(pending!.head, pending!.body, from: pending!.offset)
            if n < 0 {
                close()  // a failed socket: nobody left to answer
                return
            }
            pending!.advance(by: n)
        } while n > 0 && !pending!.isComplete
        let action = machine.sent(upTo: pending!.offset, complete: pending!.isComplete)
        guard action != .waitWritable else { return }

        let exchange = pending!.exchange
        pending = nil  // do not keep a large response's memory for the connection's life
        if let exchange { report(exchange) }
        if action == .linger {
            linger()
            return
        }
        processInput()  // first what is buffered, then what came during the pause
        resumeReading()
    }

    /// Staged close (RFC 9112 §9.6, see `ConnectionStateMachine.linger`):
    /// FIN, then read and drop what the client still sends.
    private func linger() {
        switch machine.linger() {
        case .none:
            return
        case .close:
            close()
        case .shutdownWrite:
            idleSince.store(0, ordering: .relaxed)
            tls?.shutdownWrite()  // close_notify first, in the stream, before the FIN
            shutdown(fd, Int32(SHUT_WR))
            readBuffer.clear()
            resumeReading()
        }
    }
}
