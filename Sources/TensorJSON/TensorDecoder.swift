import Losses

/// A push parser for a loss request body: strict RFC 8259 JSON whose top-level
/// object's members are tensors, strings, booleans or null.
///
/// Feed it the body in chunks split anywhere (inside a number, a string, an
/// escape or a UTF-8 sequence), then call `finish()`. It reads each byte once
/// and keeps only what the request needs: the numbers of each tensor, straight
/// into one contiguous `[Double]` (8 bytes per number), the shapes, and the
/// short strings; never the JSON text itself. A token cut by a chunk boundary
/// is carried over in a small buffer (a number is at most `maxNumberLength`
/// bytes).
///
/// Errors: the first byte that is not JSON throws `.malformed` at once (from
/// `feed`, or from `finish` for a truncated body). A body that is JSON but not
/// a valid request throws `.invalid` from `finish`: the decoder records the
/// first such problem, drops what it has read, and goes on checking the syntax
/// only, so that a malformed body is always a 400, whatever comes first. The
/// first number that would take the tensors past `maxTensorBytes` throws
/// `.tooLarge` at once, so a body of many short numbers (a gzip bomb of `0,`)
/// is refused while it streams, never decoded whole.
public struct TensorDecoder {
    /// Default of `maxDepth`: 64 levels of nested arrays and objects.
    public static let defaultMaxDepth = 64
    /// Default of `maxNumberLength`: 4096 bytes. The exact decimal expansion of
    /// any double, written out in full (up to 767 significant digits and 324
    /// leading zeros), fits in about 1100 bytes; 4096 leaves room for any
    /// honest writer and bounds the carry-over buffer.
    public static let defaultMaxNumberLength = 4096
    /// Default of `maxStringLength`: 4096 bytes, decoded, for the strings the
    /// decoder keeps (member names, top-level string values). Strings it only
    /// checks (`datatype`, `name`, `parameters`) have no limit but the body's.
    public static let defaultMaxStringLength = 4096
    /// Default of `maxMembers`: 64. A loss request has at most 7 members.
    public static let defaultMaxMembers = 64
    /// Default of `maxTensorBytes`: 128 MiB, the default body limit
    /// (`Limits.maxBodyBytes`), so a body at the limit written with 8 or more
    /// bytes per number always fits.
    public static let defaultMaxTensorBytes = 128 << 20

    /// The deepest nesting of arrays and objects allowed, the top-level object
    /// included; one level more is malformed (a 400). Default 64.
    public let maxDepth: Int
    /// The longest number, in bytes; a longer one is a 422. Default 4096.
    public let maxNumberLength: Int
    /// The longest kept string, in decoded bytes; a longer one is a 422. Default 4096.
    public let maxStringLength: Int
    /// The most members of the top-level object; one more is a 422, and
    /// nothing more is kept. Why: a kept member costs about 170 bytes (its
    /// name, a dictionary entry, a scalar tensor's two arrays) for as few as
    /// 9 bytes of JSON (`"m1234":0,`), so a body of distinct members would
    /// cost about 14 times its size (2 million of them took 340 MiB), beyond
    /// what `maxTensorBytes` counts. Default 64.
    public let maxMembers: Int
    /// The most bytes the request's decoded tensors may take, 8 per number,
    /// all tensors (and scalar numbers) together; the number that would pass
    /// it is a 413, at its byte. It bounds the memory a body costs whatever its
    /// encoding: `0,` is 2 bytes of JSON but 8 of tensor, and gzip shrinks a
    /// body of such numbers a thousandfold. Default 128 MiB.
    public let maxTensorBytes: Int
    /// The body's length when known in advance (Content-Length), or nil.
    /// With it, a tensor's storage is reserved once for the most numbers the
    /// rest of the body can hold at a typical 8 bytes each, instead of growing
    /// by doubling (which copies and faults in its memory again at every
    /// step); pages never written are never touched. Default nil.
    public let bodyLength: Int?
    /// What the request holds of the server's memory budget, or nil for none
    /// (a small request, or no budget): its tensors hold no number it does not
    /// cover. Reserved up front for the numbers `startTensor` plans (from
    /// `bodyLength`), then in steps as a tensor reaches it; the wait for it is
    /// `MemoryBudget`'s, and a refusal throws `.overBudget` (a 503).
    private let reservation: MemoryReservation?
    /// Where the storage of a tensor reserved at `HugePages.minimumBytes` or
    /// more comes from (the initializer's `storage`: an empty array with room
    /// for at least the count asked, e.g. one kept from an earlier request),
    /// or nil to allocate each afresh. Default nil.
    private let storage: TensorShapeTracker.Storage?
    /// The members of a difference loss, the second of which (to arrive, as a nested array
    /// or a tensor object's `data` array) is folded into the first instead of stored: its
    /// numbers take no storage and no memory reservation, only their place under
    /// `maxTensorBytes`, as before. The first member then holds `minuend - subtrahend`, the
    /// second is a `JSONMember.foldedTensor`; every error stays the one it was. Default nil.
    private let differenceFold: DifferenceFold?

    // MARK: Syntax state

    private enum State {
        case value, valueOrClose, keyOrClose, key, colon, afterValue, done
        case string, escape, unicodeEscape, afterHighSurrogate, afterHighSurrogateBackslash, utf8
        case number, literal, nonFinite
    }

    /// What an open container is for.
    private enum Role {
        case top, tensorArray, tensorObject, skipArray, skipObject
    }

    /// What the next value means to the request.
    private enum Slot {
        case root, member, element, shape, data, label, ignored
    }

    private var state = State.value
    /// Bytes fed before the current chunk: `consumed + i` is a byte's offset.
    private var consumed = 0
    private var depth = 0
    /// `roles[d]` is the role of the open container at depth `d` (1-based).
    private var roles: [Role]
    private var failure: DecodeError?
    private var problem: DecodeError?
    private var finished = false

    // Strings
    private var stringIsKey = false
    private var storing = false
    private var text: [UInt8] = []
    private var textTooLong = false
    private var utf8Needed = 0
    private var utf8Low: UInt8 = 0
    private var utf8High: UInt8 = 0
    private var hexCount = 0
    private var hexValue: UInt32 = 0
    private var highSurrogate: UInt32 = 0
    private var highSurrogateOffset = 0
    private var escapeOffset = 0

    // Literals
    private var literal: Literal = .true
    private var literalIndex = 0

    // NaN or Infinity (Python's json.dumps writes them), read whole to say that JSON has neither
    private var nonFinite = NonFinite.nan
    private var nonFiniteIndex = 0
    /// The offset of the `N` or `I`.
    private var nonFiniteOffset = 0
    /// True when a `-` came before it.
    private var nonFiniteNegative = false

