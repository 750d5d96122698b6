// libFuzzer entry for the request-body gzip decoder (`Inflater`) and its output limit.
// Built by scripts/fuzz.sh with Gzip.swift, HTTPError.swift, Status.swift and TestSupport's SplitMix64.swift only (zlib through Sources/CZlib).
//
// Input layout: byte 0 picks the output limit (bits 0-2), the Deflater level
// (bits 3-6) and one or two members for the round trip (bit 7); byte 1 seeds
// the chunking; byte 2 says where the round trip's tail starts and byte 3 how
// often it repeats; the rest is the data. Two checks per run:
// - the data itself as a gzip body, fed whole and in fuzzer-chosen chunks:
//   never more output than the limit, only 400 or 413 as errors, the same
//   verdict however it is chunked (and the same bytes when it succeeds);
// - a round trip: the data's tail (repeated) gzipped by `Deflater` inflates
//   back to exactly that tail under a limit it fits, is a 413 with at most the
//   limit delivered under one it does not fit, and cut short is "truncated".

/// Output limits around the edges that matter: nothing, one byte, inside and
/// exactly at the 16 KiB window, one past it, several windows.
private let limits = [0, 1, 37, 4096, 16384, 16385, 40000, 1 << 20]

/// One Deflater per level, made once (zlib's deflate state is ~256 KiB).
nonisolated(unsafe) private let deflaters = (1...9).map { Deflater(level: $0) }

private struct Inflated {
    var output: [UInt8] = []
    /// Nil when decode and finish both succeeded.
    var error: HTTPError?
}

/// Inflates `body` under `limit`, in chunks of 1…`maxChunk` bytes (`Int.max`: whole), then finishes.
private func inflate(_ body: UnsafeRawBufferPointer, limit: Int, maxChunk: Int, seed: UInt64) -> Inflated {
    let inflater = Inflater(limit: limit)
    var random = SplitMix64(seed: seed)
    var result = Inflated()
    var start = 0
    do throws(HTTPError) {
        while start < body.count {
            let size = maxChunk == Int.max ? body.count : Int(random.next() % UInt64(maxChunk)) + 1
            let end = min(body.count, start + size)
            let going = try inflater.decode(UnsafeRawBufferPointer(rebasing: body[start..<end])) { piece in
                if piece.isEmpty { fatalError("an empty piece") }
                result.output.append(contentsOf: piece)
                return true
            }
            if !going { fatalError("decode stopped though the sink never asked it to") }
            if result.output.count > limit { fatalError("\(result.output.count) bytes out under a limit of \(limit)") }
            if inflater.decodedBytes != result.output.count {
                fatalError("decodedBytes \(inflater.decodedBytes), but \(result.output.count) bytes handed on")
            }
            start = end
        }
        try inflater.finish()
    } catch {
        if error.status != .badRequest && error.status != .contentTooLarge { fatalError("unexpected \(error)") }
        if error.status == .contentTooLarge && inflater.decodedBytes <= limit { fatalError("413 at \(inflater.decodedBytes) of \(limit)") }
        if result.output.count > limit { fatalError("\(result.output.count) bytes out under a limit of \(limit)") }
        result.error = error
    }
    return result
}

private func isPrefix(_ a: [UInt8], of b: [UInt8]) -> Bool {
    a.count <= b.count && a.elementsEqual(b[..<a.count])
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count >= 4 else { return 0 }
    let limit = limits[Int(start[0] & 7)]
    let level = Int(start[0] >> 3 & 0xF) % 9 + 1
    let twoMembers = start[0] & 0x80 != 0
    let seed = UInt64(start[1])
    let maxChunk = start[1] & 0x20 != 0 ? Int(start[1] & 0x1F) * 512 + 1 : Int(start[1] & 0x1F) + 1
    let data = UnsafeRawBufferPointer(start: start + 4, count: count - 4)

    // The data as a gzip body: chunking changes neither the verdict nor the bytes.
    let whole = inflate(data, limit: limit, maxChunk: Int.max, seed: seed)
    let chunked = inflate(data, limit: limit, maxChunk: maxChunk, seed: seed)
    if (whole.error == nil) != (chunked.error == nil) {
        fatalError("whole gave \(String(describing: whole.error)), chunked \(String(describing: chunked.error))")
    }
    if whole.error == nil && whole.output != chunked.output { fatalError("chunking changed the output") }
    // Before an error each delivers a prefix of the same decoded stream.
    if !isPrefix(whole.output, of: chunked.output) && !isPrefix(chunked.output, of: whole.output) {
        fatalError("whole and chunked output disagree")
    }
    if data.count <= 128 {
        let bytewise = inflate(data, limit: limit, maxChunk: 1, seed: seed)
        if (whole.error == nil) != (bytewise.error == nil) || (whole.error == nil && whole.output != bytewise.output) {
            fatalError("byte by byte gave \(String(describing: bytewise.error)), whole \(String(describing: whole.error))")
        }
    }

    // The round trip: the tail, repeated, through Deflater and back.
    let tail = data[(data.count * Int(start[2]) / 255)...]
    let member = Array(repeating: Array(tail), count: Int(start[3] & 7) + 1).flatMap { $0 }
    guard let gz1 = deflaters[level - 1].gzip(member) else { fatalError("Deflater failed") }
    let gz = twoMembers ? gz1 + gz1 : gz1
    let expected = twoMembers ? member + member : member
    gz.withUnsafeBytes { gz in
        let back = inflate(gz, limit: limit, maxChunk: maxChunk, seed: seed)
        if expected.count <= limit {
            if let error = back.error { fatalError("a valid gzip of \(expected.count) bytes under \(limit) gave \(error)") }
            if back.output != expected { fatalError("the round trip changed the bytes") }
        } else {
            if back.error?.status != .contentTooLarge { fatalError("\(expected.count) bytes under \(limit) gave \(String(describing: back.error))") }
            if !isPrefix(back.output, of: expected) { fatalError("output before the 413 is not the data's start") }
        }
        // Cut short: a prefix of the data, then "truncated" (unless the cut falls between members).
        var random = SplitMix64(seed: seed ^ 0xC0FFEE)
        let cut = 1 + Int(random.next() % UInt64(gz.count - 1))
        let short = inflate(UnsafeRawBufferPointer(rebasing: gz[..<cut]), limit: expected.count, maxChunk: maxChunk, seed: seed)
        if !isPrefix(short.output, of: expected) { fatalError("a cut gzip decoded to other bytes") }
        if cut == gz1.count {
            if short.error != nil || short.output != member { fatalError("one whole member of two gave \(String(describing: short.error))") }
        } else if short.error?.detail != "the gzip request body is truncated" {
            fatalError("a gzip cut at \(cut) of \(gz.count) gave \(String(describing: short.error))")
        }
    }
    return 0
}
