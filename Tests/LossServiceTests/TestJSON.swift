/// A small, strict JSON reader and writer for the tests. Foundation's
/// JSONSerialization on Linux does not always round decimal numbers
/// correctly (0.9999999999999999 came back as 1.0), which would corrupt
/// PyTorch's inputs; this one reads numbers with `Double(_:)` (correctly
/// rounded) and writes them in Swift's shortest round-trip form.
indirect enum TestJSON: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([TestJSON])
    case object([(String, TestJSON)])

    static func == (a: TestJSON, b: TestJSON) -> Bool { a.text == b.text }

    subscript(_ key: String) -> TestJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    var double: Double? { if case .number(let n) = self { return n } else { return nil } }
    var int: Int? { double.flatMap { Int(exactly: $0) } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var array: [TestJSON]? { if case .array(let a) = self { return a } else { return nil } }
    var isNull: Bool { self == .null }

    /// The leaves of nested arrays, in order.
    var flattened: [TestJSON] {
        if case .array(let items) = self { return items.flatMap(\.flattened) }
        return [self]
    }

    /// The object without these members.
    func removing(_ keys: Set<String>) -> TestJSON {
        guard case .object(let members) = self else { return self }
        return .object(members.filter { !keys.contains($0.0) })
    }

    /// Compact JSON text.
    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.description
        case .string(let s): return "\"" + s.replacingJSONSpecials() + "\""
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.map { "\"\($0.0.replacingJSONSpecials())\":\($0.1.text)" }.joined(separator: ",") + "}"
        }
    }

    struct ParseError: Error { var offset: Int }

    static func parse(_ text: String) throws -> TestJSON { try parse(Array(text.utf8)) }

    static func parse(_ bytes: [UInt8]) throws -> TestJSON {
        var i = 0
        let value = try parseValue(bytes, &i)
        skipSpace(bytes, &i)
        guard i == bytes.count else { throw ParseError(offset: i) }
        return value
    }

    private static func skipSpace(_ b: [UInt8], _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private static func parseValue(_ b: [UInt8], _ i: inout Int) throws -> TestJSON {
        skipSpace(b, &i)
        guard i < b.count else { throw ParseError(offset: i) }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, TestJSON)] = []
            skipSpace(b, &i)
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipSpace(b, &i)
                guard case .string(let key) = try parseValue(b, &i) else { throw ParseError(offset: i) }
                skipSpace(b, &i)
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw ParseError(offset: i) }
                i += 1
                members.append((key, try parseValue(b, &i)))
                skipSpace(b, &i)
                guard i < b.count else { throw ParseError(offset: i) }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                throw ParseError(offset: i)
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [TestJSON] = []
            skipSpace(b, &i)
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                items.append(try parseValue(b, &i))
                skipSpace(b, &i)
                guard i < b.count else { throw ParseError(offset: i) }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw ParseError(offset: i)
            }
        case UInt8(ascii: "\""):
            i += 1
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            while i < b.count, b[i] != UInt8(ascii: "\"") {
                if b[i] == UInt8(ascii: "\\") {
                    scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                    raw = []
                    i += 1
                    guard i < b.count else { throw ParseError(offset: i) }
                    switch b[i] {
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "b"): scalars.append("\u{8}")
                    case UInt8(ascii: "f"): scalars.append("\u{C}")
                    case UInt8(ascii: "u"):
                        guard i + 4 < b.count, let code = UInt32(String(decoding: b[(i + 1)...(i + 4)], as: UTF8.self), radix: 16)
                        else { throw ParseError(offset: i) }
                        scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                        i += 4
                    default: scalars.append(Unicode.Scalar(b[i]))
                    }
                } else {
                    raw.append(b[i])
                }
                i += 1
            }
            guard i < b.count else { throw ParseError(offset: i) }
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            i += 1
            return .string(String(scalars))
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            for (word, value) in [("true", TestJSON.bool(true)), ("false", .bool(false)), ("null", .null)] {
                let w = Array(word.utf8)
                if i + w.count <= b.count, Array(b[i..<(i + w.count)]) == w { i += w.count; return value }
            }
            throw ParseError(offset: i)
        default:
            let start = i
            while i < b.count, "+-0123456789.eE".utf8.contains(b[i]) { i += 1 }
            guard let number = Double(String(decoding: b[start..<i], as: UTF8.self)) else { throw ParseError(offset: start) }
            return .number(number)
        }
    }
}

extension String {
    fileprivate func replacingJSONSpecials() -> String {
        var out = ""
        for c in unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
