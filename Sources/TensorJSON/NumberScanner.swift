import CFastFloat

/// One JSON number as the grammar pass (`NumberScanner.scanToken`) read it,
/// before conversion: fast_float's parsed number. The value is
/// (-1)^negative × significand × 10^exponent while `tooManyDigits` is false;
/// past 19 digits the significand may have wrapped and only the number's
/// bytes (up to `end`) say exactly what it is.
struct NumberToken {
    var negative: Bool
    /// The digits, integer and fraction, as one integer (exact up to 19 digits).
    var significand: UInt64
    /// The power of ten: the written exponent minus the fraction's length.
    var exponent: Int
    /// More than 19 digits (a point and a leading zero counted as digits):
    /// `significand` may not be the number's.
    var tooManyDigits: Bool
    /// The index of the first byte after the number.
    var end: Int
}

/// The number core of the decoder: one grammar pass (`scanToken`), one
/// conversion (`value(of:)`, with `exactValue`, Clinger's fast path, shared by
/// both paths), and the hot path's reader of short numbers (`scanShort`).
///
/// `scanShort` reads a JSON number of the usual short shape (`0.10281307`,
/// `-1.2345678e-05`, `3`) with unaligned 8-byte loads (SWAR), for
/// `TensorDecoder`'s hot path. Anything else — a long or malformed number, one
/// out of range — it declines, and the decoder's careful scanner reads it (and
/// reports its error); so both give the same value for every number they read.
enum NumberScanner {
    /// Bytes that must be readable from a number's first byte before
    /// `scanShort` may look at it: the longest number it reads (1 + 7 + 1 + 15
    /// + 1 + 1 + 3 = 29 bytes), the byte after it, and the 8-byte loads.
    static let reach = 40

    /// What `scanToken` says at the first byte the grammar refuses.
    static let digitAfterMinus = "expected a digit after '-'"
    static let leadingZero = "leading zeros are not allowed"
    static let digitAfterPoint = "expected a digit after '.'"
    static let digitInExponent = "expected a digit in the exponent"

    /// 10^0 … 10^22: the exactly representable powers of ten (Clinger's fast path).
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    /// 10^0 … 10^8 as integers, to append a run of digits to a significand.
    static let integerPowersOfTen: [UInt64] = [
        1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
    ]

    /// Reads a run of short numbers joined by commas (`0.1,-2.5,3` or `0.1, -2.5`) from
    /// `position` into `out`, while a number starts before `limit` and `out`
    /// has room for `capacity` more. Returns how many it read, where it
    /// stopped, and whether that is just after a number (at the byte that
    /// followed it) or at what it left to the caller: where it began, or
    /// after a comma (whitespace, a number that is not short, or not a number).
    ///
    /// The hot loop of a tensor's numbers, a function of its own so that
    /// `scanShort` inlines into it (in the decoder's large run loop the
    /// inliner declines). Bytes up to `limit + reach` must be readable.
    @inline(never)
    static func scanRun(
        _ p: UnsafePointer<UInt8>, from position: Int, limit: Int, into out: UnsafeMutablePointer<Double>, capacity: Int,
        _ powers: UnsafePointer<Double>, _ integerPowers: UnsafePointer<UInt64>
    ) -> (count: Int, position: Int, afterNumber: Bool) {
        var position = position
        var count = 0
        // Written for speed. A run that starts with a one-digit number (class
        // indices, 0/1 targets) is read by `scanDigitRun`, four numbers at a
        // time where it can; other runs pay one byte compare per run, not per
        // number (checked per number it cost MSE's floats 3 %; per run, 1.5 %).
        if position < limit && p[position &+ 1] == UInt8(ascii: ",") {
            return scanDigitRun(p, from: position, limit: limit, into: out, capacity: capacity, powers, integerPowers)
        }
        while position < limit && count < capacity {
            guard let (end, value) = scanShort(p, position, powers, integerPowers) else { break }
            out[count] = value
            count &+= 1
            // A bare comma goes on to the next number (`scanShort` checks its first
            // byte); anything else is the caller's.
            guard p[end] == UInt8(ascii: ",") else { return (count, end, true) }
            position = end &+ 1
            // Python's json.dumps writes ", ": one space after the comma costs a byte compare.
            if p[position] == UInt8(ascii: " ") { position &+= 1 }
        }
        return (count, position, false)
    }

