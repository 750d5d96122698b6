import TensorJSON

/// A JSON value as an Open Inference Protocol request's JSON part holds it.
/// Arrays of numbers, the bulk of a JSON-form tensor, are kept as one
/// contiguous `[Double]` (`numbers`), not one enum value per element.
indirect enum OIPJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    /// An array whose elements are all numbers (or empty).
    case numbers([Double])
    /// Any other array.
    case array([OIPJSON])
    /// Members in the order sent (a repeated name is refused while parsing).
    case object([(String, OIPJSON)])

    static func == (a: OIPJSON, b: OIPJSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.numbers(x), .numbers(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `name` of an object, or nil.
    subscript(_ name: String) -> OIPJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == name }?.1
    }

    /// How the value's kind reads in an error: `a string`, `an object`.
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .numbers, .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Why a JSON text did not parse, at which 0-based byte offset.
struct OIPJSONError: Error, Equatable {
    let offset: Int
    let reason: String
    var description: String { "malformed JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 parser for the JSON part of an inference request (the
/// whole body, or the `Inference-Header-Content-Length` bytes before the
/// binary tensors). Nesting is limited to `maxDepth`; numbers are read by
/// TensorJSON's `JSONNumber`, as the tensor decoder reads them.
struct OIPJSONParser {
    /// The deepest nesting accepted: an inference request needs 4 levels plus a
    /// tensor's rank. Default 64.
    static let maxDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses one JSON text that fills `bytes` (surrounding whitespace allowed).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(OIPJSONError) -> OIPJSON {
        let typed = bytes.bindMemory(to: UInt8.self)
        var parser = OIPJSONParser(typed)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == typed.count else { throw parser.fail("unexpected bytes after the JSON value") }
        return value
    }

    /// Parses `bytes`.
    static func parse(_ bytes: [UInt8]) throws(OIPJSONError) -> OIPJSON {
        let result: Result<OIPJSON, OIPJSONError> = bytes.withUnsafeBytes { raw in
            do throws(OIPJSONError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func fail(_ reason: String, at offset: Int? = nil) -> OIPJSONError {
        OIPJSONError(offset: offset ?? position, reason: reason)
    }

    private var atEnd: Bool { position >= bytes.count }
    private var current: UInt8 { bytes[position] }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1  // RFC 8259 §2
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(OIPJSONError) -> OIPJSON {
        guard !atEnd else { throw fail("the JSON text ends where a value should be") }
        switch current {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected byte '\(OIPJSONParser.show(current))' where a value should be")
        }
    }

    private static func show(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "0x" + String(byte, radix: 16)
    }

    private mutating func literal(_ word: StaticString) throws(OIPJSONError) {
        let start = position
        let count = word.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw fail("invalid literal", at: start) }
        for i in 0..<count where bytes[position + i] != word.utf8Start[i] {
            throw fail("invalid literal", at: start)
        }
        position += count
    }

    private mutating func object(depth: Int) throws(OIPJSONError) -> OIPJSON {
        guard depth <= OIPJSONParser.maxDepth else { throw fail("nested deeper than \(OIPJSONParser.maxDepth) levels") }
        position += 1
        var members: [(String, OIPJSON)] = []
        skipWhitespace()
        if !atEnd, current == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
            let nameOffset = position
            let name = try string()
            guard !members.contains(where: { $0.0 == name }) else {
                throw fail("member '\(name)' appears twice", at: nameOffset)
            }
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
            position += 1
            skipWhitespace()
            members.append((name, try value(depth: depth)))
            skipWhitespace()
            guard !atEnd else { throw fail("the JSON text ends inside an object") }
            if current == UInt8(ascii: ",") { position += 1; continue }
            if current == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw fail("expected ',' or '}' in an object")
        }
    }

    private mutating func array(depth: Int) throws(OIPJSONError) -> OIPJSON {
        guard depth <= OIPJSONParser.maxDepth else { throw fail("nested deeper than \(OIPJSONParser.maxDepth) levels") }
        position += 1
        skipWhitespace()
        if !atEnd, current == UInt8(ascii: "]") { position += 1; return .numbers([]) }
        // Numbers go straight into one contiguous array; the first value that
        // is not a number turns the array into a general one.
        var numbers: [Double] = []
        var values: [OIPJSON]? = nil
        while true {
            skipWhitespace()
            guard !atEnd else { throw fail("the JSON text ends inside an array") }
            let isNumber = current == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(current)
            if values == nil, isNumber {
                numbers.append(try number())
            } else {
                if values == nil {
                    values = numbers.map(OIPJSON.number)
                    numbers = []
                }
                values!.append(try value(depth: depth))
            }
            skipWhitespace()
            guard !atEnd else { throw fail("the JSON text ends inside an array") }
            if current == UInt8(ascii: ",") {
                position += 1
                skipWhitespace()
                if !atEnd, current == UInt8(ascii: "]") { throw fail("trailing comma before ']'") }
                continue
            }
            if current == UInt8(ascii: "]") {
                position += 1
                if let values { return .array(values) }
                return .numbers(numbers)
            }
            throw fail("expected ',' or ']' in an array")
        }
    }

    /// A number (RFC 8259 §6), read as `TensorDecoder` reads one (`JSONNumber`:
    /// the same grammar, errors at the byte that breaks it, correctly rounded);
    /// one past the double range is an error.
    private mutating func number() throws(OIPJSONError) -> Double {
        let start = position
        let number: (value: Double, end: Int)
        do throws(DecodeError) {
            number = try JSONNumber.read(bytes, at: start)
        } catch {
            guard case .malformed(let offset, let reason) = error else { throw fail(error.description, at: start) }
            throw fail(reason, at: offset)
        }
        position = number.end
        guard number.value.isFinite else { throw fail("a number is out of the double range", at: start) }
        return number.value
    }

    /// A string (RFC 8259 §7), escapes decoded, UTF-8 checked.
    private mutating func string() throws(OIPJSONError) -> String {
        let start = position
        position += 1
        // Fast path for the usual string, printable ASCII without escapes: made straight from its bytes (ASCII
        // is valid UTF-8), with no byte-by-byte copy or generic UTF-8 check (an OIP header's ~60 strings were
        // 60,000 of its 83,000 parse instructions). Anything else is read from its start by the loop below.
        var end = position
        while end < bytes.count, bytes[end] >= 0x20, bytes[end] < 0x80, bytes[end] != UInt8(ascii: "\\"),
            bytes[end] != UInt8(ascii: "\"") {
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
            position = end + 1
            return text
        }
        var text: [UInt8] = []
        while true {
            guard !atEnd else { throw fail("the JSON text ends inside a string", at: start) }
            let byte = current
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let string = String(validating: text, as: UTF8.self) else {
                    throw fail("a string is not valid UTF-8", at: start)
                }
                return string
            case UInt8(ascii: "\\"):
                position += 1
                guard !atEnd else { throw fail("the JSON text ends inside a string", at: start) }
                let escape = current
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw fail("a lone surrogate in a string")
                        }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate in a string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw fail("a lone surrogate in a string")
                    }
                    text.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default: throw fail("invalid escape '\\\(OIPJSONParser.show(escape))'", at: position - 2)
                }
            case 0..<0x20:
                throw fail("a control character in a string must be escaped")
            default:
                text.append(byte)
                position += 1
            }
        }
    }

    private mutating func hex4() throws(OIPJSONError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw fail("a \\u escape needs 4 hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = current
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("a \\u escape needs 4 hex digits")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
