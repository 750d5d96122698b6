import HTTP
import Losses
import TensorJSON

/// Answers `POST /loss`: a JSON array of loss requests, each an object whose
/// `"loss"` member names a declared loss (`"ce"`, `"psnr"`) beside that
/// loss's own members. The answer is a JSON array in the same order, each
/// element the loss's result or a problem document (RFC 9457) saying why that
/// one request was refused; the batch itself is 200. Malformed JSON anywhere
/// is a 400 naming the body's byte offset, valid JSON that is not an array a
/// 422, a body past `maxBodyBytes` a 413.
///
/// Unlike a single loss request, the body is held whole (at most
/// `maxBodyBytes`), then each element is decoded into tensors, scored and
/// dropped before the next: the memory is the body plus one element's
/// tensors, and results are small. Both are reserved from the server's
/// memory budget before they are taken: the body as it is buffered, each
/// element's tensors (8 bytes for each value its text can hold) before it
/// is decoded; a budget that stays spent makes the whole batch a 503 with
/// `Retry-After`.
final class BatchBodyHandler: BodyHandler {
    /// The most body bytes a batch may send; 413 past it, while it arrives.
    /// Default 16 MiB: a batch is many small figures for a dashboard; large
    /// tensors go to `/loss/{name}`, which streams them.
    static let defaultMaxBodyBytes = 16 << 20
    /// The most requests in one batch; a longer array is a 422.
    /// Default 1024.
    static let defaultMaxRequests = 1024

    private let metrics: ServiceMetrics
    private let maxBodyBytes: Int
    private let maxRequests: Int
    private let maxTensorBytes: Int
    private var body: [UInt8] = []
    private var failure: Response?
    /// What the batch holds of the memory budget.
    private let charge: MemoryCharge
    /// The body's length when known (`Content-Length`): the body's reservation grows up to it.
    private let bodyLength: Int?

    /// - Parameter budget: the server's memory budget, or nil for none (a
    ///   batch small enough to run on an event loop).
    init(metrics: ServiceMetrics, maxBodyBytes: Int = BatchBodyHandler.defaultMaxBodyBytes,
         maxRequests: Int = BatchBodyHandler.defaultMaxRequests,
         maxTensorBytes: Int = TensorDecoder.defaultMaxTensorBytes,
         budget: MemoryBudget? = nil, bodyLength: Int? = nil) {
        self.metrics = metrics
        self.maxBodyBytes = maxBodyBytes
        self.maxRequests = maxRequests
        self.maxTensorBytes = maxTensorBytes
        charge = MemoryCharge(budget: budget)
        self.bodyLength = bodyLength
    }

    func consume(_ bytes: UnsafeRawBufferPointer) -> Response? {
        if let failure { return failure }
        guard body.count + bytes.count <= maxBodyBytes else {
            // RFC 9110 §15.5.14: refused before the rest is read.
            failure = Problem(status: .contentTooLarge,
                              detail: "a batch body may have at most \(maxBodyBytes) bytes (byte \(maxBodyBytes) is past it); send large tensors to /loss/{name}").response
            body = []
            charge.releaseAll()
            return failure
        }
        do throws(DecodeError) {
            try charge.cover(body.count + bytes.count, growingTo: min(bodyLength ?? maxBodyBytes, maxBodyBytes), at: body.count)
        } catch {
            failure = refuse(error)
            body = []
            return failure
        }
        if body.isEmpty, let bodyLength {
            // Once, so the body is never copied as it grows (pages not yet written take no memory).
            body.reserveCapacity(min(bodyLength, maxBodyBytes))
        }
        body.append(contentsOf: bytes)
        return nil
    }

    /// The budget's refusal: the whole batch is a 503 (counted), as a single
    /// loss request would be; the charge has given back what it held.
    private func refuse(_ error: DecodeError) -> Response {
        metrics.recordRejected(.memory)
        return LossBodyHandler.problem(for: error)
    }

