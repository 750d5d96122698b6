import Testing
@testable import HTTP

/// The body plan: what a request head's framing, `Expect` and `Content-Encoding` mean for reading its body.
@Suite struct BodyPlanTests {
    static func head(_ fields: [(String, String)], version: Version = .http1_1) -> RequestHead {
        var headers = Headers()
        for (name, value) in fields { headers.add(name, value) }
        return RequestHead(method: .post, target: "/loss/ce", version: version, headers: headers)
    }

    static func plan(_ fields: [(String, String)], _ framing: BodyFraming, version: Version = .http1_1,
                     maxBodyBytes: Int = 1 << 20) throws(HTTPError) -> BodyPlan {
        var limits = Limits()
        limits.maxBodyBytes = maxBodyBytes
        return try BodyPlan(head: head(fields, version: version), framing: framing, limits: limits)
    }

    static func refusal(_ fields: [(String, String)], _ framing: BodyFraming,
                        maxBodyBytes: Int = 1 << 20) -> HTTPError? {
        do throws(HTTPError) {
            _ = try plan(fields, framing, maxBodyBytes: maxBodyBytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func theFramingGivesTheLengthAndChunkedIsMinusOne() throws {
        #expect(try BodyPlanTests.plan([], .none) == BodyPlan(length: 0, expectsContinue: false, gzip: false))
        #expect(try BodyPlanTests.plan([], .length(42)).length == 42)
        let chunked = try BodyPlanTests.plan([], .chunked)
        #expect(chunked.length == -1 && chunked.isChunked)
    }

    @Test func expect100ContinueOverHTTP11WaitsForTheInterimResponse() throws {
        #expect(try BodyPlanTests.plan([("Expect", " 100-Continue ")], .length(5)).expectsContinue)
    }

    @Test func anHTTP10ClientsExpectationIsIgnored() throws {
        // RFC 9110 §10.1.1: a server must ignore 100-continue from an HTTP/1.0 client.
        #expect(try !BodyPlanTests.plan([("Expect", "100-continue")], .length(5), version: .http1_0).expectsContinue)
    }

    @Test(arguments: [[("Expect", "200-ok")], [("Expect", "100-continue"), ("expect", "100-continue")]])
    func anyOtherExpectationIs417(_ fields: [(String, String)]) {
        let error = BodyPlanTests.refusal(fields, .length(5))
        #expect(error?.status == .expectationFailed)
        #expect(error?.detail.hasPrefix("the only expectation supported is 100-continue, not ") == true)
    }

    @Test func theExpectationIsCheckedEvenWithoutABody() {
        #expect(BodyPlanTests.refusal([("Expect", "x")], .none)?.status == .expectationFailed)
    }

    @Test(arguments: ["gzip", "x-gzip", "GZIP", "identity, gzip", " gzip ,identity"])
    func gzipAndXGzipAreDecoded(_ coding: String) throws {
        #expect(try BodyPlanTests.plan([("Content-Encoding", coding)], .length(10)).gzip)
    }

    @Test func identityAloneIsNoCoding() throws {
        #expect(try !BodyPlanTests.plan([("Content-Encoding", "identity")], .length(10)).gzip)
    }

    @Test(arguments: ["br", "gzip, gzip", "deflate"])
    func anyOtherCodingIs415(_ coding: String) {
        let error = BodyPlanTests.refusal([("Content-Encoding", coding)], .chunked)
        #expect(error?.status == .unsupportedMediaType)
        #expect(error?.detail == "Content-Encoding \(coding) is not supported; send gzip or identity")
    }

    @Test func aCodingOnAnEmptyBodyIsIgnored() throws {
        #expect(try BodyPlanTests.plan([("Content-Encoding", "br")], .length(0)) == BodyPlan(length: 0, expectsContinue: false, gzip: false))
    }

    @Test func aDeclaredLengthOverTheLimitIs413BeforeAnythingIsRead() {
        #expect(BodyPlanTests.refusal([], .length(1001), maxBodyBytes: 1000)?.detail
                == "Content-Length 1001 is over the body limit of 1000 bytes")
        #expect(BodyPlanTests.refusal([], .length(.max), maxBodyBytes: 1000)?.detail
                == "Content-Length (over \(Int.max)) is over the body limit of 1000 bytes")
        #expect(BodyPlanTests.refusal([], .length(1000), maxBodyBytes: 1000) == nil)
    }

    @Test func theExpectationIsJudgedBeforeTheCodingAndTheCodingBeforeTheLength() {
        #expect(BodyPlanTests.refusal([("Content-Encoding", "br"), ("Expect", "x")], .length(1 << 30))?.status
                == .expectationFailed)
        #expect(BodyPlanTests.refusal([("Content-Encoding", "br")], .length(1 << 30))?.status == .unsupportedMediaType)
    }

    @Test("a body runs inline at and below the threshold, identity-coded; above it, chunked or gzip it does not; no body does")
    func theInlineRuleByteExact() {
        let table: [(framing: BodyFraming, coding: String?, inline: Bool)] = [
            (.length(99), nil, true), (.length(100), nil, true), (.length(101), nil, false),
            (.length(100), "identity", true), (.length(100), "gzip", false), (.length(1), "X-GZIP", false),
            (.chunked, nil, false), (.none, nil, true), (.length(0), nil, true), (.length(0), "gzip", true),
        ]
        for row in table {
            var headers: [(String, String)] = []
            switch row.framing {
            case .none: break
            case .length(let n): headers.append(("Content-Length", String(n)))
            case .chunked: headers.append(("Transfer-Encoding", "chunked"))
            }
            if let coding = row.coding { headers.append(("Content-Encoding", coding)) }
            let head = Self.head(headers)
            // The connection's plan (framing from the parser) and a responder's (from the head alone) agree.
            let connection = try? BodyPlan(head: head, framing: row.framing, limits: Limits())
            #expect(connection?.runsInline(inlineBodyBytes: 100) == row.inline, "\(row)")
            #expect(BodyPlan(head: head) == connection, "\(row)")
        }
        // A list of identical lengths is one length, as the parser reads it.
        #expect(BodyPlan(head: Self.head([("Content-Length", "100, 100")]))?.runsInline(inlineBodyBytes: 100) == true)
    }

    @Test func anEarlyAnswerDropsASmallOrChunkedBodyAndClosesOnALargeOneOrAWaitingClient() {
        func answer(_ length: Int, expects: Bool = false) -> BodyPlan.EarlyAnswer {
            BodyPlan(length: length, expectsContinue: expects, gzip: false).earlyAnswer(discardBodyBytes: 100)
        }
        #expect(answer(0) == .noBody)
        #expect(answer(0, expects: true) == .noBody)
        #expect(answer(100) == .discardBody)
        #expect(answer(-1) == .discardBody)
        #expect(answer(101) == .close)
        #expect(answer(5, expects: true) == .close)  // the client sends no body until 100 Continue
        #expect(answer(-1, expects: true) == .close)
    }
}
