import Testing
@testable import HTTP

/// The connection's decisions, event by event on a manual clock: each test
/// is a table of what happens (bytes read, a head parsed, a write's result,
/// the clock moving, the sweeper, a drain) and what the state machine tells
/// the connection to do, with no socket and no sleep. Heads are parsed by
/// the real `RequestParser`, and whether a response keeps the connection is
/// the real `ResponseEncoder`'s answer, as in the connection.
@Suite struct ConnectionStateMachineTests {
    /// One row of a script: something happens to the connection.
    enum Event {
        /// A read returned this many bytes.
        case read(Int)
        /// A read returned 0: the client's FIN.
        case peerClosed
        /// The connection asks what to do with its buffer (`buffered`: it holds bytes).
        case next(buffered: Bool)
        /// The parser needs more than `buffered` bytes (`atBound`: the buffer can grow no more).
        case incomplete(buffered: Int, atBound: Bool)
        /// The parser produced this head.
        case head(String)
        /// The responder answered from the head alone.
        case answer
        /// The responder wants the body.
        case wantsBody
        /// The body stage took this many bytes and needs more.
        case bodyNeedsMore(Int)
        /// The body stage took this many bytes and the handler answered.
        case bodyFinished(Int)
        /// The body stage took the last of this many bytes of a body it dropped.
        case bodyDropped(Int)
        /// The body stage refused the body (413).
        case bodyTooLarge
        /// The response (to the last head) is encoded; `close`: the connection's own reason to close.
        case respond(close: Bool)
        /// The first write took this many of the response's bytes.
        case wrote(Int, of: Int)
        /// The socket has taken the pending response up to here.
        case sent(upTo: Int, complete: Bool)
        /// The clock moves on.
        case advance(Double)
        /// The sweeper asks the connection to check its deadline.
        case sweep
        /// The machine's deadline, in seconds from now.
        case deadline
        /// The connection should end with a lingering close.
        case linger
        /// The server drains.
        case drain(buffered: Bool)
        /// The drain's last read of an idle connection is done.
        case drainReadDone(buffered: Bool)
        /// The drain's idle grace passed and its last read is done.
        case idleDrainReadDone(buffered: Bool)
        /// The server wants to evict this connection at the cap.
        case evict(buffered: Bool)
    }

    /// A connection's state machine with the events' side: the last head,
    /// its plan, the encoder.
    struct Script {
        var machine: ConnectionStateMachine<ManualClock>
        let clock: ManualClock
        var encoder = ResponseEncoder(gzipMinimumBytes: 1 << 30, gzipLevel: 1)
        var head: RequestHead?
        var plan: BodyPlan?
        var dropping = true
        var drainBegun = false

        init(overflow: Bool = false, _ adjust: (inout ServerConfiguration) -> Void = { _ in }) {
            var configuration = ServerConfiguration()
            configuration.limits.headTimeout = 10
            configuration.limits.idleTimeout = 60
            configuration.limits.bodyTimeout = 10
            configuration.limits.minBodyRate = 0
            configuration.limits.maxBodyDuration = 300
            configuration.limits.maxBodyBytes = 1000
            configuration.writeTimeout = 20
            configuration.minSendRate = 0
            configuration.lingerTimeout = 2
            configuration.lingerBytes = 100
            configuration.drainIdleGrace = 1
            configuration.discardBodyBytes = 100
            configuration.inlineBodyBytes = 500
            adjust(&configuration)
            clock = ManualClock()
            machine = ConnectionStateMachine(configuration: configuration, clock: clock, overflow: overflow)
        }

        /// Seconds from now, for deadlines.
        func seconds(_ time: UInt64) -> String {
            time == 0 ? "none" : "in \(Double(time &- clock.now()) / 1e9) s"
        }

        func describe(_ step: ConnectionStateMachine<ManualClock>.InputStep) -> String {
            switch step {
            case .wait: "wait"
            case .awaitRequest(let since?): "idle since \(seconds(since)), deadline \(seconds(machine.deadline))"
            case .awaitRequest(nil): "await request, deadline \(seconds(machine.deadline))"
            case .parseHead(let first): first ? "parse a new head, deadline \(seconds(machine.deadline))" : "parse head"
            case .readBody: "read body"
            case .close: "close"
            case .fail(let error): "fail \(error.status.code): \(error.detail)"
            }
        }

