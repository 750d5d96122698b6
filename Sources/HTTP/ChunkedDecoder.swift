/// Incremental decoder of a chunked body (RFC 9112 §7.1): chunk sizes and
/// extensions capped, trailers parsed and dropped.
///
/// It is a byte-at-a-time state machine for the framing and hands chunk data
/// on in runs, straight from the caller's buffer: it keeps no bytes between
/// calls and allocates nothing (hot path, on purpose). Refusals:
/// - 400 for anything malformed: a bad chunk size or extension, a chunk-size
///   line over `Limits.maxChunkLineBytes`, chunk data not followed by CRLF, a
///   bad trailer field (validated like a header field);
/// - 413 once the chunk sizes add up past `Limits.maxBodyBytes`, as soon as
///   the offending size is read (so a huge size never overflows);
/// - 431 for a trailer section over `Limits.maxHeaderBytes` or with more than
///   `Limits.maxHeaderCount` fields.
struct ChunkedDecoder {
    private enum State {
        case size, sizeWhitespace, chunkExtension, sizeLF
        case data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
        case done
    }

    private let limits: Limits
    private var state = State.size
    /// While reading a chunk-size line, the size so far; while reading data, the bytes of it still to come.
    private var chunkSize = 0
    private var sizeDigits = 0
    /// Bytes of the current chunk-size line so far.
    private var lineBytes = 0
    /// Body bytes announced by the chunk sizes so far.
    private var bodyBytes = 0
    private var trailerBytes = 0
    private var trailerFields = 0
    /// Bytes of the chunked body consumed by earlier calls, for error details.
    private var position = 0

    init(limits: Limits) {
        self.limits = limits
    }

    /// Decodes as much of `input` as it can; calls `payload` with each run of
    /// body bytes (valid only during the call). Returns the number of input
    /// bytes consumed and whether the body (last chunk + trailers + final
    /// CRLF) is complete; bytes after the body are not consumed (they are the
    /// next pipelined request).
    mutating func decode(
        _ input: UnsafeRawBufferPointer,
        payload: (UnsafeRawBufferPointer) throws(HTTPError) -> Void
    ) throws(HTTPError) -> (consumed: Int, done: Bool) {
        guard let base = input.baseAddress else { return (0, state == .done) }
        let n = input.count
        var i = 0
        defer { position += i }
        while i < n {
            if state == .data {
                let run = min(chunkSize, n - i)
                try payload(UnsafeRawBufferPointer(start: base + i, count: run))
                i += run
                chunkSize -= run
                if chunkSize == 0 { state = .dataCR }
                continue
            }
            if state == .done { break }
            try step(input[i], at: position + i)
            i += 1
        }
        return (i, state == .done)
    }

    /// Advances the framing state machine by one byte.
    private mutating func step(_ byte: UInt8, at offset: Int) throws(HTTPError) {
        switch state {
        case .size, .sizeWhitespace, .chunkExtension, .sizeLF:
            lineBytes += 1
            if lineBytes > limits.maxChunkLineBytes {
                throw HTTPError(.badRequest, "a chunk-size line is longer than \(limits.maxChunkLineBytes) bytes (RFC 9112 §7.1.1)")
            }
            try stepSizeLine(byte, at: offset)
        case .data, .done:
            break  // handled in decode
        case .dataCR, .dataLF:
            // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF.
            guard byte == (state == .dataCR ? .cr : .lf) else {
                throw HTTPError(.badRequest, "chunk data is not followed by CRLF at byte \(offset) of the body: the chunk is longer than its size (RFC 9112 §7.1)")
            }
            state = state == .dataCR ? .dataLF : .size
        case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
            // RFC 9112 §7.1.2: the trailer section is limited like the header section.
            trailerBytes += 1
            if trailerBytes > limits.maxHeaderBytes {
                throw HTTPError(.requestHeaderFieldsTooLarge, "the trailer section is longer than \(limits.maxHeaderBytes) bytes")
            }
            try stepTrailer(byte, at: offset)
        }
    }

