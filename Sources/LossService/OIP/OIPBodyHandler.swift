import HTTP
import Losses
import TensorJSON

/// Receives one `POST /v2/models/{name}/infer` body and answers it. A body
/// without `Inference-Header-Content-Length` is one JSON request, read whole
/// and parsed at its end. With it (Triton's binary tensor data extension),
/// the first that many bytes are the JSON request, checked as soon as they
/// are in, and the bytes after it are the binary inputs, in order, each of
/// its `binary_data_size`: they are converted to doubles as they arrive,
/// straight into each input's tensor, so the body is never held whole and
/// read once. A binary part that is short or long, or a header length past
/// the body, is a 400 that says where. For a difference loss (MSE, L1, …),
/// the later of binary predictions and targets of one shape is folded into
/// the earlier one's storage as it arrives (`OIPBinaryReader.Fold`): one
/// tensor is held, not two.
///
/// Memory is reserved from the server's budget before it is taken: the JSON
/// part as it is buffered, 16 bytes for each value it can hold before it is
/// parsed (the parsed array and the input's doubles), and the binary inputs'
/// doubles before they are planned; all of it is given back once the answer
/// is built. A budget that stays spent is a 503 with `Retry-After`.
final class OIPBodyHandler: BodyHandler {
    private let declaration: LossDeclaration
    private let metrics: ServiceMetrics
    private let maxTensorBytes: Int
    /// The binary framing, with the extension; nil for a JSON body.
    private let reader: OIPBinaryReader?
    /// Where the binary inputs' arrays come from and go back to, or nil for new ones each time.
    private let storagePool: OIPStoragePool?

    /// The JSON body read so far (without the extension).
    private var json: [UInt8] = []
    /// The checked request, once its JSON part is in.
    private var request: OIPInferRequest?
    /// Each JSON input's elements, by input index.
    private var inline: [Int: [Double]] = [:]
    /// The indices of the inputs sent in the binary part, in order.
    private var binaryInputs: [Int] = []
    /// The binary input folded into an earlier one (a difference loss's second tensor), by input index.
    private var foldedInput: Int?
    private var failure: Response?
    /// What the request holds of the memory budget.
    private let charge: MemoryCharge
    /// The body's length when known (`Content-Length`): the JSON buffer's reservation grows up to it.
    private let bodyLength: Int?
    /// At most how many values the JSON part holds (`MemoryCharge.valueBound`), counted as it arrives.
    private var jsonValues = 1

    /// - Parameters:
    ///   - budget: the server's memory budget, or nil for none (a request
    ///     small enough to run on an event loop).
    ///   - storagePool: the pool of large binary inputs' arrays (the
    ///     responder's), or nil to allocate them afresh.
    init(declaration: LossDeclaration, metrics: ServiceMetrics, headerLength: Int?, maxTensorBytes: Int,
         budget: MemoryBudget? = nil, bodyLength: Int? = nil, storagePool: OIPStoragePool? = nil) {
        self.declaration = declaration
        self.metrics = metrics
        self.maxTensorBytes = maxTensorBytes
        self.storagePool = storagePool
        reader = headerLength.map { length in
            guard let storagePool else { return OIPBinaryReader(headerLength: length) }
            return OIPBinaryReader(headerLength: length, storage: { storagePool.take(count: $0) })
        }
        charge = MemoryCharge(budget: budget)
        self.bodyLength = bodyLength
    }

    func consume(_ bytes: UnsafeRawBufferPointer) -> Response? {
        if let failure { return failure }
        do throws(OIPError) {
            try feed(bytes)
            return nil
        } catch {
            failure = error.response
            // What was read is dropped, and its reservation given back, at once.
            inline = [:]
            json = []
            reader?.dropTensors()
            charge.releaseAll()
            return failure
        }
    }

    /// Covers `total` bytes of the request's memory (`MemoryCharge.cover`);
    /// a refusal is counted and answered with 503.
    private func reserve(_ total: Int, growingTo size: Int? = nil, at offset: Int) throws(OIPError) {
        do throws(DecodeError) {
            try charge.cover(total, growingTo: size, at: offset)
        } catch {
            metrics.recordRejected(.memory)
            throw OIPError(overBudget: error)
        }
    }