        func describe(_ action: ConnectionStateMachine<ManualClock>.BodyAction) -> String {
            switch action {
            case .none: "nothing to send, deadline \(seconds(machine.deadline))"
            case .fail(let error): "fail \(error.status.code): \(error.detail)"
            case .linger: "linger"
            case .send(let response, let close): "send \(response.status.code)\(close ? ", close" : "")"
            }
        }

        mutating func run(_ event: Event) -> String {
            switch event {
            case .read(let count):
                return "\(machine.received(count))"
            case .peerClosed:
                return machine.peerDidClose() ? "close" : "answer what is buffered"
            case .next(let buffered):
                let step = machine.nextInput(bufferEmpty: !buffered, droppingBody: dropping, decodedBodyBytes: 3)
                return describe(step)  // after the event: `describe` reads the machine
            case .incomplete(let buffered, let atBound):
                guard let error = machine.headIncomplete(buffered: buffered, atHeadBound: atBound) else { return "wait" }
                machine.failing()
                return "fail \(error.status.code): \(error.detail)"
            case .head(let text):
                var parser = RequestParser(limits: Limits())
                let bytes = Array(text.utf8)
                guard case .complete(let parsed, let framing, _) = bytes.withUnsafeBytes({ parser.parse($0) }) else {
                    return "not a head"
                }
                head = parsed
                switch machine.headParsed(parsed, framing: framing) {
                case .refuseOverCap: return "refuse over cap"
                case .fail(let error): return "fail \(error.status.code)"
                case .respond(let plan, let heavy):
                    self.plan = plan
                    return heavy ? "respond, heavy" : "respond"
                }
            case .answer:
                switch machine.answered(plan!) {
                case .send(let close): return close ? "send, close" : "send"
                case .dropBodyAndSend: dropping = true; return "drop body, send"
                case .readBody, .finishAndSend: return "unexpected"
                }
            case .wantsBody:
                switch machine.bodyWanted(plan!) {
                case .readBody(_, let sendContinue):
                    dropping = false
                    return sendContinue ? "read body after 100 Continue" : "read body, deadline \(seconds(machine.deadline))"
                case .finishAndSend: return "finish, send"
                case .send, .dropBodyAndSend: return "unexpected"
                }
            case .bodyNeedsMore(let count):
                let action = machine.bodyRead(consumed: count, step: .needMore)
                return describe(action)
            case .bodyFinished(let count):
                dropping = true
                let action = machine.bodyRead(consumed: count, step: .finished(Response(status: .ok)))
                return describe(action)
            case .bodyDropped(let count):
                let action = machine.bodyRead(consumed: count, step: .finished(nil))
                return describe(action)
            case .bodyTooLarge:
                let action = machine.bodyRead(consumed: 0, step: .failed(HTTPError(status: .contentTooLarge, detail: "too large")))
                return describe(action)
            case .respond(let close):
                let (_, closing) = encoder.encode(Response(status: .ok), for: head,
                                                  close: machine.closes(close, drainBegun: drainBegun))
                machine.encoded(closing: closing)
                return closing ? "Connection: close" : "keep-alive"
            case .wrote(let written, let total):
                let action = machine.wrote(written, of: total)
                return action == .waitWritable ? "wait writable, reads paused: \(machine.readsPaused), deadline \(seconds(machine.deadline))" : "\(action)"
            case .sent(let offset, let complete):
                let action = machine.sent(upTo: offset, complete: complete)
                return action == .resume ? "resume, deadline \(seconds(machine.deadline))" : "\(action)"
            case .advance(let seconds):
                clock.advance(seconds)
                return ""
            case .sweep:
                switch machine.timerFired(droppingBody: dropping, handshakeDone: true) {
                case nil: return "nothing"
                case .close: return "close"
                case .linger: return "linger"
                case .endIdleDrain: return "end idle drain"
                case .fail(let error):
                    machine.failing()
                    return "fail \(error.status.code): \(error.detail)"
                }
            case .deadline:
                return seconds(machine.deadline)
            case .linger:
                let action = machine.linger()
                return action == .shutdownWrite ? "shut down writing, deadline \(seconds(machine.deadline))" : "\(action)"
            case .drain(let buffered):
                return machine.drainRequested(bufferEmpty: !buffered, handshakeDone: true) ? "read a last time" : "go on"
            case .drainReadDone(let buffered):
                machine.drainReadDone(bufferEmpty: !buffered)
                return "deadline \(seconds(machine.deadline))"
            case .idleDrainReadDone(let buffered):
                return machine.idleDrainReadDone(bufferEmpty: !buffered) ? "linger" : "answer it"
            case .evict(let buffered):
                return machine.evictionRequested(bufferEmpty: !buffered) ? "linger" : "keep"
            }
        }
    }

