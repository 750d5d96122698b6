/// RFC 8259 §6's number grammar as a state machine, one byte at a time:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
///
/// `TensorDecoder` checks a number that lies whole in a chunk with a faster
/// unrolled loop; this machine takes over only when a chunk boundary cuts the
/// number, and both report the same errors at the same bytes.
enum NumberGrammar: Equatable {
    case minus, zero, integer, point, fraction, exponentMark, exponentSign, exponent

    /// What the next byte does.
    enum Step: Equatable {
        /// The byte belongs to the number.
        case more(NumberGrammar)
        /// The number ended before this byte.
        case end
        /// The byte cannot follow; the reason.
        case error(String)
    }

    static let digitAfterMinus = "expected a digit after '-'"
    static let leadingZero = "leading zeros are not allowed"
    static let digitAfterPoint = "expected a digit after '.'"
    static let digitInExponent = "expected a digit in the exponent"

    /// The state after the first byte, which is '-' or a digit.
    init(first: UInt8) {
        switch first {
        case UInt8(ascii: "-"): self = .minus
        case UInt8(ascii: "0"): self = .zero
        default: self = .integer
        }
    }

    /// Whether the bytes so far are a whole number.
    var isComplete: Bool {
        switch self {
        case .zero, .integer, .fraction, .exponent: true
        case .minus, .point, .exponentMark, .exponentSign: false
        }
    }

    func next(_ c: UInt8) -> Step {
        let isDigit = c &- UInt8(ascii: "0") < 10
        let isE = c | 0x20 == UInt8(ascii: "e")
        switch self {
        case .minus:
            if c == UInt8(ascii: "0") { return .more(.zero) }
            return isDigit ? .more(.integer) : .error(Self.digitAfterMinus)
        case .zero:
            if isDigit { return .error(Self.leadingZero) }
            if c == UInt8(ascii: ".") { return .more(.point) }
            return isE ? .more(.exponentMark) : .end
        case .integer:
            if isDigit { return .more(.integer) }
            if c == UInt8(ascii: ".") { return .more(.point) }
            return isE ? .more(.exponentMark) : .end
        case .point:
            return isDigit ? .more(.fraction) : .error(Self.digitAfterPoint)
        case .fraction:
            if isDigit { return .more(.fraction) }
            return isE ? .more(.exponentMark) : .end
        case .exponentMark:
            if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { return .more(.exponentSign) }
            return isDigit ? .more(.exponent) : .error(Self.digitInExponent)
        case .exponentSign:
            return isDigit ? .more(.exponent) : .error(Self.digitInExponent)
        case .exponent:
            return isDigit ? .more(.exponent) : .end
        }
    }
}
