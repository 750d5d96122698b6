import Testing
@testable import HTTP

/// The connection's timing rules, driven by a manual clock: every timeout,
/// rate rule and what a passed deadline means, without a socket or a sleep.
@Suite struct ConnectionTimerTests {
    static func timer(_ adjust: (inout ServerConfiguration) -> Void = { _ in }) -> (ConnectionTimer<ManualClock>, ManualClock) {
        var configuration = ServerConfiguration()
        configuration.limits.headTimeout = 10
        configuration.limits.idleTimeout = 60
        configuration.limits.bodyTimeout = 10
        configuration.limits.minBodyRate = 1000
        configuration.limits.maxBodyDuration = 300
        configuration.writeTimeout = 20
        configuration.minSendRate = 100
        configuration.lingerTimeout = 2
        configuration.drainIdleGrace = 1
        adjust(&configuration)
        let clock = ManualClock()
        return (ConnectionTimer(configuration: configuration, clock: clock), clock)
    }

    /// The expiry of `due` for a connection in `phase`, nothing else going on.
    static func expiry(_ timer: ConnectionTimer<ManualClock>, _ due: UInt64, _ phase: ConnectionPhase,
                       writePending: Bool = false, droppingBody: Bool = false, draining: Bool = false,
                       handshakeDone: Bool = true) -> ConnectionTimer<ManualClock>.Expiry? {
        timer.expiry(of: due, phase: phase, writePending: writePending, droppingBody: droppingBody,
                     draining: draining, handshakeDone: handshakeDone)
    }