    /// Runs `rows` in order, each event's outcome checked against its row.
    static func check(_ script: inout Script, _ rows: [(Event, String)],
                      sourceLocation: SourceLocation = #_sourceLocation) {
        for (index, (event, expected)) in rows.enumerated() {
            let outcome = script.run(event)
            #expect(outcome == expected, "row \(index): \(event)", sourceLocation: sourceLocation)
        }
    }

    /// One row of a table: the event and what the machine must answer.
    typealias Row = (Event, String)

    static let get = "GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    static func post(_ length: Int, _ extra: String = "") -> String {
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(length)\r\n\(extra)\r\n"
    }

    /// Bytes are buffered: a new head is parsed, under the head timeout.
    static let aNewHead: Row = (.next(buffered: true), "parse a new head, deadline in 10.0 s")

    /// A GET is parsed and answered from its head alone, with keep-alive (not yet written).
    static let aGetAnsweredWithKeepAlive: [Row] = [
        aNewHead,
        (.head(get), "respond"),
        (.answer, "send"),
        (.respond(close: false), "keep-alive"),
    ]

    // MARK: - The request/response cycle and keep-alive

    @Test func aNewConnectionWaitsForARequestUnderTheIdleTimeoutAndIsClosedSilentlyAfterIt() {
        var script = Script()
        let since = script.machine.started(draining: false, tls: false, bufferEmpty: true)
        #expect(since == script.clock.now())
        Self.check(&script, [
            (.deadline, "in 60.0 s"),
            (.advance(60 - 1e-9), ""),
            (.sweep, "nothing"),
            (.advance(1e-9), ""),
            (.sweep, "close"),
        ])
    }

    @Test func aKeepAliveRequestIsAnsweredAndTheConnectionWaitsForTheNextUnderTheIdleTimeout() {
        var script = Script()
        _ = script.machine.started(draining: false, tls: false, bufferEmpty: true)
        Self.check(&script, [(.read(30), "process")] + Self.aGetAnsweredWithKeepAlive + [
            (.wrote(100, of: 100), "resume"),
            (.advance(3), ""),
            (.next(buffered: false), "idle since in 0.0 s, deadline in 60.0 s"),
        ])
    }

    @Test func whetherAResponseClosesTheConnectionFollowsTheRequestAndTheConnectionsOwnReasons() {
        // (request head, the connection's own reason to close, the server drains) → the response's persistence.
        let cases: [(String, Bool, Bool, String)] = [
            (Self.get, false, false, "keep-alive"),
            ("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", false, false, "Connection: close"),
            ("GET / HTTP/1.0\r\n\r\n", false, false, "Connection: close"),
            ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false, false, "keep-alive"),
            (Self.get, true, false, "Connection: close"),
            (Self.get, false, true, "Connection: close"),
        ]
        for (head, close, drainBegun, expected) in cases {
            var script = Script()
            script.drainBegun = drainBegun
            Self.check(&script, [
                Self.aNewHead,
                (.head(head), "respond"),
                (.answer, "send"),
                (.respond(close: close), expected),
                (.wrote(10, of: 10), expected == "keep-alive" ? "resume" : "linger"),
            ])
        }
    }

    @Test func aResponseThatClosesEndsInALingeringCloseThatDropsWhatFollowsWithinItsBudgetAndTimeout() {
        var script = Script()
        Self.check(&script, [
            Self.aNewHead,
            (.head("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"), "respond"),
            (.answer, "send"),
            (.respond(close: false), "Connection: close"),
            (.wrote(10, of: 10), "linger"),
            (.linger, "shut down writing, deadline in 2.0 s"),
            (.next(buffered: true), "wait"),  // nothing more is parsed
            (.read(60), "drop"),
            (.read(40), "dropAndClose"),  // the budget, 100 bytes, is spent
        ])
        var timedOut = Script()
        Self.check(&timedOut, [
            (.linger, "shut down writing, deadline in 2.0 s"),
            (.linger, "none"),
            (.advance(2), ""),
            (.sweep, "close"),
        ])
        var peerGone = Script()
        Self.check(&peerGone, [
            (.peerClosed, "answer what is buffered"),
            (.linger, "close"),  // the client closed first: nothing to wait for
        ])
    }

    // MARK: - Pipelining and backpressure

    @Test func twoPipelinedRequestsAreAnsweredInOrderTheSecondParsedOnlyOnceTheFirstIsWritten() {
        var script = Script()
        Self.check(&script, [(.read(60), "process")]  // both requests in one read
                            + Self.aGetAnsweredWithKeepAlive + [
            (.wrote(40, of: 100), "wait writable, reads paused: true, deadline in 20.0 s"),
            // Backpressure: the second request stays in the buffer, and the socket is not read.
            (.next(buffered: true), "wait"),
            (.advance(5), ""),
            (.sent(upTo: 70, complete: false), "waitWritable"),
            (.deadline, "in 20.0 s"),  // progress renews the write timeout
            (.next(buffered: true), "wait"),
            (.sent(upTo: 100, complete: true), "resume, deadline in 60.0 s"),
        ] + Self.aGetAnsweredWithKeepAlive + [  // now the second
            (.wrote(100, of: 100), "resume"),
            (.next(buffered: false), "idle since in 0.0 s, deadline in 60.0 s"),
        ])
        #expect(!script.machine.readsPaused)
    }

    @Test func aClientThatDoesNotReadItsResponseIsClosedWithoutAnotherAfterTheWriteTimeout() {
        var script = Script()
        Self.check(&script, Self.aGetAnsweredWithKeepAlive + [
            (.wrote(0, of: 100), "wait writable, reads paused: true, deadline in 20.0 s"),
            (.advance(20), ""),
            (.sweep, "close"),
        ])
    }

    @Test func aContinueThatWaitsForTheSocketHoldsTheBodysDeadlineUntilItIsWritten() {
        var script = Script()
        Self.check(&script, [
            Self.aNewHead,
            (.head(Self.post(50, "Expect: 100-continue\r\n")), "respond"),
            (.wantsBody, "read body after 100 Continue"),
            (.wrote(10, of: 25), "wait writable, reads paused: true, deadline in 20.0 s"),
            (.next(buffered: true), "wait"),
            (.advance(1), ""),
            (.sent(upTo: 25, complete: true), "resume, deadline in 10.0 s"),  // the body's timeout, from now
            (.next(buffered: true), "read body"),
        ])
    }

    // MARK: - Timeouts

    @Test func aHeadThatStopsMidwayIs408AfterTheHeadTimeoutFromItsFirstByte() {
        var script = Script()
        _ = script.machine.started(draining: false, tls: false, bufferEmpty: true)
        Self.check(&script, [
            (.advance(30), ""),  // idle for a while: the head timeout counts from the first byte
            (.read(12), "process"),
            Self.aNewHead,
            (.incomplete(buffered: 12, atBound: false), "wait"),
            (.advance(4), ""),
            (.read(3), "process"),
            (.next(buffered: true), "parse head"),  // more bytes do not renew it
            (.incomplete(buffered: 15, atBound: false), "wait"),
            (.deadline, "in 6.0 s"),
            (.advance(6), ""),
            (.sweep, "fail 408: the request head did not arrive within 10.0 seconds"),
            (.respond(close: true), "Connection: close"),
            (.wrote(100, of: 100), "linger"),
        ])
    }

    @Test func aStalledBodyIs408AfterTheBodyTimeoutAndProgressRenewsIt() {
        var script = Script()
        Self.check(&script, [
            Self.aNewHead,
            (.head(Self.post(10)), "respond"),
            (.wantsBody, "read body, deadline in 10.0 s"),
            (.next(buffered: true), "read body"),
            (.advance(5), ""),
            (.bodyNeedsMore(3), "nothing to send, deadline in 10.0 s"),
            (.next(buffered: false), "wait"),
            (.advance(10), ""),
            (.sweep, "fail 408: the request body made no progress for 10.0 seconds (3 bytes received)"),
        ])
    }

    @Test func aSlowBodyBelowTheMinimumRateIs408AfterTheGrace() {
        // 100 bytes/s after 10 s of grace: 1 byte a second falls behind at 10 + n/100 s.
        var script = Script { $0.limits.minBodyRate = 100 }
        Self.check(&script, [
            Self.aNewHead,
            (.head(Self.post(1000)), "respond, heavy"),
            (.wantsBody, "read body, deadline in 10.0 s"),
        ])
        for _ in 0..<10 {
            _ = script.run(.advance(1))
            _ = script.run(.bodyNeedsMore(1))
        }
        Self.check(&script, [
            (.deadline, "in 0.1 s"),  // earned: 10 s + 10 bytes at 100 bytes/s, from the body's start
            (.advance(0.1), ""),
            (.sweep, "fail 408: the request body arrived too slowly: 10 bytes in 10.1 seconds;"
                + " after the first 10.0 seconds it must average at least 100 bytes per second"),
        ])
    }

    @Test func aDeadlineThatALaterEventMovedDoesNothingWhenTheSweeperComesLate() {
        var script = Script()
        Self.check(&script, Self.aGetAnsweredWithKeepAlive + [
            (.wrote(10, of: 10), "resume"),
            (.next(buffered: false), "idle since in 0.0 s, deadline in 60.0 s"),
            (.advance(10), ""),  // the head's deadline would have passed
            (.sweep, "nothing"),
        ])
    }

    // MARK: - Bodies and early answers

    @Test func anEarlyAnswerToASmallBodyDropsItAndKeepsTheConnectionButALargeOneCloses() {
        var small = Script()
        Self.check(&small, [
            Self.aNewHead,
            (.head(Self.post(50)), "respond"),
            (.answer, "drop body, send"),
            (.respond(close: false), "keep-alive"),
            (.wrote(10, of: 10), "resume"),
            (.next(buffered: true), "read body"),
            (.bodyDropped(50), "nothing to send, deadline in 10.0 s"),  // dropped: no second response
            (.next(buffered: false), "idle since in 0.0 s, deadline in 60.0 s"),
        ])
        var large = Script()
        Self.check(&large, [
            Self.aNewHead,
            (.head(Self.post(1000)), "respond, heavy"),
            (.answer, "send, close"),
            (.respond(close: true), "Connection: close"),
        ])
    }

    @Test func aRefusedBodyIsAnsweredWithItsErrorAndTheConnectionCloses() {
        var script = Script()
        Self.check(&script, [
            Self.aNewHead,
            (.head(Self.post(5000)), "fail 413"),
        ])
        var tooLarge = Script()
        Self.check(&tooLarge, [
            Self.aNewHead,
            (.head("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"), "respond, heavy"),
            (.wantsBody, "read body, deadline in 10.0 s"),
            (.bodyTooLarge, "fail 413: too large"),
        ])
    }

    @Test func aClientThatClosesMidHeadOrMidBodyIsToldWhy() {
        var head = Script()
        Self.check(&head, [
            Self.aNewHead,
            (.incomplete(buffered: 12, atBound: false), "wait"),
            (.peerClosed, "answer what is buffered"),
            (.incomplete(buffered: 12, atBound: false),
             "fail 400: the request head ended after 12 bytes, before its empty line (RFC 9112 §2.1)"),
        ])
        var body = Script()
        Self.check(&body, [
            Self.aNewHead,
            (.head(Self.post(10)), "respond"),
            (.wantsBody, "read body, deadline in 10.0 s"),
            (.peerClosed, "answer what is buffered"),
            (.next(buffered: false), "fail 400: the request body ended after 3 bytes, before its end (RFC 9112 §6)"),
        ])
        var idle = Script()
        Self.check(&idle, [
            (.peerClosed, "answer what is buffered"),
            (.next(buffered: false), "close"),
        ])
    }

    @Test func aHeadLargerThanTheBufferMayGrowIs431() {
        var script = Script()
        Self.check(&script, [
            Self.aNewHead,
            (.incomplete(buffered: 9000, atBound: true), "fail 431: the request head is larger than 32768 bytes"),
        ])
    }

    // MARK: - The connection cap

    @Test func anOverflowConnectionAnswers503WithinTheHeadTimeoutAndIsNeverIdle() {
        var script = Script(overflow: true)
        #expect(script.machine.started(draining: false, tls: false, bufferEmpty: true) == nil)
        Self.check(&script, [
            (.deadline, "in 10.0 s"),
            (.next(buffered: false), "await request, deadline in 10.0 s"),
            Self.aNewHead,
            (.head(Self.get), "refuse over cap"),
        ])
    }

    @Test func onlyAnIdleConnectionWithNothingBufferedIsEvicted() {
        var script = Script()
        Self.check(&script, [
            (.evict(buffered: true), "keep"),
            (.evict(buffered: false), "linger"),
            Self.aNewHead,
            (.evict(buffered: false), "keep"),
        ])
    }

    // MARK: - Drain

    @Test func aDrainLetsTheRequestInFlightFinishWithConnectionCloseThenEndsIt() {
        var script = Script()
        Self.check(&script, [
            Self.aNewHead,
            (.head(Self.post(10)), "respond"),
            (.wantsBody, "read body, deadline in 10.0 s"),
            (.drain(buffered: true), "go on"),  // in flight: answered
            (.bodyFinished(10), "send 200"),
            (.respond(close: false), "Connection: close"),
            (.wrote(10, of: 10), "linger"),
        ])
    }

    @Test func anIdleConnectionInADrainReadsOnceThenWaitsTheIdleGraceWhichIsNotRenewed() {
        var script = Script()
        _ = script.machine.started(draining: false, tls: false, bufferEmpty: true)
        Self.check(&script, [
            (.drain(buffered: false), "read a last time"),
            (.drainReadDone(buffered: false), "deadline in 1.0 s"),
            (.advance(0.5), ""),
            (.next(buffered: false), "await request, deadline in 0.5 s"),  // the grace is not renewed
            (.advance(0.5), ""),
            (.sweep, "end idle drain"),
            (.idleDrainReadDone(buffered: false), "linger"),
        ])
        // A request that came within the grace is answered, with Connection: close.
        var late = Script()
        _ = late.machine.started(draining: false, tls: false, bufferEmpty: true)
        Self.check(&late, [
            (.drain(buffered: false), "read a last time"),
            (.drainReadDone(buffered: false), "deadline in 1.0 s"),
            (.advance(1), ""),
            (.sweep, "end idle drain"),
            (.read(30), "process"),
            Self.aNewHead,
            (.idleDrainReadDone(buffered: true), "answer it"),
            (.head(Self.get), "respond"),
            (.answer, "send"),
            (.respond(close: false), "Connection: close"),
        ])
    }

    @Test func aDrainWhileAnAnswerWaitsForTheEndOfTheLoopsRoundArmsTheIdleGraceOnceItIsWritten() {
        // An answer given inline during an epoll round is sent at the round's end: until then it is a
        // pending write (written: 0) under the write timeout. A drain that comes between is not lost:
        // the write timeout rules until the answer is written, then the idle grace, from then.
        var script = Script()
        _ = script.machine.started(draining: false, tls: false, bufferEmpty: true)
        Self.check(&script, Self.aGetAnsweredWithKeepAlive + [
            (.wrote(0, of: 40), "wait writable, reads paused: true, deadline in 20.0 s"),
            (.drain(buffered: false), "go on"),
            (.deadline, "in 20.0 s"),  // still the write's
            (.advance(5), ""),
            (.sent(upTo: 40, complete: true), "resume, deadline in 60.0 s"),
            (.next(buffered: false), "await request, deadline in 1.0 s"),  // asked at once after the write
            (.advance(1), ""),
            (.sweep, "end idle drain"),
            (.idleDrainReadDone(buffered: false), "linger"),
        ])
    }

    @Test func aConnectionAcceptedDuringTheDrainGetsTheIdleGraceNotTheIdleTimeout() {
        var script = Script()
        #expect(script.machine.started(draining: true, tls: false, bufferEmpty: true) == nil)
        Self.check(&script, [
            (.deadline, "in 1.0 s"),
            (.advance(1), ""),
            (.sweep, "end idle drain"),
        ])
    }
}