    /// Covers the JSON part's next `piece`, about to be buffered after `held` bytes.
    private func reserveJSON(_ piece: UnsafeRawBufferPointer, after held: Int, upTo size: Int?) throws(OIPError) {
        guard charge.isCharging else { return }
        try reserve(held + piece.count, growingTo: size, at: held)
        jsonValues += MemoryCharge.valueBound(piece)
    }

    private func feed(_ bytes: UnsafeRawBufferPointer) throws(OIPError) {
        guard let reader else {
            try reserveJSON(bytes, after: json.count, upTo: bodyLength)
            json.append(contentsOf: bytes)
            return
        }
        var rest = bytes
        repeat {
            if request == nil, !reader.headerComplete {
                let held = reader.header.count
                try reserveJSON(UnsafeRawBufferPointer(rebasing: rest.prefix(reader.headerLength - held)),
                                after: held, upTo: reader.headerLength)
            }
            let used: Int
            do throws(OIPBinaryReader.FramingError) { used = try reader.feed(rest) } catch { throw OIPError(error.message) }
            rest = UnsafeRawBufferPointer(rebasing: rest[used...])
            if request == nil, reader.headerComplete { try begin(parse(reader.header)) }
        } while !rest.isEmpty
    }

    private func parse(_ text: [UInt8]) throws(OIPError) -> OIPInferRequest {
        // The parsed arrays and the JSON inputs' doubles, 8 bytes a value each, beside the text.
        if charge.isCharging { try reserve(text.count + 16 * jsonValues, at: 0) }
        let value: OIPJSON
        do { value = try OIPJSONParser.parse(text) } catch { throw OIPError(error.description) }
        return try OIPInferRequest(value, declaration: declaration, maxTensorBytes: maxTensorBytes)
    }

    /// Sets up the tensors of a checked request: the binary ones are planned
    /// in the reader, the JSON ones read from their data.
    private func begin(_ request: OIPInferRequest) throws(OIPError) {
        self.request = request
        var parts: [OIPBinaryReader.Part] = []
        for (index, input) in request.inputs.enumerated() {
            if let size = input.binarySize {
                guard reader != nil else {
                    throw OIPError("input '\(input.name)' has binary_data_size, but the request has no Inference-Header-Content-Length header")
                }
                parts.append(OIPBinaryReader.Part(datatype: input.datatype, size: size))
                binaryInputs.append(index)
            } else {
                inline[index] = try OIPBodyHandler.elements(of: input)
            }
        }
        if let differenceFold = declaration.differenceFold {
            foldedInput = OIPBodyHandler.fold(&parts, of: request, binaryInputs: binaryInputs, differenceFold)
        }
        if let reader, charge.isCharging {
            // The binary inputs' doubles, before the reader reserves their storage (a folded input has none).
            let doubles = parts.reduce(0) { $0 + ($1.fold == nil ? $1.size / $1.datatype.size * 8 : 0) }
            try reserve(charge.bytes + doubles, at: reader.headerLength)
        }
        reader?.plan(parts)
    }

    /// Plans a difference loss's second binary tensor (minuend or subtrahend, whichever comes
    /// later in the body) to be folded into the first, and returns its input index: when both
    /// are binary inputs of one non-empty shape. Inputs of differing shapes are stored, so the
    /// loss refuses them as before.
    static func fold(_ parts: inout [OIPBinaryReader.Part], of request: OIPInferRequest, binaryInputs: [Int],
                     _ differenceFold: DifferenceFold) -> Int? {
        guard let minuend = binaryInputs.firstIndex(where: { request.inputs[$0].name == differenceFold.minuend }),
            let subtrahend = binaryInputs.firstIndex(where: { request.inputs[$0].name == differenceFold.subtrahend })
        else { return nil }
        let (a, b) = (request.inputs[binaryInputs[minuend]], request.inputs[binaryInputs[subtrahend]])
        guard a.shape == b.shape, a.count > 0 else { return nil }
        let (first, second) = minuend < subtrahend ? (minuend, subtrahend) : (subtrahend, minuend)
        parts[second].fold = OIPBinaryReader.Fold(into: first, intoIsMinuend: first == minuend)
        return binaryInputs[second]
    }