    @Test func theHeadTimeoutIs408AtItsNanosecondAndNotBefore() {
        let (timer, clock) = ConnectionTimerTests.timer()
        let due = timer.headStarted()
        #expect(due == clock.inSeconds(10))
        clock.advance(10 - 1e-9)
        #expect(ConnectionTimerTests.expiry(timer, due, .head) == nil)
        clock.advance(1e-9)
        #expect(ConnectionTimerTests.expiry(timer, due, .head)
                == .fail(HTTPError(status: .requestTimeout, detail: "the request head did not arrive within 10.0 seconds")))
    }

    @Test func anIdleConnectionIsClosedWithoutAResponseAfterTheIdleTimeout() {
        let (timer, clock) = ConnectionTimerTests.timer()
        let (due, since) = timer.idle()
        #expect(since == clock.now())
        #expect(due == clock.inSeconds(60))
        clock.advance(60)
        #expect(ConnectionTimerTests.expiry(timer, due, .idle) == .close)
    }

    @Test func noDeadlineOrAClosedConnectionNeverExpires() {
        let (timer, clock) = ConnectionTimerTests.timer()
        clock.advance(1e6)
        #expect(ConnectionTimerTests.expiry(timer, 0, .head) == nil)
        #expect(ConnectionTimerTests.expiry(timer, 1, .closed) == nil)
    }

    @Test func aBodyWithoutProgressForTheBodyTimeoutIs408() {
        var (timer, clock) = ConnectionTimerTests.timer { $0.limits.minBodyRate = 0 }
        _ = timer.bodyStarted()
        clock.advance(5)
        let due = timer.bodyRead(100)
        #expect(due == clock.inSeconds(10))  // progress renews the no-progress rule
        clock.advance(10)
        #expect(ConnectionTimerTests.expiry(timer, due, .body) == .fail(HTTPError(
            status: .requestTimeout, detail: "the request body made no progress for 10.0 seconds (100 bytes received)")))
    }

    @Test func theMinimumBodyRateEarnsTimePerByteAfterAGrace() {
        // 1000 bytes/s after 10 s of grace: 5000 bytes by t = 5 s earn a deadline at 10 + 5 = 15 s.
        var (timer, clock) = ConnectionTimerTests.timer()
        let start = clock.now()
        #expect(timer.bodyStarted() == start + 10_000_000_000)
        clock.advance(5)
        #expect(timer.bodyRead(5000) == start + 15_000_000_000)
        // Trickling: 1 byte per second, the no-progress rule (t + 10 s) is later than the rate rule.
        var due: UInt64 = 0
        for _ in 0..<9 {
            clock.advance(1)
            due = timer.bodyRead(1)
        }
        #expect(due == start + 15_009_000_000)
        clock.advance(1.01)
        #expect(ConnectionTimerTests.expiry(timer, due, .body) == .fail(HTTPError(
            status: .requestTimeout,
            detail: "the request body arrived too slowly: 5009 bytes in 15.01 seconds;"
                + " after the first 10.0 seconds it must average at least 1000 bytes per second")))
    }

    @Test func aBodyMayNotTakeLongerThanTheMaximumDurationAtAnyRate() {
        var (timer, clock) = ConnectionTimerTests.timer { $0.limits.maxBodyDuration = 30 }
        let start = clock.now()
        _ = timer.bodyStarted()
        var due: UInt64 = 0
        for _ in 0..<30 {
            clock.advance(1)
            due = timer.bodyRead(1 << 20)  // fast: the rate rule is far off
        }
        #expect(due == start + 30_000_000_000)
        #expect(ConnectionTimerTests.expiry(timer, due, .body) == .fail(HTTPError(
            status: .requestTimeout, detail: "the request body was not complete within 30.0 seconds (31457280 bytes received)")))
    }

    @Test func aBodyDroppedAfterAnEarlyAnswerEndsInALingeringCloseNotA408() {
        var (timer, clock) = ConnectionTimerTests.timer()
        let due = timer.bodyStarted()
        clock.advance(10)
        #expect(ConnectionTimerTests.expiry(timer, due, .body, droppingBody: true) == .linger)
    }

    @Test func aClientThatDoesNotReadItsResponseIsClosedAfterTheWriteTimeout() {
        var (timer, clock) = ConnectionTimerTests.timer { $0.minSendRate = 0 }
        var due = timer.sendBlocked(at: 1000)
        #expect(due == clock.inSeconds(20))
        clock.advance(15)
        due = timer.sent(upTo: 1001)  // one byte taken: the no-progress rule restarts
        #expect(due == clock.inSeconds(20))
        clock.advance(20)
        #expect(ConnectionTimerTests.expiry(timer, due, .idle, writePending: true) == .close)
        #expect(ConnectionTimerTests.expiry(timer, due, .body, writePending: true) == .close)
    }

    @Test func theMinimumSendRateEarnsTimePerByteTakenSinceTheSocketFilled() {
        // 100 bytes/s after 20 s of grace, counted from the offset at which the socket first filled.
        var (timer, clock) = ConnectionTimerTests.timer()
        let start = clock.now()
        #expect(timer.sendBlocked(at: 5000) == start + 20_000_000_000)
        clock.advance(10)
        #expect(timer.sent(upTo: 5500) == start + 25_000_000_000)
        clock.advance(14)
        #expect(timer.sent(upTo: 5510) == start + 25_100_000_000)  // no-progress (t + 20 s) is later
    }

    @Test func aLingeringCloseEndsAfterTheLingerTimeout() {
        let (timer, clock) = ConnectionTimerTests.timer()
        let due = timer.lingering()
        #expect(due == clock.inSeconds(2))
        clock.advance(2)
        #expect(ConnectionTimerTests.expiry(timer, due, .lingering) == .close)
    }

    @Test func theDrainsIdleGraceIsFixedTheFirstTimeAndNotRenewed() {
        var (timer, clock) = ConnectionTimerTests.timer()
        let first = timer.drainIdle()
        #expect(first == clock.inSeconds(1))
        clock.advance(0.5)
        #expect(timer.drainIdle() == first)
        clock.advance(0.5)
        #expect(ConnectionTimerTests.expiry(timer, first, .idle, draining: true) == .endIdleDrain)
    }

    @Test func aDrainingConnectionMidHandshakeOrMidWriteIsClosedNotReadAgain() {
        var (timer, clock) = ConnectionTimerTests.timer()
        let due = timer.drainIdle()
        clock.advance(1)
        #expect(ConnectionTimerTests.expiry(timer, due, .idle, draining: true, handshakeDone: false) == .close)
        #expect(ConnectionTimerTests.expiry(timer, due, .idle, writePending: true, draining: true) == .close)
    }
}