    /// `scanRun` for a run of mostly one-digit numbers: the same loop, and
    /// after each one-digit number, four more at a time while eight bytes
    /// read `d,d,d,d,` (each number as the loop alone would read it, and the
    /// same checks of `limit` and `capacity` before each). Out of line, as
    /// `scanRun` is, so that neither loop's registers crowd the other's.
    @inline(never)
    static func scanDigitRun(
        _ p: UnsafePointer<UInt8>, from position: Int, limit: Int, into out: UnsafeMutablePointer<Double>, capacity: Int,
        _ powers: UnsafePointer<Double>, _ integerPowers: UnsafePointer<UInt64>
    ) -> (count: Int, position: Int, afterNumber: Bool) {
        var position = position
        var count = 0
        while position < limit && count < capacity {
            let start = position
            guard let (end, value) = scanShort(p, position, powers, integerPowers) else { break }
            out[count] = value
            count &+= 1
            guard p[end] == UInt8(ascii: ",") else { return (count, end, true) }
            position = end &+ 1
            if p[position] == UInt8(ascii: " ") { position &+= 1 }
            if end &- start == 1 {
                // The fourth number starts 6 bytes on: it must start before `limit` too.
                while position &+ 6 < limit && capacity &- count >= 4 {
                    let bytes = load(p + position)
                    guard isFourDigitsAndCommas(bytes) else { break }
                    out[count] = Double(bytes & 0x0F)
                    out[count &+ 1] = Double((bytes >> 16) & 0x0F)
                    out[count &+ 2] = Double((bytes >> 32) & 0x0F)
                    out[count &+ 3] = Double((bytes >> 48) & 0x0F)
                    count &+= 4
                    position &+= 8
                    if p[position] == UInt8(ascii: " ") { position &+= 1 }
                }
            }
        }
        return (count, position, false)
    }

    /// The number starting at `start`: its end (the first byte after it) and
    /// its value, correctly rounded and finite; or nil when it is not of the
    /// short shape: `-?`, an integer part of 1 to 7 digits, an optional
    /// fraction of 1 to 15 digits, an optional exponent of 1 to 3 digits.
    ///
    /// `reach` bytes from `start` must be readable. `powers` points at
    /// `exactPowersOfTen`, `integerPowers` at `integerPowersOfTen` (the caller
    /// holds them, so no lazy-global check is paid per number).
    @inline(__always)
    static func scanShort(
        _ p: UnsafePointer<UInt8>, _ start: Int, _ powers: UnsafePointer<Double>, _ integerPowers: UnsafePointer<UInt64>
    ) -> (end: Int, value: Double)? {
        // Positions stay within `reach` of `start`: wrapping arithmetic drops the overflow checks.
        var i = start
        let negative = p[i] == UInt8(ascii: "-")
        if negative { i &+= 1 }
        let sign = UInt64(negative ? 1 : 0) &<< 63
        let first = p[i] &- UInt8(ascii: "0")
        guard first < 10 else { return nil }
        var significand: UInt64
        let second = p[i &+ 1]
        if second == UInt8(ascii: ".") {
            // One integer digit (`0.1028`, `-1.2345678`): the common case, no load.
            significand = UInt64(first)
            i &+= 1
        } else if second &- UInt8(ascii: "0") >= 10 {
            // A one-digit integer (a class index, a 0/1 target) is exact as it stands, unless an exponent follows.
            i &+= 1
            if second | 0x20 != UInt8(ascii: "e") {
                let magnitude = Double(first)
                return (i, Double(bitPattern: magnitude.bitPattern | sign))
            }
            significand = UInt64(first)
        } else {
            let values = load(p + i) &- 0x3030_3030_3030_3030
            let run = leadingDigits(values)
            // Eight digits or more, or a leading zero (an error): the careful scanner's.
            guard run < 8, first != 0 || run == 1 else { return nil }
            significand = digitsValue(values &<< UInt64(64 &- 8 &* run))
            i &+= run
        }
        var exponent = 0
        if p[i] == UInt8(ascii: ".") {
            i &+= 1
            // A float32's 5 to 9 fraction digits are found and converted in one or two SWAR steps.
            let values = load(p + i) &- 0x3030_3030_3030_3030
            let run = leadingDigits(values)
            guard run > 0 else { return nil }
            // One path for every window length, no branch on it: a tensor's
            // fractions are 7 or 8 digits long (|x| above or below 1) in no order.
            significand = significand &* integerPowers[run] &+ digitsValue(values &<< UInt64(64 &- 8 &* run))
            exponent = -run
            i &+= run
            // A digit still: the window was full. One byte usually tells that the fraction ended.
            if p[i] &- UInt8(ascii: "0") < 10 {
                let more = load(p + i) &- 0x3030_3030_3030_3030
                let extra = leadingDigits(more)
                // Below 10^11, seven more digits still fit in 64 bits (no overflow).
                guard extra < 8, significand < 100_000_000_000 else { return nil }
                significand = significand &* integerPowers[extra] &+ digitsValue(more &<< UInt64(64 &- 8 &* extra))
                exponent = -8 &- extra
                i &+= extra
            }
        }
        guard p[i] | 0x20 == UInt8(ascii: "e") else {
            // No exponent: the power is the fraction's length (0 to 15).
            guard let value = exactValue(significand, exponent, sign: sign, powers) else { return converted(p, start, i) }
            return (i, value)
        }
        i &+= 1
        var c = p[i]
        let exponentIsNegative = c == UInt8(ascii: "-")
        if exponentIsNegative || c == UInt8(ascii: "+") {
            i &+= 1
            c = p[i]
        }
        var digit = c &- UInt8(ascii: "0")
        guard digit < 10 else { return nil }
        var written = Int(digit)
        i &+= 1
        digit = p[i] &- UInt8(ascii: "0")
        if digit < 10 {
            written = written &* 10 &+ Int(digit)
            i &+= 1
            digit = p[i] &- UInt8(ascii: "0")
            if digit < 10 {
                written = written &* 10 &+ Int(digit)
                i &+= 1
                guard p[i] &- UInt8(ascii: "0") >= 10 else { return nil }
            }
        }
        exponent = exponentIsNegative ? exponent &- written : exponent &+ written
        guard let value = exactValue(significand, exponent, sign: sign, powers) else { return converted(p, start, i) }
        return (i, value)
    }

