/// A set of byte values: one of the character classes of the HTTP grammar,
/// tested with one table load (hot path).
struct ByteSet: Sendable {
    private let mask: UInt8

    private init(mask: UInt8) {
        self.mask = mask
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        ByteSet.classes.utf8Start[Int(byte)] & mask != 0
    }

    /// One byte per byte value: 0x40 plus the bits of the classes it belongs
    /// to (token 1, requestTarget 2, host 4, fieldValue 8, hexDigit 16). A
    /// StaticString is constant data in the binary, so a lookup is one load,
    /// with no lazily initialised global behind it. Generated from the
    /// grammar; `byteClassesMatchTheirGrammar` checks it.
    private static let classes: StaticString = """
        @@@@@@@@@H@@@@@@@@@@@@@@@@@@@@@@HOHIOOOONNOONOOJ__________NNHNHJ\
        J______OOOOOOOOOOOOOOOOOOOOLHLIOI______OOOOOOOOOOOOOOOOOOOOHIHO@\
        HHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHH\
        HHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHH
        """

    /// The index of the first byte of `bytes` outside `fieldValue`, or nil.
    ///
    /// Values are most of a head's bytes, so this tests eight at a time: a word
    /// with no byte below 0x20 and none equal to 0x7F is all field-vchar/SP
    /// (obs-text included); only a word that may hold a CTL (or an HTAB, which
    /// is allowed) is looked at byte by byte.
    static func firstControlByte(in bytes: UnsafeRawBufferPointer) -> Int? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let n = bytes.count
        var i = 0
        if let base = bytes.baseAddress {
            while i + 8 <= n {
                let w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let below20 = (w &- ones &* 0x20) & ~w & highs  // nonzero iff some byte < 0x20
                let x = w ^ (ones &* 0x7F)
                let equals7F = (x &- ones) & ~x & highs  // nonzero iff some byte == 0x7F
                if below20 | equals7F != 0 { break }
                i += 8
            }
        }
        while i < n {
            if !fieldValue.contains(bytes[i]) { return i }
            i += 1
        }
        return nil
    }

    /// tchar (RFC 9110 §5.6.2): the bytes of a method, a field name, a transfer-coding name.
    static let token = ByteSet(mask: 1)
    /// The bytes of an origin-form target and of an absolute-form path and query (RFC 3986 §3.3, §3.4):
    /// unreserved, sub-delims, ":", "@", "/", "?" and "%" (which must start a pct-encoding).
    static let requestTarget = ByteSet(mask: 2)
    /// The bytes of uri-host [":" port] (RFC 3986 §3.2.2), as in Host and an absolute-form authority:
    /// unreserved, sub-delims, ":", "[", "]" and "%".
    static let host = ByteSet(mask: 4)
    /// field-vchar, SP and HTAB (RFC 9110 §5.5): every byte but the CTLs (NUL, CR, LF, DEL, …).
    static let fieldValue = ByteSet(mask: 8)
    /// HEXDIG (RFC 5234 Appendix B.1), either case.
    static let hexDigit = ByteSet(mask: 16)
}

// Byte helpers shared by the request parser and the chunked decoder.

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// Two hex digits, for error details.
    var hexText: String {
        let digits: StaticString = "0123456789ABCDEF"
        let p = digits.utf8Start
        return String(decoding: [p[Int(self >> 4)], p[Int(self & 15)]], as: UTF8.self)
    }
}

extension UnsafeRawBufferPointer {
    /// The first index of `byte` at or after `start`.
    func firstIndex(of byte: UInt8, from start: Int) -> Int? {
        var i = start
        while i < count {
            if self[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// Byte equality with an ASCII literal.
    func equalsASCII(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let p = literal.utf8Start
        for i in 0..<count where self[i] != p[i] { return false }
        return true
    }

    /// ASCII case-insensitive equality with a lowercase literal of letters, digits and "-"
    /// (RFC 9110 §5.1, §7: field names and coding names are case-insensitive). Callers pass
    /// tokens, and among token bytes `b | 0x20` maps only A–Z onto the literal's bytes.
    func equalsASCIILowercase(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let p = literal.utf8Start
        for i in 0..<count where self[i] | 0x20 != p[i] { return false }
        return true
    }
}