    // A number cut by a chunk boundary
    /// Its bytes so far while they are at most `maxNumberLength` (then it is
    /// read from them whole when it ends); past that only its length counts.
    private var carry: [UInt8] = []
    /// The offset of the carried number's first byte.
    private var carryOffset = 0
    /// The carried number's length so far, in bytes.
    private var carryLength = 0
    /// The carried bytes as the grammar needs them to go on: each digit that
    /// follows a digit left out, so at most 7 bytes (`-0.0e+0`) whatever the
    /// number's length. RFC 8259 §6 bounds no run of digits, so `scanToken`
    /// reads what follows these bytes as it would read it after the whole number.
    private var carryShape: [UInt8] = []

    // Semantics
    /// Sized at the start for a request's few members (predictions, targets,
    /// reduction, weight, …): growing from empty rehashed it two or three times.
    private var members: [String: JSONMember] = Dictionary(minimumCapacity: 6)
    private var memberName = ""
    /// Members of the top-level object begun so far.
    private var memberCount = 0
    private var tracker: TensorShapeTracker
    /// `maxTensorBytes` in numbers.
    private let maxNumbers: Int
    /// Numbers held by the request's finished tensors (and scalar numbers).
    private var storedNumbers = 0
    /// The depth of the open tensor's outermost array, so an array at depth `d` is at level `d - trackerBase + 1`.
    private var trackerBase = 0
    private var trackerTarget = Slot.member
    private var object = TensorObject()
    /// 10^0 … 10^22: the exactly representable powers of ten (Clinger's fast path).
    private let powersOfTen: [Double]
    /// 10^0 … 10^8 as integers, to append a run of fraction digits to the significand.
    private let powersOfTenInteger: [UInt64]

    public init(
        maxDepth: Int = TensorDecoder.defaultMaxDepth,
        maxNumberLength: Int = TensorDecoder.defaultMaxNumberLength,
        maxStringLength: Int = TensorDecoder.defaultMaxStringLength,
        maxMembers: Int = TensorDecoder.defaultMaxMembers,
        maxTensorBytes: Int = TensorDecoder.defaultMaxTensorBytes,
        bodyLength: Int? = nil,
        budget: MemoryBudget? = nil,
        storage: ((Int) -> [Double]?)? = nil,
        fold: DifferenceFold? = nil
    ) {
        self.bodyLength = bodyLength
        differenceFold = fold
        self.storage = storage
        reservation = budget.map(MemoryReservation.init)
        self.maxTensorBytes = max(0, maxTensorBytes)
        maxNumbers = self.maxTensorBytes / 8
        self.maxDepth = max(1, maxDepth)
        self.maxNumberLength = max(1, maxNumberLength)
        self.maxStringLength = max(1, maxStringLength)
        self.maxMembers = max(1, maxMembers)
        roles = Array(repeating: .skipArray, count: self.maxDepth + 1)
        tracker = TensorShapeTracker(maxDepth: self.maxDepth)
        powersOfTen = NumberScanner.exactPowersOfTen  // shared: no allocation per request
        powersOfTenInteger = NumberScanner.integerPowersOfTen
    }

