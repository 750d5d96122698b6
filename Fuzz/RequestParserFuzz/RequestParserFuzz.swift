// libFuzzer entry for the HTTP request parser and the chunked decoder.
// Built by scripts/fuzz.sh together with only the parser's sources (no sockets, no zlib).
//
// Input layout: byte 0 picks the limits (default or tiny, so the limit paths
// are reached with short inputs), byte 1 picks a split point; the rest is the
// connection's bytes. Besides "no crash, no hang, no sanitizer report", each
// run checks that feeding the bytes in two pieces gives exactly the answer of
// feeding them whole, for the parser and for the decoder; and that the bytes,
// chunk-encoded here (chunk sizes from byte 1), decode back to themselves.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count >= 2 else { return 0 }
    let limits = start[0] & 1 == 0 ? Limits() : tinyLimits
    let bytes = UnsafeRawBufferPointer(start: start + 2, count: count - 2)
    let split = bytes.count * Int(start[1]) / 255

    // The request parser, whole and in two pieces.
    var whole = RequestParser(limits: limits)
    let result = whole.parse(bytes)
    var pieces = RequestParser(limits: limits)
    let first = pieces.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<split]))
    let second = pieces.parse(bytes)
    if first != .incomplete && first != second { fatalError("a final answer changed: \(first) then \(second)") }
    if second != result { fatalError("split at \(split) gave \(second), whole gave \(result)") }
    if bytes.count <= 256 {
        var trickled = RequestParser(limits: limits)
        var last = ParseResult.incomplete
        for end in 0...bytes.count where last == .incomplete {
            last = trickled.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        }
        if last != result { fatalError("byte by byte gave \(last), whole gave \(result)") }
    }
    // The word-at-a-time control-byte scan agrees with the byte-at-a-time definition.
    let fast = ByteSet.firstControlByte(in: bytes)
    let slow = bytes.firstIndex { !ByteSet.fieldValue.contains($0) }
    if fast != slow { fatalError("firstControlByte gave \(String(describing: fast)), expected \(String(describing: slow))") }
    if case .complete(_, let framing, let headLength) = result {
        if headLength < 1 || headLength > bytes.count { fatalError("headLength \(headLength) of \(bytes.count)") }
        if case .length(let n) = framing, n < 0 { fatalError("length \(n)") }
        if framing == .chunked {
            checkChunked(UnsafeRawBufferPointer(rebasing: bytes[headLength...]), limits: limits, split: start[1])
        }
    }

    // The chunked decoder on the same bytes, whatever the parser thought of them.
    checkChunked(bytes, limits: limits, split: start[1])
    roundTripChunked(bytes, limits: limits, seed: start[1])
    return 0
}

private let tinyLimits: Limits = {
    var limits = Limits()
    limits.maxRequestLineBytes = 40
    limits.maxHeaderBytes = 80
    limits.maxHeaderCount = 4
    limits.maxBodyBytes = 300
    limits.maxChunkLineBytes = 12
    return limits
}()

private struct Decoded: Equatable {
    var body: [UInt8] = []
    var consumed = 0
    var done = false
    var error: HTTPError?
}

/// Decodes `bytes` with the pieces ending at `splits`, as a connection would.
private func decode(_ bytes: UnsafeRawBufferPointer, limits: Limits, splits: [Int]) -> Decoded {
    var decoder = ChunkedDecoder(limits: limits)
    var out = Decoded()
    for end in splits + [bytes.count] where !out.done {
        let piece = UnsafeRawBufferPointer(rebasing: bytes[out.consumed..<max(out.consumed, end)])
        do {
            let result = try decoder.decode(piece) { (run) throws(HTTPError) in
                if run.isEmpty { fatalError("empty payload run") }
                out.body.append(contentsOf: run)
            }
            if result.consumed > piece.count { fatalError("consumed \(result.consumed) of \(piece.count)") }
            out.consumed += result.consumed
            out.done = result.done
            if !result.done && result.consumed != piece.count { fatalError("stopped early without being done") }
        } catch {
            // How much earlier pieces consumed depends on the split; the error must not.
            out.error = error
            out.consumed = -1
            return out
        }
    }
    return out
}

private func checkChunked(_ bytes: UnsafeRawBufferPointer, limits: Limits, split: UInt8) {
    let whole = decode(bytes, limits: limits, splits: [])
    if whole.body.count > limits.maxBodyBytes { fatalError("body over the limit") }
    let point = bytes.count * Int(split) / 255
    let twoPieces = decode(bytes, limits: limits, splits: [point])
    if twoPieces != whole { fatalError("chunked split at \(point) gave \(twoPieces), whole gave \(whole)") }
    if bytes.count <= 64 {
        let byteByByte = decode(bytes, limits: limits, splits: Array(0..<bytes.count))
        if byteByByte != whole { fatalError("chunked byte by byte gave \(byteByByte), whole gave \(whole)") }
    }
}

/// Chunk-encodes `payload` (sizes, hex case, extensions and a trailer chosen by
/// `seed`) and checks that it decodes back to exactly `payload`, in two pieces,
/// or is a 413 when it is over the body limit.
private func roundTripChunked(_ payload: UnsafeRawBufferPointer, limits: Limits, seed: UInt8) {
    var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
    func random(_ bound: Int) -> Int {  // xorshift64: enough to vary the framing
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Int(state % UInt64(bound))
    }
    let maxChunk = Int(seed & 0x3F) + 1
    var encoded: [UInt8] = []
    var start = 0
    while start < payload.count {
        let size = min(payload.count - start, random(maxChunk) + 1)
        let hex = String(size, radix: 16, uppercase: random(2) == 0)
        encoded += Array(hex.utf8) + (random(4) == 0 ? Array(";a=b".utf8) : []) + [13, 10]
        encoded += payload[start..<start + size] + [13, 10]
        start += size
    }
    encoded += Array("0\r\n".utf8) + (seed & 0x40 != 0 ? Array("X: y\r\n".utf8) : []) + [13, 10]
    let next = encoded.count
    encoded += Array("GET".utf8)  // a pipelined request the decoder must leave alone
    encoded.withUnsafeBytes { encoded in
        let decoded = decode(encoded, limits: limits, splits: [random(encoded.count + 1)])
        if payload.count > limits.maxBodyBytes {
            if decoded.error?.status != .contentTooLarge { fatalError("\(payload.count) bytes over the limit gave \(decoded)") }
        } else {
            if let error = decoded.error { fatalError("a valid chunked body gave \(error)") }
            if !decoded.done || decoded.consumed != next { fatalError("consumed \(decoded.consumed) of \(next), done: \(decoded.done)") }
            if !decoded.body.elementsEqual(payload) { fatalError("the chunked round trip changed the bytes") }
        }
    }
}
