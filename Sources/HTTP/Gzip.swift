import CZlib

/// Streaming gzip decoder for request bodies (`Content-Encoding: gzip`).
///
/// It inflates into a fixed 16 KiB window and hands each piece on before
/// inflating more, checking the decoded total against the body limit as it
/// grows: a gzip bomb gets its 413 after at most `limit` + 16 KiB of output,
/// never inflated whole. Concatenated gzip members (RFC 1952 §2.2) are
/// decoded one after the other.
final class Inflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let window = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 1)
    private let limit: Int
    /// Decoded bytes so far.
    private(set) var decodedBytes = 0
    /// True when the last member ended and no byte of another came yet.
    private var atMemberEnd = true
    /// True when a member ended and the stream must be reset before the next.
    private var needsReset = false
    private var sawInput = false

    /// A decoder whose output may not exceed `limit` bytes (413 past it).
    init(limit: Int) {
        self.limit = limit
        stream.initialize(to: z_stream())
        // 16 + 15: a gzip wrapper (not zlib, not raw) with the largest window.
        _ = inflateInit2_(stream, 16 + 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        window.deallocate()
    }

    /// Decodes `input`, handing the output to `sink` piece by piece. `sink`
    /// returns false to stop at once (the rest of `input` is then ignored).
    /// Returns false when `sink` stopped.
    func decode(_ input: UnsafeRawBufferPointer,
                into sink: (UnsafeRawBufferPointer) -> Bool) throws(HTTPError) -> Bool {
        guard let base = input.baseAddress, input.count > 0 else { return true }
        sawInput = true
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        while true {
            if needsReset {
                guard stream.pointee.avail_in > 0 else { break }
                inflateReset(stream)  // another member follows the one that ended
                needsReset = false
            }
            stream.pointee.next_out = window.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(window.count)
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = window.count - Int(stream.pointee.avail_out)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                atMemberEnd = false
            case Z_STREAM_END:
                atMemberEnd = true
                needsReset = true
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
                throw HTTPError(status: .badRequest, detail: "the gzip request body is corrupt: \(reason)")
            }
            decodedBytes += produced
            if decodedBytes > limit {
                throw HTTPError(status: .contentTooLarge,
                                detail: "the request body inflates to more than the limit of \(limit) bytes")
            }
            if produced > 0, !sink(UnsafeRawBufferPointer(rebasing: window[..<produced])) { return false }
            // Done when the input is used up and zlib holds no more output for us.
            if stream.pointee.avail_in == 0 && produced < window.count { break }
            if status == Z_BUF_ERROR && produced == 0 { break }
        }
        return true
    }

    /// Checks that the body ended at the end of a gzip member.
    func finish() throws(HTTPError) {
        guard !sawInput || atMemberEnd else {
            throw HTTPError(status: .badRequest, detail: "the gzip request body is truncated")
        }
    }
}

/// Gzip encoder for response bodies. One per connection, reset between
/// responses, so zlib's ~256 KiB of state is allocated once, not per response.
public final class Deflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var ready = false

    /// An encoder at zlib `level` (1…9).
    public init(level: Int) {
        stream.initialize(to: z_stream())
        // 16 + 15: write a gzip wrapper; memLevel 8 is zlib's default.
        ready = deflateInit2_(stream, Int32(max(1, min(9, level))), Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY,
                              zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
    }

    deinit {
        if ready { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// `input` gzipped, or nil when zlib failed (the caller then sends it as is).
    public func gzip(_ input: [UInt8]) -> [UInt8]? {
        guard ready else { return nil }
        deflateReset(stream)
        let bound = Int(deflateBound(stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let status: Int32 = input.withUnsafeBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
                stream.pointee.avail_in = uInt(inBuffer.count)
                stream.pointee.next_out = outBuffer.baseAddress
                stream.pointee.avail_out = uInt(outBuffer.count)
                return deflate(stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeLast(Int(stream.pointee.avail_out))
        return output
    }
}