    /// The one grammar pass (RFC 8259 §6, `-? (0 | [1-9][0-9]*) (. [0-9]+)?
    /// ([eE] [+-]? [0-9]+)?`) over the number that starts at `start`, as
    /// fast_float's `parse_number_string`: it checks every byte and gathers
    /// the sign, the significand's digits and the decimal exponent on the way,
    /// for `value(of:)`. Returns nil when the `n` bytes end before the number
    /// does (the byte after a number must be seen to know it ended); throws
    /// `.malformed` at the first byte the grammar refuses, `offset` plus its index.
    ///
    /// `scanShort` reads the short numbers of the hot path with fewer checks
    /// and declines everything else, which comes here; so does a number that
    /// a chunk boundary cuts (`TensorDecoder` carries its bytes over), and
    /// every number of the OIP JSON parser (`JSONNumber`). The hot path read
    /// here measured 11% slower (scripts/bench-json.sh, 905 against 1020
    /// MB/s): `scanShort`'s guaranteed `reach` spares it the bounds checks.
    ///
    /// Written for speed (pretty-printed bodies take this path for every
    /// number): no branch on the sign, a fraction read by SWAR steps, an
    /// exponent digit by digit (the next number's position waits for it).
    @inline(__always)
    static func scanToken(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int, offset: Int, _ integerPowers: UnsafePointer<UInt64>
    ) throws(DecodeError) -> NumberToken? {
        // Positions stay below `n` and counts below its length: wrapping arithmetic drops the overflow checks.
        // A number and the byte after it are at least two bytes; with them
        // readable, no branch on the sign (in a tensor it is as good as random).
        guard start &+ 1 < n else { return nil }
        let negative = p[start] == UInt8(ascii: "-")
        var i = start &+ Int(UInt8(negative ? 1 : 0))
        var c = p[i]
        var significand = UInt64(c &- UInt8(ascii: "0"))
        guard significand < 10 else { throw DecodeError.malformed(offset: offset &+ i, reason: digitAfterMinus) }
        let digitsStart = i
        i &+= 1
        guard i < n else { return nil }
        c = p[i]
        // Most integer parts are one digit (`1.2345678e-05`, `-3.1415927`, `0.1028`): the loop is not entered.
        if c &- UInt8(ascii: "0") < 10 {
            guard significand != 0 else { throw DecodeError.malformed(offset: offset &+ i, reason: leadingZero) }
            repeat {
                significand = significand &* 10 &+ UInt64(c &- UInt8(ascii: "0"))
                i &+= 1
                guard i < n else { return nil }
                c = p[i]
            } while c &- UInt8(ascii: "0") < 10
        }
        var exponent = 0
        if c == UInt8(ascii: ".") {
            i &+= 1
            let fractionStart = i
            // Eight bytes at a time while the chunk has room: a float32's 5 to
            // 9 fraction digits are found and converted in one or two SWAR steps.
            fraction: do {
                while n &- i >= 8 {
                    let values = load(p + i) &- 0x3030_3030_3030_3030
                    let run = leadingDigits(values)
                    // The run's digits move to the top bytes (none when run is 0:
                    // two shifts, since one by 64 would be by 0).
                    let shift = UInt64(32 &- 4 &* run)
                    significand = significand &* integerPowers[run] &+ digitsValue((values &<< shift) &<< shift)
                    i &+= run
                    if run < 8 {
                        c = p[i]  // the fraction ended inside the eight bytes
                        break fraction
                    }
                    // Eight digits: one byte usually tells that the fraction ended.
                    guard i < n else { return nil }
                    c = p[i]
                    if c &- UInt8(ascii: "0") >= 10 { break fraction }
                }
                // Near the chunk's end, digit by digit.
                guard i < n else { return nil }
                c = p[i]
                while c &- UInt8(ascii: "0") < 10 {
                    significand = significand &* 10 &+ UInt64(c &- UInt8(ascii: "0"))
                    i &+= 1
                    guard i < n else { return nil }
                    c = p[i]
                }
            }
            guard i != fractionStart else { throw DecodeError.malformed(offset: offset &+ i, reason: digitAfterPoint) }
            exponent = fractionStart &- i
        }
        // More than 19 digits, or 19 and a point or a leading zero (counted as
        // digits: one subtraction, and only the rare 19-digit number takes the
        // careful conversion without need).
        let tooManyDigits = i &- digitsStart > 19
        if c | 0x20 == UInt8(ascii: "e") {
            i &+= 1
            guard i < n else { return nil }
            c = p[i]
            var exponentIsNegative = false
            if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                exponentIsNegative = c == UInt8(ascii: "-")
                i &+= 1
                guard i < n else { return nil }
                c = p[i]
            }
            guard c &- UInt8(ascii: "0") < 10 else {
                throw DecodeError.malformed(offset: offset + i, reason: digitInExponent)
            }
            // Digit by digit: an exponent has one to three, and a predicted
            // branch per digit is quicker than a SWAR step whose result the
            // next number's position would wait for.
            var written = 0
            repeat {
                // Saturates: past 10^5 the value is 0 or ∞ whatever the digits.
                if written < 100_000 { written = written &* 10 &+ Int(c &- UInt8(ascii: "0")) }
                i &+= 1
                guard i < n else { return nil }
                c = p[i]
            } while c &- UInt8(ascii: "0") < 10
            // |exponent| is at most the chunk's length plus 10^6: no overflow.
            exponent = exponentIsNegative ? exponent &- written : exponent &+ written
        }
        return NumberToken(negative: negative, significand: significand, exponent: exponent, tooManyDigits: tooManyDigits, end: i)
    }

    /// The one conversion, for both paths: Clinger's fast path when the
    /// token's significand and power of ten are both exact doubles, else
    /// fast_float (Eisel–Lemire, exact fallback) over the token's bytes
    /// (`start` up to its end). Correctly rounded either way; out of range is ±∞ or 0.
    ///
    /// Why this way: the common case (at most 2^53 with a power of ten up to
    /// 22, e.g. every float32 printed with 8 or 9 digits) is one exact IEEE
    /// operation with no second pass and no call. `strtod` measured about 3x
    /// slower than fast_float on our payload, Foundation about 30x
    /// (scripts/bench-json.sh).
    @inline(__always)
    static func value(
        of token: NumberToken, _ p: UnsafePointer<UInt8>, _ start: Int, _ powers: UnsafePointer<Double>
    ) -> Double {
        if !token.tooManyDigits,
            let value = exactValue(token.significand, token.exponent, sign: UInt64(token.negative ? 1 : 0) &<< 63, powers) {
            return value
        }
        return convert(p + start, p + token.end)
    }

    /// Clinger's fast path (1990): when the significand is at most 2^53 and
    /// |exponent| at most 22, both operands are exact doubles, so the one IEEE
    /// 754 multiplication or division rounds correctly (and is finite). The
    /// sign goes in as a bit (`1 << 63` or 0), not a branch: signs in a tensor
    /// are as good as random. Nil outside the fast path.
    @inline(__always)
    static func exactValue(_ significand: UInt64, _ exponent: Int, sign: UInt64, _ powers: UnsafePointer<Double>) -> Double? {
        guard significand <= 1 << 53 && UInt(bitPattern: exponent &+ 22) <= 44 else { return nil }
        let exact = Double(Int64(bitPattern: significand))  // below 2^63: the cheaper signed conversion
        let magnitude = exponent < 0 ? exact / powers[-exponent] : exact * powers[exponent]
        return Double(bitPattern: magnitude.bitPattern | sign)
    }

    /// Everything `scanShort` reads but cannot convert exactly by itself:
    /// fast_float (Eisel–Lemire, exact fallback); out of range is the careful path's to report.
    @inline(__always)
    static func converted(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (end: Int, value: Double)? {
        let value = convert(p + start, p + end)
        guard value.isFinite else { return nil }
        return (end, value)
    }

    /// The number from `first` to `last` (grammar already checked), by fast_float.
    /// Out of line: its address-taken result would cost the inlined hot path a stack frame.
    @inline(never)
    static func convert(_ first: UnsafePointer<UInt8>, _ last: UnsafePointer<UInt8>) -> Double {
        var converted = 0.0
        first.withMemoryRebound(to: CChar.self, capacity: last - first) { chars in
            _ = cff_parse_double(chars, chars + (last - first), &converted)
        }
        return converted
    }

    /// Whether eight bytes (first in memory the lowest) read `d,d,d,d,`: an
    /// ASCII digit in each even byte, a comma in each odd one (SWAR, in 16-bit
    /// lanes, so no carry crosses from one byte pair to the next).
    @inline(__always)
    static func isFourDigitsAndCommas(_ bytes: UInt64) -> Bool {
        let lanes: UInt64 = 0x0001_0001_0001_0001
        guard (bytes & 0xFF00_FF00_FF00_FF00) == 0x2C00_2C00_2C00_2C00 else { return false }
        let digits = bytes & 0x00FF_00FF_00FF_00FF
        // Bit 8 of a lane: set by + 0xD0 when the byte is at least '0', by + 0xC6 when it is past '9'.
        let atLeastZero = (digits &+ 0xD0 &* lanes) & (0x100 &* lanes)
        let pastNine = (digits &+ 0xC6 &* lanes) & (0x100 &* lanes)
        return atLeastZero == 0x100 &* lanes && pastNine == 0
    }

    /// Eight bytes at `p`, the first in memory the lowest.
    @inline(__always)
    static func load(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    }

    /// How many of eight bytes (first in memory first) are ASCII digits
    /// before the first one that is not (8 when all are), given the bytes
    /// minus 0x30 each as one 64-bit subtraction (SWAR).
    @inline(__always)
    static func leadingDigits(_ values: UInt64) -> Int {
        // A digit byte is now 0...9: adding 0x76 leaves its top bit clear, and
        // any other byte has it set (after the add, or before it when it
        // wrapped below zero). Borrows and carries only move towards later
        // bytes, so they can only disturb bytes after the first non-digit.
        let nonDigits = ((values &+ 0x7676_7676_7676_7676) | values) & 0x8080_8080_8080_8080
        return nonDigits.trailingZeroBitCount &>> 3
    }

    /// The value of eight bytes holding one decimal digit each (0...9), the
    /// first in memory the most significant.
    @inline(__always)
    static func digitsValue(_ digits: UInt64) -> UInt64 {
        var x = digits &* 10 &+ (digits >> 8)  // each even byte: a two-digit value
        let pairs: UInt64 = 0x0000_00FF_0000_00FF
        x = ((x & pairs) &* 0x000F_4240_0000_0064 &+ ((x >> 16) & pairs) &* 0x0000_2710_0000_0001) >> 32
        return x & 0xFFFF_FFFF
    }

    /// The value of eight ASCII digits at `p`, or nil if any byte is not a digit.
    @inline(__always)
    static func eightDigits(_ p: UnsafePointer<UInt8>) -> UInt64? {
        let values = load(p) &- 0x3030_3030_3030_3030
        guard leadingDigits(values) == 8 else { return nil }
        return digitsValue(values)
    }
}
