/// One RFC 8259 §6 number in a buffer that holds a whole JSON text, for the
/// parsers that do not stream (the Open Inference Protocol's JSON part): the
/// decoder's own grammar pass and conversion (`NumberScanner.scanToken`,
/// `NumberScanner.value(of:)`), so a number reads the same, and is refused at
/// the same byte for the same reason, whichever parser meets it.
public enum JSONNumber {
    /// Reads the number whose first byte (`-` or a digit) is `bytes[start]`:
    /// its value, correctly rounded (out of the double range it is ±∞ or ±0,
    /// for the caller to judge), and the index of the byte after it. Throws
    /// `.malformed` at the first byte the grammar refuses, with the decoder's
    /// reason (`expected a digit after '.'`); a number the buffer's end cuts
    /// short is refused at `bytes.count`.
    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) throws(DecodeError) -> (value: Double, end: Int) {
        precondition(start < bytes.count, "a number starts inside the buffer")
        if let token = try scanToken(bytes.baseAddress!, bytes.count, start, offset: 0) {
            return (value(of: token, bytes.baseAddress!, start), token.end)
        }
        // The number runs to the buffer's end: read it again with a byte after
        // it, since the grammar must see where a number ends.
        var tail = Array(bytes[start...])
        tail.append(0x20)
        return try tail.withUnsafeBufferPointer { (tail) throws(DecodeError) in
            // Never nil: a space ends the number or is refused.
            let token = try scanToken(tail.baseAddress!, tail.count, 0, offset: start)!
            return (value(of: token, tail.baseAddress!, 0), start + token.end)
        }
    }

    private static func scanToken(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int, offset: Int
    ) throws(DecodeError) -> NumberToken? {
        try NumberScanner.integerPowersOfTen.withUnsafeBufferPointer { (integerPowers) throws(DecodeError) in
            try NumberScanner.scanToken(p, n, start, offset: offset, integerPowers.baseAddress!)
        }
    }

    private static func value(of token: NumberToken, _ p: UnsafePointer<UInt8>, _ start: Int) -> Double {
        NumberScanner.exactPowersOfTen.withUnsafeBufferPointer { powers in
            NumberScanner.value(of: token, p, start, powers.baseAddress!)
        }
    }
}
