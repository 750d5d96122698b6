#if canImport(Glibc)
import Glibc
#endif

/// Log timestamps: UTC, RFC 3339 with milliseconds (`2026-11-29T14:03:07.123Z`),
/// formatted by hand from `clock_gettime` (a vDSO call, no system call)
/// rather than by a formatter object or `gmtime_r`/`snprintf`, since the
/// access log writes one per request.
enum LogTime {
    static func now() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendNow(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the current time, 24 bytes, to `out`.
    static func appendNow(to out: inout [UInt8]) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        append(seconds: Int(spec.tv_sec), milliseconds: Int(spec.tv_nsec) / 1_000_000, to: &out)
    }

    /// Appends the UTC time `seconds` since the Unix epoch plus `milliseconds`.
    static func append(seconds: Int, milliseconds: Int, to out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days to civil date: H. Hinnant's algorithm (proleptic Gregorian), pure
        // arithmetic, so no time-zone lock as in gmtime_r.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        // The 24 bytes are written on the stack and appended once: appended a byte
        // at a time they were about 1,500 instructions of every access line.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { text in
            digits(year, 4, text, at: 0)
            text[4] = UInt8(ascii: "-")
            digits(month, 2, text, at: 5)
            text[7] = UInt8(ascii: "-")
            digits(day, 2, text, at: 8)
            text[10] = UInt8(ascii: "T")
            digits(secondOfDay / 3600, 2, text, at: 11)
            text[13] = UInt8(ascii: ":")
            digits(secondOfDay / 60 % 60, 2, text, at: 14)
            text[16] = UInt8(ascii: ":")
            digits(secondOfDay % 60, 2, text, at: 17)
            text[19] = UInt8(ascii: ".")
            digits(milliseconds, 3, text, at: 20)
            text[23] = UInt8(ascii: "Z")
            out.append(contentsOf: UnsafeBufferPointer(text))
        }
    }

    /// The last `width` decimal digits of `value` (≥ 0), zero-padded, at `text[start...]`.
    private static func digits(_ value: Int, _ width: Int, _ text: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        var rest = value
        for i in stride(from: start + width - 1, through: start, by: -1) {
            text[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
    }
}