    func finish() -> Response {
        if let failure { return failure }
        defer {
            // The tensors are freed (locals of `answer`, the parsed request here): the reservation goes with them.
            inline = [:]
            request = nil
            charge.releaseAll()
        }
        do throws(OIPError) {
            if let reader {
                if request == nil, reader.headerComplete { try begin(parse(reader.header)) }  // an empty body and header
                let names = request.map { request in binaryInputs.map { request.inputs[$0].name } } ?? []
                do throws(OIPBinaryReader.FramingError) { try reader.finish(names: names) } catch { throw OIPError(error.message) }
            } else {
                guard !json.isEmpty else { throw OIPError("the body is empty: an inference request is a JSON object") }
                try begin(parse(json))
                json = []
            }
            guard let request else { throw OIPError("the body ended before the JSON request") }
            return try answer(request)
        } catch {
            return error.response
        }
    }

    /// Scores the request's tensors and options as the loss route would.
    private func answer(_ request: OIPInferRequest) throws(OIPError) -> Response {
        var members = request.options
        let binary = reader?.takeTensors() ?? []
        // The binary inputs' storage goes back to the pool for the next request.
        defer { if let storagePool { for array in binary { storagePool.recycle(array) } } }
        for (index, input) in request.inputs.enumerated() {
            let data: [Double]
            if index == foldedInput {
                // Its elements are differences in the other's storage now: its shape alone is kept.
                members[input.name] = .foldedTensor(shape: input.shape)
                continue
            } else if let position = binaryInputs.firstIndex(of: index) {
                data = binary[position]
            } else {
                data = inline.removeValue(forKey: index) ?? []
            }
            do {
                members[input.name] = .tensor(try Tensor(shape: input.shape, data: data))
            } catch {
                throw OIPError("input '\(input.name)': \(error.message)")
            }
        }
        let scored: (result: LossResult, elements: Int, reduction: String)
        do throws(ScoringError) {
            scored = try declaration.evaluate(members)
        } catch {
            throw OIPError(error.message)
        }
        metrics.recordScored(declaration, elements: scored.elements)
        return OIPResponses.infer(scored.result, request: request, model: declaration)
    }

    /// The elements of an input sent as JSON `data` (flat or nested, row-major),
    /// checked against its datatype and count.
    static func elements(of input: OIPInferRequest.Input) throws(OIPError) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(input.count)
        try flatten(input.data ?? .numbers([]), input: input, into: &out, depth: 0)
        guard out.count == input.count else {
            throw OIPError("input '\(input.name)' has shape \(input.shape) (\(input.count) elements) but \(out.count) data values")
        }
        if input.datatype.isInteger {
            let range = input.datatype.integerRange
            for (index, value) in out.enumerated() where value != value.rounded() || !range.contains(value) {
                throw OIPError("input '\(input.name)' data[\(index)] = \(formatNumber(value)) is not an \(input.datatype.rawValue)")
            }
        }
        return out
    }

    private static func flatten(_ value: OIPJSON, input: OIPInferRequest.Input, into out: inout [Double], depth: Int) throws(OIPError) {
        guard out.count <= input.count else { return }
        switch value {
        case .numbers(let numbers):
            guard input.datatype != .bool || numbers.isEmpty else {
                throw OIPError("input '\(input.name)' data[\(out.count)] is a number; BOOL data are true or false")
            }
            out.append(contentsOf: numbers)
        case .number(let number):
            guard input.datatype != .bool else { throw OIPError("input '\(input.name)' data is a number; BOOL data are true or false") }
            out.append(number)
        case .bool(let flag) where input.datatype == .bool:
            out.append(flag ? 1 : 0)
        case .array(let values):
            for element in values { try flatten(element, input: input, into: &out, depth: depth + 1) }
        case .bool:
            throw OIPError("input '\(input.name)' data[\(out.count)] is a boolean; only BOOL data are")
        default:
            throw OIPError("input '\(input.name)' data[\(out.count)] is \(value.kind); data are numbers (or booleans for BOOL)")
        }
    }
}