    func finish() -> Response {
        if let failure { return failure }
        defer {
            body = []
            charge.releaseAll()
        }
        let elements: [Range<Int>]
        do {
            elements = try BatchBodyHandler.split(body)
        } catch {
            return LossBodyHandler.problem(for: error)
        }
        guard elements.count <= maxRequests else {
            return Problem(status: .unprocessableContent,
                           detail: "a batch may hold at most \(maxRequests) requests, got \(elements.count)").response
        }
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, range) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if charge.isCharging {
                // The element's tensors, before it is decoded; given back once it is answered.
                let values = body.withUnsafeBytes { MemoryCharge.valueBound(UnsafeRawBufferPointer(rebasing: $0[range])) } + 1
                do throws(DecodeError) { try charge.cover(body.count + 8 * values, at: range.lowerBound) } catch { return refuse(error) }
            }
            defer { charge.shrink(to: body.count) }
            switch answer(index, range) {
            case .success(let json): out += json
            case .failure(let stop): return stop.response
            }
        }
        out.append(UInt8(ascii: "]"))
        var response = Response(status: .ok, body: out)
        response.headers.add("Content-Type", "application/json")
        return response
    }

    /// The JSON answer to element `index` (a result or a problem), or the
    /// response that stops the whole batch (malformed JSON: the body is then
    /// no valid array).
    private func answer(_ index: Int, _ range: Range<Int>) -> Result<[UInt8], Stop> {
        var decoder = TensorDecoder(maxTensorBytes: maxTensorBytes, bodyLength: range.count)
        let fed = body.withUnsafeBytes { buffer -> DecodeError? in
            do throws(DecodeError) {
                try decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[range]))
                return nil
            } catch {
                return error
            }
        }
        let members: [String: JSONMember]
        do throws(DecodeError) {
            if let fed { throw fed }
            members = try decoder.finish()
        } catch {
            switch error {
            case .malformed(let offset, let reason):
                // The element's offsets are the body's once its start is added.
                return .failure(Stop(LossBodyHandler.problem(
                    for: .malformed(offset: range.lowerBound + offset, reason: "\(reason) (in request [\(index)])"))))
            case .tooLarge(let offset, let limit):
                return .success(Self.problem(.contentTooLarge, index, DecodeError.tooLarge(offset: range.lowerBound + offset, limit: limit).description))
            default:
                return .success(Self.problem(.unprocessableContent, index, error.description))
            }
        }
        var rest = members
        guard case .string(let name)? = rest.removeValue(forKey: "loss") else {
            let got = members["loss"].map(MemberValues.describe) ?? "none"
            return .success(Self.problem(.unprocessableContent, index,
                "'loss' must name a loss (\(LossRegistry.all.map(\.name).joined(separator: ", "))), got \(got)"))
        }
        guard let declaration = LossRegistry.named(name) else {
            return .success(Self.problem(.unprocessableContent, index,
                "'loss' = \"\(name)\" is not a loss; the losses are \(LossRegistry.all.map(\.name).joined(separator: ", "))"))
        }
        do {
            let scored = try declaration.evaluate(rest)
            metrics.recordScored(declaration, elements: scored.elements)
            return .success(JSONWriter.lossResponse(scored.result, reduction: scored.reduction))
        } catch {
            return .success(Self.problem(.unprocessableContent, index, error.message))
        }
    }

    /// The response that ends a batch early.
    struct Stop: Error {
        let response: Response
        init(_ response: Response) { self.response = response }
    }

    /// Element `index`'s problem document, as JSON (without the HTTP response around it).
    private static func problem(_ status: Status, _ index: Int, _ detail: String) -> [UInt8] {
        Problem(status: status, detail: "request [\(index)]: \(detail)").response.body
    }

    // ----- the array's elements ----------------------------------------------

    /// The byte ranges of the top-level array's elements. Checks the array's
    /// own syntax (brackets, commas, strings and nesting balanced) and leaves
    /// each element's to the tensor decoder; throws `.malformed` with the
    /// body's byte offset, or `.invalid` when the JSON is no array.
    static func split(_ bytes: [UInt8]) throws(DecodeError) -> [Range<Int>] {
        var i = 0
        func skipSpace() { while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 } }
        skipSpace()
        guard i < bytes.count else { throw .malformed(offset: i, reason: "the body is empty; a batch is a JSON array") }
        guard bytes[i] == UInt8(ascii: "[") else {
            if bytes[i] == UInt8(ascii: "{") {
                throw .invalid("a batch is a JSON array of loss requests ([{\"loss\": \"ce\", ...}, ...]), got an object; one request goes to /loss/{name}")
            }
            throw .invalid("a batch is a JSON array of loss requests ([{\"loss\": \"ce\", ...}, ...])")
        }
        i += 1
        var elements: [Range<Int>] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                skipSpace()
                guard i < bytes.count else { throw .malformed(offset: i, reason: "the array is not closed") }
                let start = i
                try skipValue(bytes, &i)
                elements.append(start..<i)
                skipSpace()
                guard i < bytes.count else { throw .malformed(offset: i, reason: "the array is not closed") }
                if bytes[i] == UInt8(ascii: "]") { i += 1; break }
                guard bytes[i] == UInt8(ascii: ",") else { throw .malformed(offset: i, reason: "expected ',' or ']' after a request") }
                i += 1
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { throw .malformed(offset: i, reason: "trailing comma before ']'") }
            }
        }
        skipSpace()
        guard i == bytes.count else { throw .malformed(offset: i, reason: "data after the end of the array") }
        return elements
    }

    /// Moves `i` past one JSON value: a string, an object or array with its
    /// brackets balanced (strings inside skipped whole), or a bare token up
    /// to a delimiter. The value's own grammar is the tensor decoder's to check.
    private static func skipValue(_ bytes: [UInt8], _ i: inout Int) throws(DecodeError) {
        let start = i
        switch bytes[i] {
        case UInt8(ascii: "\""):
            try skipString(bytes, &i)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            repeat {
                guard i < bytes.count else { throw .malformed(offset: i, reason: "the body ends inside the request that starts at byte \(start)") }
                switch bytes[i] {
                case UInt8(ascii: "\""): try skipString(bytes, &i)
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; i += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1; i += 1
                default: i += 1
                }
            } while depth > 0
        default:
            while i < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
            guard i > start else { throw .malformed(offset: i, reason: "expected a request") }
        }
    }

    /// Moves `i` past the string that starts at `i`, escapes included.
    private static func skipString(_ bytes: [UInt8], _ i: inout Int) throws(DecodeError) {
        let start = i
        i += 1
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
        guard i < bytes.count else { throw .malformed(offset: start, reason: "unterminated string") }
        i += 1
    }
}
