#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `Date` header value (IMF-fixdate, RFC 9110 §5.6.7), cached: it is
/// formatted at most once per second, by whichever connection owns this cache.
///
/// Each connection keeps its own cache, so no lock is taken on the hot path;
/// formatting once per second per busy connection costs next to nothing.
struct HTTPDate {
    private var second: time_t = -1
    /// The formatted date, always 29 bytes: `Sun, 06 Nov 1994 08:49:37 GMT`.
    private(set) var bytes: [UInt8] = []

    /// The current date, reformatted only when the second has changed.
    mutating func now() -> [UInt8] {
        let t = time(nil)
        if t != second {
            second = t
            bytes = HTTPDate.format(t)
        }
        return bytes
    }

    /// Formats `t` (seconds since the epoch) as an IMF-fixdate.
    static func format(_ t: time_t) -> [UInt8] {
        var t = t
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var out: [UInt8] = []
        out.reserveCapacity(29)
        func two(_ n: Int32) {
            out.append(UInt8(48 + n / 10))
            out.append(UInt8(48 + n % 10))
        }
        out += days[Int(parts.tm_wday)].utf8
        out += ", ".utf8
        two(parts.tm_mday)
        out.append(0x20)
        out += months[Int(parts.tm_mon)].utf8
        out.append(0x20)
        let year = parts.tm_year + 1900
        two(year / 100)
        two(year % 100)
        out.append(0x20)
        two(parts.tm_hour)
        out.append(UInt8(ascii: ":"))
        two(parts.tm_min)
        out.append(UInt8(ascii: ":"))
        two(parts.tm_sec)
        out += " GMT".utf8
        return out
    }
}