    /// RFC 9112 §7.1: chunk-size = 1*HEXDIG, then chunk-ext =
    /// *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), then CRLF.
    private mutating func stepSizeLine(_ byte: UInt8, at offset: Int) throws(HTTPError) {
        switch state {
        case .size:
            if ByteSet.hexDigit.contains(byte) {
                let digit = byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : Int((byte | 0x20) - UInt8(ascii: "a") + 10)
                // Checked before it is multiplied, so no size can overflow.
                let room = limits.maxBodyBytes - bodyBytes
                if digit > room || chunkSize > (room - digit) / 16 {
                    throw HTTPError(.contentTooLarge, "the chunked body is over the body limit of \(limits.maxBodyBytes) bytes")
                }
                chunkSize = chunkSize * 16 + digit
                sizeDigits += 1
                return
            }
            guard sizeDigits > 0 else {
                throw HTTPError(.badRequest, "expected a hexadecimal chunk size at byte \(offset) of the body (RFC 9112 §7.1)")
            }
            switch byte {
            case .space, .tab: state = .sizeWhitespace
            case UInt8(ascii: ";"): state = .chunkExtension
            case .cr: state = .sizeLF
            default:
                throw HTTPError(.badRequest, "invalid byte 0x\(byte.hexText) after a chunk size at byte \(offset) of the body (RFC 9112 §7.1)")
            }
        case .sizeWhitespace:
            switch byte {
            case .space, .tab: break
            case UInt8(ascii: ";"): state = .chunkExtension
            default:
                throw HTTPError(.badRequest, "invalid byte 0x\(byte.hexText) after a chunk size at byte \(offset) of the body (RFC 9112 §7.1)")
            }
        case .chunkExtension:
            // Extensions are read and ignored (RFC 9112 §7.1.1); any byte but a
            // CTL may appear in a token or quoted-string, and CR ends the line.
            if byte == .cr {
                state = .sizeLF
            } else if !ByteSet.fieldValue.contains(byte) {
                throw HTTPError(.badRequest, "control byte 0x\(byte.hexText) in a chunk extension at byte \(offset) of the body (RFC 9112 §7.1.1)")
            }
        default:  // .sizeLF
            guard byte == .lf else {
                throw HTTPError(.badRequest, "bare CR in a chunk-size line at byte \(offset) of the body (RFC 9112 §2.2)")
            }
            lineBytes = 0
            sizeDigits = 0
            if chunkSize == 0 {
                state = .trailerLineStart  // RFC 9112 §7.1: last-chunk, then the trailer section
            } else {
                bodyBytes += chunkSize
                state = .data
            }
        }
    }

    /// RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then CRLF.
    /// Fields are checked like header fields (RFC 9112 §5) and dropped: nothing
    /// the server does depends on them.
    private mutating func stepTrailer(_ byte: UInt8, at offset: Int) throws(HTTPError) {
        switch state {
        case .trailerLineStart:
            if byte == .cr {
                state = .finalLF
            } else if ByteSet.token.contains(byte) {
                trailerFields += 1
                if trailerFields > limits.maxHeaderCount {
                    throw HTTPError(.requestHeaderFieldsTooLarge, "more than \(limits.maxHeaderCount) trailer fields")
                }
                state = .trailerName
            } else if byte == .space || byte == .tab {
                throw HTTPError(.badRequest, "a trailer line starting with whitespace (obs-fold) at byte \(offset) of the body (RFC 9112 §5.2)")
            } else {
                throw HTTPError(.badRequest, "invalid byte 0x\(byte.hexText) at byte \(offset) of the body: expected a trailer field or CRLF (RFC 9112 §7.1.2)")
            }
        case .trailerName:
            if byte == UInt8(ascii: ":") {
                state = .trailerValue
            } else if byte == .space || byte == .tab {
                throw HTTPError(.badRequest, "whitespace between a trailer field name and its colon at byte \(offset) of the body (RFC 9112 §5.1)")
            } else if !ByteSet.token.contains(byte) {
                throw HTTPError(.badRequest, "invalid byte 0x\(byte.hexText) in a trailer field name at byte \(offset) of the body (RFC 9110 §5.1)")
            }
        case .trailerValue:
            if byte == .cr {
                state = .trailerLF
            } else if !ByteSet.fieldValue.contains(byte) {
                throw HTTPError(.badRequest, "control byte 0x\(byte.hexText) in a trailer field value at byte \(offset) of the body (RFC 9110 §5.5)")
            }
        case .trailerLF, .finalLF:
            guard byte == .lf else {
                throw HTTPError(.badRequest, "bare CR in the trailer section at byte \(offset) of the body (RFC 9112 §2.2)")
            }
            state = state == .trailerLF ? .trailerLineStart : .done
        default:
            break
        }
    }
}
