/// An ordered list of header fields. Names compare case-insensitively
/// (RFC 9110 §5.1); order and repeated fields are kept as received.
public struct Headers: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Field = (name: String, value: String)

    private var fields: [Field] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name, value) }
    }

    /// The number of fields.
    public var count: Int { fields.count }

    /// The first value of the named field, or nil.
    public subscript(_ name: String) -> String? {
        for field in fields where Headers.equalsIgnoringCase(field.name, name) { return field.value }
        return nil
    }

    /// Every value of the named field, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { Headers.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    /// True when the named field is present.
    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Makes room for `n` fields, so a parser fills the list with one allocation.
    mutating func reserveCapacity(_ n: Int) { fields.reserveCapacity(n) }

    /// Appends a field.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// Replaces every field of that name with one field.
    public mutating func set(_ name: String, _ value: String) {
        // Nearly always absent (CORS sets one on every response): rewriting the list for nothing cost ~900 instructions.
        if contains(name) { remove(name) }
        add(name, value)
    }

    /// Removes every field of that name.
    public mutating func remove(_ name: String) {
        fields.removeAll { Headers.equalsIgnoringCase($0.name, name) }
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// ASCII case-insensitive comparison: field names are tokens, so no
    /// Unicode folding is needed (or wanted).
    public static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        // Hot path (every lookup by name scans the fields): most names differ
        // in length, and a native string knows its UTF-8 length without a scan.
        guard a.utf8.count == b.utf8.count else { return false }
        // Names are nearly always spelled as looked up: String's == compares short strings as two words.
        if a == b { return true }
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return true
            case let (x?, y?):
                if x == y { continue }
                if x | 0x20 != y | 0x20 { return false }
                let lower = x | 0x20
                if lower < UInt8(ascii: "a") || lower > UInt8(ascii: "z") { return false }
            default: return false
            }
        }
    }
}

extension Headers: Equatable {
    /// Equal when both hold the same fields, byte for byte, in the same order.
    public static func == (lhs: Headers, rhs: Headers) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