    /// Reads the next bytes of the body. Throws `.malformed` at the first byte
    /// that is not JSON; after that every call throws the same error.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) {
        if let failure { throw failure }
        guard !finished else { throw fail(consumed, "data after the end of the body") }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        do {
            try run(base.assumingMemoryBound(to: UInt8.self), bytes.count)
        } catch {
            failure = error
            members = [:]
            tracker.data = []
            tracker.fold = nil
            reservation?.releaseAll()
            throw error
        }
        consumed += bytes.count
    }

    /// The body is complete. Returns the top-level object's members by name.
    public mutating func finish() throws(DecodeError) -> [String: JSONMember] {
        if let failure { throw failure }
        finished = true
        if state == .number {
            // The body ends inside the number unless the grammar, shown a byte after it, sees a whole number.
            carryShape.append(0x20)
            guard (try? scanCarryShape(offset: 0)) != nil else { throw fail(consumed, "unexpected end of input") }
            try completeCarriedNumber()
        }
        if state == .nonFinite {
            // Cut short, it is no NaN or Infinity: the error it had before it began.
            throw fail(nonFiniteOffset, nonFiniteNegative ? NumberScanner.digitAfterMinus : "expected a value")
        }
        guard state == .done else {
            throw fail(consumed, consumed == 0 ? "the body is empty" : "unexpected end of input")
        }
        if let problem { throw problem }
        return members
    }

    // MARK: The scanner

    /// One pass over a chunk. The states inside tensors are the hot path; see `scanNumbers`.
    private mutating func run(_ p: UnsafePointer<UInt8>, _ n: Int) throws(DecodeError) {
        var i = 0
        while i < n {
            let c = p[i]
            switch state {
            case .value, .valueOrClose:
                if isSpace(c) {
                    i += 1
                    continue
                }
                if depth == 0 && c != UInt8(ascii: "{") && problem == nil && startsValue(c) {
                    invalidate("the request body must be a JSON object")
                }
                switch c {
                case UInt8(ascii: "{"):
                    try open(isArray: false, at: i)
                    state = .keyOrClose
                    i += 1
                case UInt8(ascii: "["):
                    try open(isArray: true, at: i)
                    state = .valueOrClose
                    i += 1
                case UInt8(ascii: "]") where state == .valueOrClose:
                    close()
                    i += 1
                case UInt8(ascii: "\""):
                    beginString(isKey: false)
                    i += 1
                case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                    literal = c == UInt8(ascii: "t") ? .true : c == UInt8(ascii: "f") ? .false : .null
                    literalIndex = 1
                    state = .literal
                    i += 1
                case UInt8(ascii: "-") where i + 1 < n && (p[i + 1] == UInt8(ascii: "N") || p[i + 1] == UInt8(ascii: "I")):
                    beginNonFinite(p[i + 1], at: consumed + i + 1, negative: true)
                    i += 2
                case UInt8(ascii: "N"), UInt8(ascii: "I"):
                    beginNonFinite(c, at: consumed + i, negative: false)
                    i += 1
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if depth > 0 && roles[depth] == .tensorArray && problem == nil {
                        try scanNumbers(p, n, &i)
                    } else {
                        try scanNumber(p, n, &i)
                    }
                case UInt8(ascii: "]") where depth > 0 && isArray(roles[depth]):
                    throw fail(consumed + i, "trailing comma before ']'")
                default:
                    throw fail(consumed + i, "expected a value")
                }

            case .afterValue:
                if isSpace(c) {
                    i += 1
                    continue
                }
                let inArray = isArray(roles[depth])
                if c == UInt8(ascii: ",") {
                    state = inArray ? .value : .key
                } else if c == (inArray ? UInt8(ascii: "]") : UInt8(ascii: "}")) {
                    close()
                } else {
                    throw fail(consumed + i, inArray ? "expected ',' or ']'" : "expected ',' or '}'")
                }
                i += 1

            case .keyOrClose, .key:
                if isSpace(c) {
                    i += 1
                    continue
                }
                if c == UInt8(ascii: "\"") {
                    beginString(isKey: true)
                } else if c == UInt8(ascii: "}") && state == .keyOrClose {
                    close()
                } else if c == UInt8(ascii: "}") {
                    throw fail(consumed + i, "trailing comma before '}'")
                } else {
                    throw fail(consumed + i, state == .key ? "expected a member name" : "expected a member name or '}'")
                }
                i += 1

            case .colon:
                if isSpace(c) {
                    i += 1
                    continue
                }
                guard c == UInt8(ascii: ":") else { throw fail(consumed + i, "expected ':'") }
                state = .value
                i += 1

            case .done:
                // RFC 8259 §2: only whitespace may follow the one top-level value.
                guard isSpace(c) else { throw fail(consumed + i, "unexpected data after the top-level value") }
                i += 1

            case .string:
                // Plain ASCII runs are copied (or skipped) in one go.
                let start = i
                while i < n {
                    let b = p[i]
                    if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
                    i += 1
                }
                if storing && i > start { appendText(UnsafeBufferPointer(start: p + start, count: i - start)) }
                guard i < n else { break }
                let b = p[i]
                if b == UInt8(ascii: "\"") {
                    endString()
                } else if b == UInt8(ascii: "\\") {
                    escapeOffset = consumed + i
                    state = .escape
                } else if b < 0x20 {
                    // RFC 8259 §7: control characters must be escaped.
                    throw fail(consumed + i, "unescaped control character in a string")
                } else {
                    try beginUTF8(b, at: i)
                    state = .utf8
                }
                i += 1

            case .utf8:
                // RFC 3629 §4 (the table of well-formed sequences): no overlongs,
                // no surrogates, nothing above U+10FFFF.
                guard c >= utf8Low && c <= utf8High else { throw fail(consumed + i, "invalid UTF-8") }
                if storing { appendText(c) }
                utf8Low = 0x80
                utf8High = 0xBF
                utf8Needed -= 1
                if utf8Needed == 0 { state = .string }
                i += 1

            case .escape:
                // RFC 8259 §7: the two-character escapes and \uXXXX.
                let unescaped: UInt8
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped = c
                case UInt8(ascii: "b"): unescaped = 0x08
                case UInt8(ascii: "f"): unescaped = 0x0C
                case UInt8(ascii: "n"): unescaped = 0x0A
                case UInt8(ascii: "r"): unescaped = 0x0D
                case UInt8(ascii: "t"): unescaped = 0x09
                case UInt8(ascii: "u"):
                    hexCount = 0
                    hexValue = 0
                    state = .unicodeEscape
                    i += 1
                    continue
                default:
                    throw fail(consumed + i, "invalid escape in a string")
                }
                if storing { appendText(unescaped) }
                state = .string
                i += 1

            case .unicodeEscape:
                guard let digit = hexDigit(c) else { throw fail(consumed + i, "expected a hex digit in a \\u escape") }
                hexValue = hexValue << 4 | digit
                hexCount += 1
                i += 1
                if hexCount == 4 { try endUnicodeEscape() }

            case .afterHighSurrogate:
                // RFC 8259 §7: a high surrogate escape must be followed by a low one.
                guard c == UInt8(ascii: "\\") else { throw fail(highSurrogateOffset, "lone surrogate in a \\u escape") }
                escapeOffset = consumed + i
                state = .afterHighSurrogateBackslash
                i += 1

            case .afterHighSurrogateBackslash:
                guard c == UInt8(ascii: "u") else { throw fail(highSurrogateOffset, "lone surrogate in a \\u escape") }
                hexCount = 0
                hexValue = 0
                state = .unicodeEscape
                i += 1

            case .literal:
                let expected = literal.bytes
                guard c == expected[literalIndex] else {
                    throw fail(consumed + i, "invalid literal (expected '\(literal.name)')")
                }
                literalIndex += 1
                i += 1
                if literalIndex == expected.count { endLiteral() }

            case .nonFinite:
                let expected = nonFinite.bytes
                guard c == expected[nonFiniteIndex] else {
                    // Not NaN or Infinity after all: the error its first byte had.
                    throw fail(nonFiniteOffset, nonFiniteNegative ? NumberScanner.digitAfterMinus : "expected a value")
                }
                nonFiniteIndex += 1
                i += 1
                if nonFiniteIndex == expected.count {
                    let name = (nonFiniteNegative ? "-" : "") + nonFinite.name
                    throw fail(nonFiniteNegative ? nonFiniteOffset - 1 : nonFiniteOffset, Self.nonFiniteReason(name))
                }

            case .number:
                try continueCarriedNumber(p, n, &i)
            }
        }
    }

    private func isSpace(_ c: UInt8) -> Bool {
        // RFC 8259 §2: space, horizontal tab, line feed, carriage return.
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }

    private func isArray(_ role: Role) -> Bool {
        role == .tensorArray || role == .skipArray
    }

    private func startsValue(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"),
            UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: false
        }
    }

    /// Starts reading what may be `NaN` or `Infinity` (`-` before it when
    /// `negative`), whose first byte `c` is at `offset`.
    private mutating func beginNonFinite(_ c: UInt8, at offset: Int, negative: Bool) {
        nonFinite = c == UInt8(ascii: "N") ? .nan : .infinity
        nonFiniteIndex = 1
        nonFiniteOffset = offset
        nonFiniteNegative = negative
        state = .nonFinite
    }

    /// What to say about `NaN`, `-Infinity`, …: RFC 8259 §6 has no such
    /// numbers, but Python's `json.dumps` writes them by default.
    static func nonFiniteReason(_ token: String) -> String {
        "\(token) is not JSON (RFC 8259 §6 has no NaN or Infinity): replace or drop non-finite values before sending; "
            + "Python's json.dumps(..., allow_nan=False) raises on them instead of writing them"
    }

    /// The number starting at `offset` would take the tensors past
    /// `maxTensorBytes`: recorded like a malformed-JSON error, and the numbers
    /// read so far are dropped.
    private mutating func tooLarge(at offset: Int) -> DecodeError {
        let error = DecodeError.tooLarge(offset: offset, limit: maxTensorBytes)
        failure = error
        members = [:]
        tracker.data = []
        tracker.fold = nil
        object = TensorObject()
        reservation?.releaseAll()
        return error
    }

    /// Counts one scalar number (a member or a tensor object's `data`) against `maxTensorBytes`.
    private mutating func storeScalar(at offset: Int) throws(DecodeError) {
        guard storedNumbers < maxNumbers else { throw tooLarge(at: offset) }
        storedNumbers += 1
    }

    /// The numbers the memory reservation covers, all tensors together; no limit without one.
    private var budgetedNumbers: Int {
        guard let reservation else { return Int.max }
        return reservation.bytes / 8
    }

    /// The open tensor has reached its `maxCount`. When that is its memory
    /// reservation, not the tensor limit, reserves a step more (a quarter of
    /// what the request holds, at least `MemoryBudget.reservationStep`,
    /// within the tensor limit and the budget; it may wait) and returns true;
    /// returns false at the tensor limit (a 413). Throws `.overBudget` when
    /// the budget refuses.
    private mutating func extendReservation(at offset: Int) throws(DecodeError) -> Bool {
        let limitRoom = maxNumbers - storedNumbers
        guard let reservation, tracker.maxCount < limitRoom else { return false }
        repeat {
            let step = max(reservation.bytes / 4, reservation.budget.reservationStep) / 8
            let more = min(step, limitRoom - tracker.maxCount, (reservation.budget.limit - reservation.bytes) / 8)
            try reserveNumbers(max(more, 1), at: offset)
            tracker.maxCount = max(0, min(limitRoom, budgetedNumbers - storedNumbers))
        } while tracker.maxCount <= tracker.count
        return true
    }

    /// Reserves room for `count` more numbers, or throws `.overBudget`,
    /// dropping what was read and giving back what the request held.
    private mutating func reserveNumbers(_ count: Int, at offset: Int) throws(DecodeError) {
        guard let reservation else { return }
        let outcome = reservation.extend(by: count * 8)
        guard outcome != .granted else { return }
        let error = DecodeError.overBudget(
            offset: offset, budget: reservation.budget.limit, wait: reservation.budget.maxWait,
            needsMoreThanBudget: outcome == .exceedsBudget)
        failure = error
        members = [:]
        tracker.data = []
        tracker.fold = nil
        object = TensorObject()
        reservation.releaseAll()
        throw error
    }

    /// Bytes the request holds of the memory budget now.
    var reservedBytes: Int { reservation?.bytes ?? 0 }

    /// Gives back the request's memory reservation: its tensors are freed, or
    /// about to be (the body handler calls it once the response is built).
    public mutating func releaseMemory() {
        reservation?.releaseAll()
    }

    /// Records a malformed-JSON error; it is thrown now and by every later call.
    private mutating func fail(_ offset: Int, _ reason: String) -> DecodeError {
        let error = DecodeError.malformed(offset: offset, reason: reason)
        failure = error
        members = [:]
        tracker.data = []
        tracker.fold = nil
        return error
    }

    /// Records the first reason the body is not a valid request, and drops what was read.
    private mutating func invalidate(_ message: String) {
        guard problem == nil else { return }
        problem = .invalid(message)
        members = [:]
        tracker.data = []
        tracker.fold = nil
        object = TensorObject()
        reservation?.releaseAll()  // nothing more is kept
    }

    // Inlined: called from mutating methods, an outlined call took a copy of
    // `self` (456 bytes, a memcpy per container and string) once the decoder grew.
    @inline(__always)
    private func slot() -> Slot {
        if problem != nil { return .ignored }
        if depth == 0 { return .root }
        switch roles[depth] {
        case .top: return .member
        case .tensorArray: return .element
        case .tensorObject:
            switch object.current {
            case .shape: return .shape
            case .data: return .data
            case .datatype, .name: return .label
            case .parameters: return .ignored
            }
        case .skipArray, .skipObject: return .ignored
        }
    }

    /// The level, within the open tensor, of the array open at the current depth.
    private var level: Int { depth - trackerBase + 1 }

    // MARK: Containers

    private mutating func open(isArray: Bool, at i: Int) throws(DecodeError) {
        guard depth < maxDepth else { throw fail(consumed + i, "nesting deeper than \(maxDepth) levels") }
        var role: Role = isArray ? .skipArray : .skipObject
        switch slot() {
        case .root:
            role = .top
        case .member:
            if isArray {
                try startTensor(path: memberName, target: .member, at: consumed + i)
                role = .tensorArray
            } else {
                object = TensorObject(name: memberName)
                role = .tensorObject
            }
        case .element:
            if isArray {
                if let message = tracker.openArray(atLevel: level) {
                    invalidate(message)
                } else {
                    role = .tensorArray
                }
            } else {
                invalidate(tracker.nonNumber(atLevel: level, what: "an object"))
            }
        case .shape:
            if isArray {
                try startTensor(path: "\(object.name).shape", target: .shape, at: consumed + i)
                role = .tensorArray
            } else {
                invalidate(object.shapeMessage)
            }
        case .data:
            if isArray {
                try startTensor(path: "\(object.name).data", target: .data, at: consumed + i)
                role = .tensorArray
            } else {
                invalidate(object.dataMessage)
            }
        case .label:
            invalidate(object.labelMessage)
        case .ignored:
            break
        }
        depth += 1
        roles[depth] = role
    }

    private mutating func startTensor(path: String, target: Slot, at offset: Int) throws(DecodeError) {
        if let fold = foldInto(target == .data ? object.name : memberName, target: target) {
            // The numbers become differences in the first member's storage: nothing to reserve.
            let limitRoom = maxNumbers - storedNumbers
            tracker.start(path: path, reserve: 0, maxCount: limitRoom, capacityLimit: limitRoom)
            tracker.fold = fold
            trackerBase = depth + 1
            trackerTarget = target
            return
        }
        var reserve = 0
        if target == .data, let shape = object.shape {
            // The shape came first: reserve the data exactly, up to 2^20
            // elements, so a tiny body cannot claim a huge allocation.
            var product = 1
            for size in shape { product = product.multipliedReportingOverflow(by: size).partialValue }
            reserve = min(max(product, 0), 1 << 20)
        } else if let bodyLength {
            // From the tensor's own offset, not the chunk's: the same body plans
            // the same capacity however it was cut, so a kept array fits it again.
            reserve = max(0, bodyLength - offset) / 8
        }
        let limitRoom = maxNumbers - storedNumbers
        if let reservation {
            // Up front, for what the storage is planned to hold (a request
            // waits or is refused here, before it decodes, when it can), at
            // most what the whole budget could give.
            let wanted = min(reserve, limitRoom) - (reservation.bytes / 8 - storedNumbers)
            let more = min(wanted, (reservation.budget.limit - reservation.bytes) / 8)
            if more > 0 { try reserveNumbers(more, at: offset) }
        }
        // (Scalar members count in `storedNumbers` but not in the reservation: hence `max(0, …)`.)
        tracker.start(path: path, reserve: reserve, maxCount: max(0, min(limitRoom, budgetedNumbers - storedNumbers)),
                      capacityLimit: limitRoom, storage: storage)
        trackerBase = depth + 1
        trackerTarget = target
    }

    private mutating func close() {
        if problem == nil {
            switch roles[depth] {
            case .tensorArray:
                let level = self.level
                if let message = tracker.closeArray(atLevel: level) {
                    invalidate(message)
                } else if level == 1 {
                    completeTensor()
                }
            case .tensorObject:
                completeTensorObject()
            case .top, .skipArray, .skipObject:
                break
            }
        }
        depth -= 1
        state = depth == 0 ? .done : .afterValue
    }

    /// The fold a tensor of member `name` starting now goes into, taking the first member's
    /// storage out of `members` (it goes back when the tensor completes): when `name` is one
    /// of `differenceFold`'s members and the other is already a non-empty tensor.
    private mutating func foldInto(_ name: String, target: Slot) -> TensorShapeTracker.Fold? {
        guard let differenceFold, target == .member || target == .data else { return nil }
        let first: String
        if name == differenceFold.minuend {
            first = differenceFold.subtrahend
        } else if name == differenceFold.subtrahend {
            first = differenceFold.minuend
        } else {
            return nil
        }
        guard case .tensor(let tensor)? = members[first], tensor.count > 0 else { return nil }
        members[first] = nil
        return TensorShapeTracker.Fold(
            name: first, shape: tensor.shape, into: tensor.data, firstIsMinuend: first == differenceFold.minuend)
    }

    /// A folded tensor of member `name` and `shape` is complete: its first member goes back
    /// to `members`, holding the differences, and it is recorded by its shape alone.
    private mutating func completeFold(_ fold: TensorShapeTracker.Fold, name: String, shape: [Int]) {
        guard let differences = try? Tensor(shape: fold.shape, data: fold.into) else {
            preconditionFailure("the first member's shape and storage came from a checked Tensor")
        }
        members[fold.name] = .tensor(differences)
        members[name] = .foldedTensor(shape: shape)
    }

    private mutating func completeTensor() {
        let shape = tracker.shape
        let data = tracker.data
        let fold = tracker.fold
        tracker.data = []
        tracker.fold = nil
        storedNumbers += data.count + (fold?.written ?? 0)
        switch trackerTarget {
        case .shape:
            guard shape.count == 1 else { return invalidate(object.shapeMessage) }
            var sizes: [Int] = []
            for (index, value) in data.enumerated() {
                // Integral values are integers whatever their spelling (2, 2.0, 2e0).
                guard value >= 0, value <= 9_007_199_254_740_992, value.rounded(.towardZero) == value else {
                    return invalidate("\(object.name).shape[\(index)] = \(formatNumber(value)) is not a non-negative integer")
                }
                sizes.append(Int(value))
            }
            object.shape = sizes
        case .data:
            object.data = data
            object.fold = fold
        default:
            if let fold { return completeFold(fold, name: memberName, shape: shape) }
            do throws(LossError) {
                members[memberName] = .tensor(try Tensor(shape: shape, data: data))
            } catch {
                invalidate("\(memberName): \(error.message)")
            }
        }
    }

    private mutating func completeTensorObject() {
        let name = object.name
        guard let shape = object.shape else { return invalidate("\(name) is a tensor object without 'shape'") }
        guard let data = object.data else { return invalidate("\(name) is a tensor object without 'data'") }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { return invalidate("\(name) has shape \(shape), which has too many elements") }
            count = product
        }
        let dataCount = data.count + (object.fold?.written ?? 0)
        guard count == dataCount else {
            return invalidate("\(name) has shape \(shape) (\(count) elements) but data has \(dataCount)")
        }
        if let fold = object.fold {
            completeFold(fold, name: name, shape: shape)
            object = TensorObject()
            return
        }
        do throws(LossError) {
            members[name] = .tensor(try Tensor(shape: shape, data: data))
        } catch {
            invalidate("\(name): \(error.message)")
        }
        object = TensorObject()
    }

    // MARK: Strings

    private mutating func beginString(isKey: Bool) {
        stringIsKey = isKey
        if isKey {
            storing = problem == nil && (roles[depth] == .top || roles[depth] == .tensorObject)
        } else {
            storing = slot() == .member
        }
        text.removeAll(keepingCapacity: true)
        textTooLong = false
        state = .string
    }

    private mutating func appendText(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard text.count + bytes.count <= maxStringLength else {
            textTooLong = true
            return
        }
        text.append(contentsOf: bytes)
    }

    private mutating func appendText(_ byte: UInt8) {
        guard text.count < maxStringLength else {
            textTooLong = true
            return
        }
        text.append(byte)
    }

    private mutating func beginUTF8(_ lead: UInt8, at i: Int) throws(DecodeError) {
        // RFC 3629 §4: the lead byte fixes the length and the range of the
        // second byte (which is where overlongs, surrogates and values above
        // U+10FFFF are excluded).
        switch lead {
        case 0xC2...0xDF: (utf8Needed, utf8Low, utf8High) = (1, 0x80, 0xBF)
        case 0xE0: (utf8Needed, utf8Low, utf8High) = (2, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (utf8Needed, utf8Low, utf8High) = (2, 0x80, 0xBF)
        case 0xED: (utf8Needed, utf8Low, utf8High) = (2, 0x80, 0x9F)
        case 0xF0: (utf8Needed, utf8Low, utf8High) = (3, 0x90, 0xBF)
        case 0xF1...0xF3: (utf8Needed, utf8Low, utf8High) = (3, 0x80, 0xBF)
        case 0xF4: (utf8Needed, utf8Low, utf8High) = (3, 0x80, 0x8F)
        default: throw fail(consumed + i, "invalid UTF-8")
        }
        if storing { appendText(lead) }
    }

    private func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private mutating func endUnicodeEscape() throws(DecodeError) {
        let unit = hexValue
        var scalar = unit
        if highSurrogate != 0 {
            guard (0xDC00...0xDFFF).contains(unit) else { throw fail(highSurrogateOffset, "lone surrogate in a \\u escape") }
            scalar = 0x10000 + ((highSurrogate - 0xD800) << 10) + (unit - 0xDC00)
            highSurrogate = 0
        } else if (0xD800...0xDBFF).contains(unit) {
            highSurrogate = unit
            highSurrogateOffset = escapeOffset
            state = .afterHighSurrogate
            return
        } else if (0xDC00...0xDFFF).contains(unit) {
            throw fail(escapeOffset, "lone surrogate in a \\u escape")
        }
        if storing {
            for byte in Unicode.UTF8.encode(Unicode.Scalar(scalar)!)! { appendText(byte) }
        }
        state = .string
    }

    private mutating func endString() {
        state = stringIsKey ? .colon : (depth == 0 ? .done : .afterValue)
        guard problem == nil else { return }
        if stringIsKey {
            endKey()
            return
        }
        switch slot() {
        case .member:
            if textTooLong {
                invalidate("\(memberName) is a string longer than \(maxStringLength) bytes")
            } else {
                members[memberName] = .string(String(decoding: text, as: UTF8.self))
            }
        case .element: invalidate(tracker.nonNumber(atLevel: level, what: "a string"))
        case .shape: invalidate(object.shapeMessage)
        case .data: invalidate(object.dataMessage)
        case .root, .label, .ignored: break
        }
    }

    private mutating func endKey() {
        guard storing else { return }
        let name = String(decoding: text, as: UTF8.self)
        if textTooLong { return invalidate("a member name is longer than \(maxStringLength) bytes") }
        if roles[depth] == .top {
            if members[name] != nil { return invalidate("duplicate member '\(name)'") }
            memberCount += 1
            if memberCount > maxMembers { return invalidate("the request body has more than \(maxMembers) members") }
            memberName = name
            return
        }
        guard let member = TensorObject.Member(rawValue: name) else {
            return invalidate("unknown member '\(name)' in \(object.name)")
        }
        guard !object.seen.contains(member) else { return invalidate("duplicate member '\(name)' in \(object.name)") }
        object.seen.insert(member)
        object.current = member
    }

    // MARK: Literals

    private mutating func endLiteral() {
        state = depth == 0 ? .done : .afterValue
        switch slot() {
        case .member:
            members[memberName] = literal == .null ? .null : .bool(literal == .true)
        case .element:
            invalidate(tracker.nonNumber(atLevel: level, what: literal.name))
        case .shape where literal != .null:
            invalidate(object.shapeMessage)
        case .data where literal != .null:
            invalidate(object.dataMessage)
        case .label where literal != .null:
            invalidate(object.labelMessage)
        default:
            break  // null is the same as an absent member
        }
    }

    // MARK: Numbers

    /// The hot path: a run of numbers in the innermost arrays of a tensor
    /// (`1.5, -2e-3, …`). One pass over the bytes, each number checked against
    /// RFC 8259 §6 and converted in place, appended straight to the tensor's
    /// `[Double]`: no String, no token copy, no per-number allocation.
    ///
    /// Two speeds: `NumberScanner.scanRun` takes short numbers joined by
    /// commas in one straight loop, away from the chunk's end; whatever it
    /// declines (whitespace, long or malformed numbers, the chunk's last
    /// bytes) goes through `scanNumberToken`, which reports every error. Both
    /// give the same values (both correctly rounded) and, since the first only
    /// declines, the same errors at the same bytes.
    private mutating func scanNumbers(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) throws(DecodeError) {
        let level = self.level
        if tracker.rank == -1 { tracker.rank = level }
        guard tracker.rank == level else { return try scanNumber(p, n, &i) }
        // The numbers and the shape's counts live in locals for the run (no
        // uniqueness check on `self`'s arrays per number) and go back when it ends.
        var data: [Double] = []
        var dims: [Int] = []
        var counts: [Int] = []
        swap(&data, &tracker.data)
        swap(&dims, &tracker.dims)
        swap(&counts, &tracker.counts)
        // A folded tensor's numbers go into the first member's storage instead (`data` stays empty).
        var fold = tracker.fold
        tracker.fold = nil
        let already = fold?.written ?? 0
        var cursor = i
        var failure: DecodeError?
        let maxCount = tracker.maxCount
        let capacityLimit = tracker.capacityLimit
        // The short-number reader may look `reach` bytes ahead; nearer the
        // chunk's end (or with a tiny length limit) every number takes the careful path.
        let shortLimit = maxNumberLength >= NumberScanner.reach ? n &- NumberScanner.reach : 0
        let powersOfTen = self.powersOfTen
        let powersOfTenInteger = self.powersOfTenInteger
        // Numbers are gathered in a stack batch and join the tensor a batch at
        // a time: Array.append per number cost a uniqueness and a capacity
        // check (a runtime call) each, a large share of the scan.
        let outcome = powersOfTen.withUnsafeBufferPointer { powers in
            powersOfTenInteger.withUnsafeBufferPointer { integerPowers in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: Self.batchSize) { batch -> RunEnd in
            // Closure-local copies stay in registers; the captured ones are written once, at the end.
            var position = cursor
            var numbers = counts[level]
            var filled = 0
            // The tensor limit is checked a batch at a time, not per number:
            // `room` is what the tensor may still take, and a batch is full at
            // `batchEnd`, which is below `batchSize` only when the limit comes
            // first. Then the next number finds no room and is refused at its byte.
            var room = maxCount &- data.count &- already
            var batchEnd = min(Self.batchSize, room)
            defer {
                cursor = position
                counts[level] = numbers
                Self.flush(batch, filled, into: &data, fold: &fold, maxCount: capacityLimit)
            }
            while true {
                if filled == batchEnd && filled > 0 {
                    Self.flush(batch, filled, into: &data, fold: &fold, maxCount: capacityLimit)
                    room &-= filled
                    filled = 0
                    batchEnd = min(Self.batchSize, room)
                }
                // The common case in one straight path: short numbers joined by commas.
                let run = NumberScanner.scanRun(
                    p, from: position, limit: shortLimit, into: batch.baseAddress! + filled, capacity: batchEnd &- filled,
                    powers.baseAddress!, integerPowers.baseAddress!)
                filled &+= run.count
                numbers &+= run.count
                position = run.position
                if !run.afterNumber {
                    if filled == batchEnd && filled > 0 { continue }
                    // After a comma: whitespace, then a value that may not be a number.
                    while position < n && isSpace(p[position]) { position &+= 1 }
                    guard position < n, p[position] == UInt8(ascii: "-") || p[position] &- UInt8(ascii: "0") < 10 else {
                        return .value
                    }
                    // A number that is not short, or near the chunk's end: the careful scanner.
                    let start = position
                    let token: (end: Int, value: Double)?
                    do throws(DecodeError) { token = try scanNumberToken(p, n, start) } catch {
                        failure = error
                        return .failed
                    }
                    guard let (end, value) = token else { return .cut(start) }
                    numbers &+= 1
                    position = end
                    guard value.isFinite && end &- start <= maxNumberLength else { return .badNumber(start, value) }
                    guard filled < batchEnd else { return .full(start, end, value) }
                    batch[filled] = value
                    filled &+= 1
                }
                // Positions stay below `n`: wrapping arithmetic drops the overflow checks.
                while position < n && isSpace(p[position]) { position &+= 1 }
                guard position < n && p[position] == UInt8(ascii: ",") else {
                    // `],[` between two rows of the innermost level, the row's length
                    // right: close it and open the next here (what close(), open() and
                    // TensorShapeTracker's closeArray/openArray do, without a trip
                    // through the main loop per row). Anything else goes that way.
                    // (json.dumps writes `], [`: one space is allowed before the '['.)
                    guard level > 1, n &- position > 4, p[position] == UInt8(ascii: "]"),
                        p[position &+ 1] == UInt8(ascii: ",")
                    else { return .afterValue }
                    let open = p[position &+ 2] == UInt8(ascii: " ") ? position &+ 3 : position &+ 2
                    guard p[open] == UInt8(ascii: "["),
                        p[open &+ 1] == UInt8(ascii: "-") || p[open &+ 1] &- UInt8(ascii: "0") < 10,
                        dims[level] == numbers || dims[level] == -1
                    else { return .afterValue }
                    dims[level] = numbers
                    counts[level &- 1] &+= 1
                    numbers = 0
                    position = open &+ 1
                    continue
                }
                position &+= 1
                while position < n && isSpace(p[position]) { position &+= 1 }
                guard position < n, p[position] == UInt8(ascii: "-") || p[position] &- UInt8(ascii: "0") < 10 else {
                    return .value
                }
            }
            }
            }
        }
        swap(&data, &tracker.data)
        swap(&dims, &tracker.dims)
        swap(&counts, &tracker.counts)
        tracker.fold = fold
        i = cursor
        switch outcome {
        case .failed:
            // `-NaN`, `-Infinity` after a comma: the careful scanner saw no digit after '-'.
            if case .malformed(let offset, NumberScanner.digitAfterMinus) = failure!, offset - consumed < n,
                p[offset - consumed] == UInt8(ascii: "N") || p[offset - consumed] == UInt8(ascii: "I") {
                beginNonFinite(p[offset - consumed], at: offset, negative: true)
                i = offset - consumed + 1
                return
            }
            throw failure!
        case .full(let start, let end, let value):
            // The tensor is at its maxCount: the reservation's (extend it and
            // store the number) or the tensor limit's (413).
            guard try extendReservation(at: consumed + start) else { throw tooLarge(at: consumed + start) }
            _ = tracker.append(value)
            i = end
            state = .afterValue
        case .cut(let start):
            startCarry(p, start, n)
            i = n
        case .badNumber(let start, let value):
            state = .afterValue
            numberProblem(path: tracker.elementPath(level), value: value, text: p + start, cursor - start)
        case .afterValue:
            state = .afterValue
        case .value:
            state = .value
        }
    }

    /// Appends a batch's first `filled` numbers to `data`, growing it first
    /// (as `TensorShapeTracker.grow` does) when it is full; or folds them (`fold`).
    @inline(__always)
    private static func flush(
        _ batch: UnsafeMutableBufferPointer<Double>, _ filled: Int, into data: inout [Double],
        fold: inout TensorShapeTracker.Fold?, maxCount: Int
    ) {
        if fold != nil {
            fold!.absorb(batch.baseAddress!, filled)
            return
        }
        if data.count &+ filled > data.capacity {
            TensorShapeTracker.grow(&data, toHold: data.count &+ filled, maxCount: maxCount)
        }
        data.append(contentsOf: UnsafeBufferPointer(rebasing: batch[..<filled]))
    }

    /// Numbers per batch in `scanNumbers`: 1 KiB, the most that
    /// `withUnsafeTemporaryAllocation` is sure to put on the stack (past it, it
    /// may call posix_memalign per run).
    private static let batchSize = 128

    /// How a run of numbers in `scanNumbers` ended.
    private enum RunEnd {
        /// A number was malformed (the error is thrown).
        case failed
        /// The chunk ended inside the number starting here: it is carried over.
        case cut(Int)
        /// The number starting here is out of range or too long.
        case badNumber(Int, Double)
        /// The number from the first offset to the second, of this value, would
        /// take the tensor past its `maxCount`: the tensor limit or the reservation.
        case full(Int, Int, Double)
        /// After a number, something other than `,` followed by a number.
        case afterValue
        /// After `,`, a value that is not a number.
        case value
    }

    /// One number anywhere (outside the hot path).
    private mutating func scanNumber(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) throws(DecodeError) {
        let start = i
        guard let (end, value) = try scanNumberToken(p, n, start) else {
            startCarry(p, start, n)
            i = n
            return
        }
        i = end
        try deliverNumber(value, at: consumed + start, text: p + start, end - start)
        state = depth == 0 ? .done : .afterValue
    }

    /// Checks the number that starts at `start` against RFC 8259 §6 and
    /// converts it, correctly rounded: the one grammar pass
    /// (`NumberScanner.scanToken`) and the one conversion
    /// (`NumberScanner.value(of:)`). Returns nil when the chunk ends before
    /// the number does (the byte after a number must be seen to know it ended).
    @inline(__always)
    private func scanNumberToken(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int
    ) throws(DecodeError) -> (end: Int, value: Double)? {
        let offset = consumed
        let scanned = try powersOfTenInteger.withUnsafeBufferPointer { (integerPowers) throws(DecodeError) in
            try NumberScanner.scanToken(p, n, start, offset: offset, integerPowers.baseAddress!)
        }
        guard let token = scanned else { return nil }
        let value = powersOfTen.withUnsafeBufferPointer { powers in
            NumberScanner.value(of: token, p, start, powers.baseAddress!)
        }
        return (token.end, value)
    }

    /// A number runs to the end of the chunk (`scanToken` found no error in
    /// it and wants the byte after it): carry it over to the next chunk.
    private mutating func startCarry(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int) {
        carry.removeAll(keepingCapacity: true)
        carryShape.removeAll(keepingCapacity: true)
        carryOffset = consumed + start
        carryLength = 0
        carryOn(p + start, n - start)
        state = .number
    }

    /// Bytes of a carried number the grammar has accepted: kept in `carry`
    /// while the number is within `maxNumberLength`, and in `carryShape` as
    /// the grammar needs them.
    private mutating func carryOn(_ bytes: UnsafePointer<UInt8>, _ count: Int) {
        if carryLength + count <= maxNumberLength { carry.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count)) }
        carryLength += count
        for j in 0..<count {
            let c = bytes[j]
            if c &- UInt8(ascii: "0") < 10, let last = carryShape.last, last &- UInt8(ascii: "0") < 10 { continue }
            carryShape.append(c)
        }
    }

    /// Bytes of the chunk taken per step of a carried number: its shape and
    /// these go through the grammar together.
    private static let carryStep = 64

    /// The carried number goes on at `i`: the one grammar pass
    /// (`NumberScanner.scanToken`) reads its shape and the chunk's next bytes,
    /// a step at a time, until the number ends (it is then read whole from
    /// `carry`) or the chunk does. Errors are at the byte where the grammar
    /// finds them, wherever the chunks were cut.
    private mutating func continueCarriedNumber(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) throws(DecodeError) {
        while i < n {
            let shapeCount = carryShape.count
            let step = min(n - i, Self.carryStep)
            carryShape.append(contentsOf: UnsafeBufferPointer(start: p + i, count: step))
            let token: NumberToken?
            do throws(DecodeError) {
                // The shape's byte `shapeCount` is the chunk's byte `i`.
                token = try scanCarryShape(offset: consumed + i - shapeCount)
            } catch {
                // `-NaN`, `-Infinity` cut after the '-': the grammar saw no digit after it.
                if case .malformed(let offset, NumberScanner.digitAfterMinus) = error, offset >= consumed,
                    p[offset - consumed] == UInt8(ascii: "N") || p[offset - consumed] == UInt8(ascii: "I") {
                    beginNonFinite(p[offset - consumed], at: offset, negative: true)
                    i = offset - consumed + 1
                    return
                }
                throw error
            }
            carryShape.removeLast(step)
            guard let token else {
                // The step's bytes are all the number's, and it goes on.
                carryOn(p + i, step)
                i += step
                continue
            }
            let end = i + token.end - shapeCount  // the chunk's byte after the number
            carryOn(p + i, end - i)
            i = end
            try completeCarriedNumber()  // the byte at `end` is not consumed: it follows the number
            return
        }
    }

    /// `scanToken` over `carryShape` (an error at its byte `j` is at `offset + j`).
    private func scanCarryShape(offset: Int) throws(DecodeError) -> NumberToken? {
        try carryShape.withUnsafeBufferPointer { (shape) throws(DecodeError) in
            try powersOfTenInteger.withUnsafeBufferPointer { (integerPowers) throws(DecodeError) in
                try NumberScanner.scanToken(shape.baseAddress!, shape.count, 0, offset: offset, integerPowers.baseAddress!)
            }
        }
    }

    /// The carried number has ended: read it whole from `carry` (`scanToken`
    /// and `value(of:)`, as any number) and deliver it.
    private mutating func completeCarriedNumber() throws(DecodeError) {
        var value = 0.0
        if carryLength <= maxNumberLength {
            carry.append(0x20)  // a sentinel: the token's end must be seen
            let token = carry
            token.withUnsafeBufferPointer { buffer in
                if let (_, converted) = try? scanNumberToken(buffer.baseAddress!, buffer.count, 0) { value = converted }
            }
            carry.removeLast()
        }
        let token = carry
        try token.withUnsafeBufferPointer { (buffer) throws(DecodeError) in
            try deliverNumber(value, at: carryOffset, text: buffer.baseAddress!, carryLength)
        }
        state = depth == 0 ? .done : .afterValue
    }

    /// A complete number outside the hot path (or carried across chunks), which starts at byte `offset`.
    private mutating func deliverNumber(
        _ value: Double, at offset: Int, text: UnsafePointer<UInt8>, _ length: Int
    ) throws(DecodeError) {
        switch slot() {
        case .member:
            if value.isFinite && length <= maxNumberLength {
                try storeScalar(at: offset)
                members[memberName] = .tensor(Tensor(value))
            } else {
                numberProblem(path: memberName, value: value, text: text, length)
            }
        case .element:
            let level = self.level
            if let message = tracker.number(atLevel: level) { return invalidate(message) }
            if value.isFinite && length <= maxNumberLength {
                if !tracker.append(value) {
                    guard try extendReservation(at: offset) else { throw tooLarge(at: offset) }
                    _ = tracker.append(value)
                }
            } else {
                numberProblem(path: tracker.elementPath(level), value: value, text: text, length)
            }
        case .data:
            if value.isFinite && length <= maxNumberLength {
                try storeScalar(at: offset)
                object.data = [value]
            } else {
                numberProblem(path: "\(object.name).data", value: value, text: text, length)
            }
        case .shape: invalidate(object.shapeMessage)
        case .label: invalidate(object.labelMessage)
        case .root, .ignored: break
        }
    }

    private mutating func numberProblem(path: String, value: Double, text: UnsafePointer<UInt8>, _ length: Int) {
        if length > maxNumberLength {
            return invalidate("\(path) is a number longer than \(maxNumberLength) bytes")
        }
        // RFC 8259 §6 leaves the range to the implementation; ours is IEEE 754 binary64.
        let shown = String(decoding: UnsafeBufferPointer(start: text, count: min(length, 40)), as: UTF8.self)
        invalidate("\(path) = \(shown)\(length > 40 ? "…" : "") is out of range for a double")
    }
}

