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
/// the body, is a 400 that says where.
final class OIPBodyHandler: BodyHandler {
    private let declaration: LossDeclaration
    private let metrics: ServiceMetrics
    private let maxTensorBytes: Int
    /// The JSON request's length, with the binary extension.
    private let headerLength: Int?

    /// The JSON bytes read so far (the whole body without the extension).
    private var json: [UInt8] = []
    /// The checked request, once its JSON part is in.
    private var request: OIPInferRequest?
    /// Each input's elements, in `request.inputs` order.
    private var tensors: [[Double]] = []
    /// The indices of the inputs sent in the binary part, in order.
    private var binaryInputs: [Int] = []
    /// Which of `binaryInputs` is being filled, and how many of its bytes are in.
    private var current = 0
    private var currentBytes = 0
    /// The bytes of an element split between two pieces of the body.
    private var carry: (UInt64, Int) = (0, 0)
    /// Body bytes consumed, for error offsets (after any gzip decoding).
    private var offset = 0
    /// Converted elements on their way into a tensor: a fixed buffer, so the
    /// hot loop allocates nothing per element or per piece.
    private let scratch = UnsafeMutablePointer<Double>.allocate(capacity: OIPBodyHandler.scratchCount)
    private static let scratchCount = 4096
    private var failure: Response?

    init(declaration: LossDeclaration, metrics: ServiceMetrics, headerLength: Int?, maxTensorBytes: Int) {
        self.declaration = declaration
        self.metrics = metrics
        self.headerLength = headerLength
        self.maxTensorBytes = maxTensorBytes
        if let headerLength { json.reserveCapacity(min(headerLength, 1 << 20)) }
    }

    deinit { scratch.deallocate() }

    func consume(_ bytes: UnsafeRawBufferPointer) -> Response? {
        if let failure { return failure }
        do {
            try feed(bytes)
            return nil
        } catch {
            failure = error.response
            tensors = []
            return failure
        }
    }

    private func feed(_ bytes: UnsafeRawBufferPointer) throws(OIPError) {
        guard let headerLength else {
            json.append(contentsOf: bytes)
            offset += bytes.count
            return
        }
        var rest = bytes
        if request == nil {
            let take = min(headerLength - json.count, rest.count)
            json.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<take]))
            offset += take
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            guard json.count == headerLength else { return }
            try begin(parse(json))
            json = []
        }
        try fill(rest)
    }

    private func parse(_ text: [UInt8]) throws(OIPError) -> OIPInferRequest {
        let value: OIPJSON
        do { value = try OIPJSONParser.parse(text) } catch { throw OIPError(error.description) }
        return try OIPInferRequest(value, declaration: declaration, maxTensorBytes: maxTensorBytes)
    }

    /// Sets up the tensors of a checked request: the binary ones reserve
    /// their storage once, the JSON ones are read from their data.
    private func begin(_ request: OIPInferRequest) throws(OIPError) {
        self.request = request
        tensors = []
        for (index, input) in request.inputs.enumerated() {
            if input.binarySize != nil {
                guard headerLength != nil else {
                    throw OIPError("input '\(input.name)' has binary_data_size, but the request has no Inference-Header-Content-Length header")
                }
                var storage: [Double] = []
                storage.reserveCapacity(input.count)
                tensors.append(storage)
                binaryInputs.append(index)
            } else {
                tensors.append(try OIPBodyHandler.elements(of: input))
            }
        }
        skipFilledInputs()
    }

    private func skipFilledInputs() {
        while current < binaryInputs.count, currentBytes == request!.inputs[binaryInputs[current]].binarySize! {
            current += 1
            currentBytes = 0
        }
    }

    /// Converts binary input bytes into the tensors.
    private func fill(_ bytes: UnsafeRawBufferPointer) throws(OIPError) {
        var rest = bytes
        while !rest.isEmpty {
            guard current < binaryInputs.count else {
                throw OIPError("\(rest.count) bytes follow the binary inputs at byte \(offset) (the binary_data_size values add up to \(offset - headerLength!))")
            }
            let index = binaryInputs[current]
            let input = request!.inputs[index]
            let size = input.datatype.size
            let take = min(input.binarySize! - currentBytes, rest.count)
            var piece = UnsafeRawBufferPointer(rebasing: rest[0..<take])
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            offset += take
            currentBytes += take
            // An element split across pieces: complete it first.
            if carry.1 > 0 {
                let need = min(size - carry.1, piece.count)
                let held = carry.1
                withUnsafeMutableBytes(of: &carry.0) { slot in
                    for i in 0..<need { slot[held + i] = piece[i] }
                }
                carry.1 += need
                piece = UnsafeRawBufferPointer(rebasing: piece[need...])
                if carry.1 == size {
                    withUnsafeBytes(of: carry.0) { input.datatype.convert($0.baseAddress!, count: 1, into: scratch) }
                    tensors[index].append(scratch[0])
                    carry = (0, 0)
                }
            }
            var whole = piece.count / size
            var source = piece.baseAddress
            while whole > 0 {
                let n = min(whole, OIPBodyHandler.scratchCount)
                input.datatype.convert(source!, count: n, into: scratch)
                tensors[index].append(contentsOf: UnsafeBufferPointer(start: scratch, count: n))
                source = source! + n * size
                whole -= n
            }
            let tail = piece.count % size
            if tail > 0 {
                withUnsafeMutableBytes(of: &carry.0) { slot in
                    for i in 0..<tail { slot[i] = piece[piece.count - tail + i] }
                }
                carry.1 = tail
            }
            skipFilledInputs()
        }
    }

    func finish() -> Response {
        if let failure { return failure }
        defer { tensors = [] }
        do throws(OIPError) {
            if headerLength == nil {
                guard !json.isEmpty else { throw OIPError("the body is empty: an inference request is a JSON object") }
                try begin(parse(json))
                json = []
            }
            guard let request else {
                throw OIPError("the body ended at byte \(offset), inside the \(headerLength!)-byte JSON request (Inference-Header-Content-Length)")
            }
            if current < binaryInputs.count {
                let input = request.inputs[binaryInputs[current]]
                throw OIPError("the body ended at byte \(offset), with \(currentBytes) of input '\(input.name)''s \(input.binarySize!) binary bytes")
            }
            return try answer(request)
        } catch {
            return error.response
        }
    }

    /// Scores the request's tensors and options as the loss route would.
    private func answer(_ request: OIPInferRequest) throws(OIPError) -> Response {
        var members = request.options
        for (index, input) in request.inputs.enumerated() {
            do {
                members[input.name] = .tensor(try Tensor(shape: input.shape, data: tensors[index]))
            } catch {
                throw OIPError("input '\(input.name)': \(error.message)")
            }
        }
        tensors = []
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
