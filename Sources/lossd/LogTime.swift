#if canImport(Glibc)
import Glibc
#endif

/// Log timestamps: UTC, RFC 3339 with milliseconds (`2026-11-29T14:03:07.123Z`),
/// from the C library rather than a formatter object, since the access log
/// writes one per request.
enum LogTime {
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let millis = Int(spec.tv_nsec) / 1_000_000
        _ = buffer.withUnsafeMutableBufferPointer { out in
            withVaList([Int32(parts.tm_year) + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                        parts.tm_min, parts.tm_sec, Int32(millis)]) { args in
                vsnprintf(out.baseAddress, out.count, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", args)
            }
        }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes one whole line to standard error (or `fd`) in one call, so that
    /// lines from concurrent connections never interleave.
    static func write(_ line: String, to fd: Int32 = 2) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }
}