/// The literal names of RFC 8259 §3.
private enum Literal {
    case `true`, `false`, null

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)

    var bytes: [UInt8] {
        switch self {
        case .true: Self.trueBytes
        case .false: Self.falseBytes
        case .null: Self.nullBytes
        }
    }

    var name: String {
        switch self {
        case .true: "true"
        case .false: "false"
        case .null: "null"
        }
    }
}

/// The non-finite numbers JavaScript and Python's `json` module write, which are not JSON.
private enum NonFinite {
    case nan, infinity

    private static let nanBytes = Array("NaN".utf8)
    private static let infinityBytes = Array("Infinity".utf8)

    var bytes: [UInt8] {
        switch self {
        case .nan: Self.nanBytes
        case .infinity: Self.infinityBytes
        }
    }

    var name: String {
        switch self {
        case .nan: "NaN"
        case .infinity: "Infinity"
        }
    }
}

/// The tensor object being read (`{"shape": [...], "data": [...]}`), the
/// Open Inference Protocol v2 layout.
private struct TensorObject {
    enum Member: String {
        case shape, data, datatype, name, parameters
    }

    var name = ""
    var seen: Set<Member> = []
    var current = Member.parameters
    var shape: [Int]?
    var data: [Double]?
    /// `data` was folded into the first member of the decoder's `DifferenceFold` (and is empty).
    var fold: TensorShapeTracker.Fold?

    var shapeMessage: String { "\(name).shape must be an array of non-negative integers" }
    var dataMessage: String { "\(name).data must be a number or an array of numbers" }
    var labelMessage: String { "\(name).\(current.rawValue) must be a string" }
}
