// libFuzzer target for the Open Inference Protocol's binary tensor framing
// (OIPBinaryReader, with OIPJSONParser for the JSON request and
// OIPDatatype's conversions): header length, binary_data_size values,
// truncation and trailing bytes, fed at fuzzer-chosen split points. Besides
// "never crash", it checks that the result never depends on where the
// chunks split and that a complete body fills every binary input exactly.
//
// Input layout: byte 0 seeds the chunking; bytes 1-2 are the header length
// (little-endian; Inference-Header-Content-Length); the rest is the body.

/// The outcome of one body: the tensors, or the framing or JSON error.
enum Outcome: Equatable {
    case tensors([[Double]])
    case framing(String)
    case json(OIPJSONError)
    case unplanned

    static func == (a: Outcome, b: Outcome) -> Bool {
        switch (a, b) {
        case let (.tensors(x), .tensors(y)):
            // Bit patterns: NaN payloads included.
            return x.count == y.count && zip(x, y).allSatisfy { $0.map(\.bitPattern) == $1.map(\.bitPattern) }
        case let (.framing(x), .framing(y)): return x == y
        case let (.json(x), .json(y)): return x == y
        case (.unplanned, .unplanned): return true
        default: return false
        }
    }
}

/// The binary parts an inference request's JSON names, as OIPInferRequest
/// reads them (datatype and binary_data_size, which must be a whole number
/// of elements); nil when it names none the fuzzer can use.
func parts(_ json: OIPJSON) -> [OIPBinaryReader.Part]? {
    guard case .array(let inputs)? = json["inputs"] else { return nil }
    var parts: [OIPBinaryReader.Part] = []
    for input in inputs {
        guard case .string(let name)? = input["datatype"], let datatype = OIPDatatype(rawValue: name),
              case .number(let size)? = input["parameters"]?["binary_data_size"],
              size >= 0, size < 1_048_576, size == size.rounded(), Int(size) % datatype.size == 0 else { return nil }
        parts.append(OIPBinaryReader.Part(datatype: datatype, size: Int(size)))
    }
    return parts
}

/// `parts` with the first later part of the same element count as an earlier one folded into
/// it, as a difference loss's second tensor is (`intoIsMinuend` picks the order); nil when none is.
func folded(_ parts: [OIPBinaryReader.Part], intoIsMinuend: Bool) -> [OIPBinaryReader.Part]? {
    for j in parts.indices {
        for i in 0..<j where parts[i].size / parts[i].datatype.size == parts[j].size / parts[j].datatype.size {
            var result = parts
            result[j].fold = OIPBinaryReader.Fold(into: i, intoIsMinuend: intoIsMinuend)
            return result
        }
    }
    return nil
}

func run(_ body: UnsafeRawBufferPointer, headerLength: Int, fold: Bool? = nil, chunk: (Int) -> Int) -> Outcome {
    let reader = OIPBinaryReader(headerLength: headerLength)
    var start = 0
    var planned: [OIPBinaryReader.Part]? = nil
    do throws(OIPBinaryReader.FramingError) {
        repeat {
            let end = min(body.count, start + chunk(start))
            var rest = UnsafeRawBufferPointer(rebasing: body[start..<end])
            repeat {
                let used = try reader.feed(rest)
                rest = UnsafeRawBufferPointer(rebasing: rest[used...])
                if planned == nil, reader.headerComplete {
                    let json: OIPJSON
                    do { json = try OIPJSONParser.parse(reader.header) } catch { return .json(error) }
                    guard var found = parts(json) else { return .unplanned }
                    if let fold {
                        guard let withFold = folded(found, intoIsMinuend: fold) else { return .unplanned }
                        found = withFold
                    }
                    planned = found
                    reader.plan(found)
                }
            } while !rest.isEmpty
            start = end
        } while start < body.count
        try reader.finish(names: [])
    } catch {
        return .framing(error.message)
    }
    let tensors = reader.takeTensors()
    // A complete body fills each binary input exactly.
    for (tensor, part) in zip(tensors, planned ?? []) {
        precondition(tensor.count == (part.fold == nil ? part.size / part.datatype.size : 0), "\(tensor.count) elements for \(part)")
    }
    precondition(tensors.count == planned?.count ?? 0)
    return .tensors(tensors)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let seed = Int(data[0])
    let headerLength = Int(data[1]) | Int(data[2]) << 8
    let body = UnsafeRawBufferPointer(start: data + 3, count: size - 3)
    let whole = run(body, headerLength: headerLength) { _ in Int.max }
    let chunked = run(body, headerLength: headerLength) { start in (start &* 31 &+ seed) % (seed % 13 + 1) + 1 }
    precondition(whole == chunked, "chunking changed the result: \(whole) vs \(chunked)")
    // Folding a later part into an earlier one of the same count (a difference loss): the same
    // framing errors, and where the body is whole, the earlier part holds the differences bit
    // for bit, however the body is cut.
    let intoIsMinuend = seed & 1 == 0
    let fold = run(body, headerLength: headerLength, fold: intoIsMinuend) { _ in Int.max }
    let foldChunked = run(body, headerLength: headerLength, fold: intoIsMinuend) { start in (start &* 17 &+ seed) % (seed % 11 + 1) + 1 }
    precondition(fold == foldChunked, "chunking changed the folded result: \(fold) vs \(foldChunked)")
    switch (whole, fold) {
    case (.tensors(let tensors), .tensors(let differences)):
        // The plan the fold took, found again on the unfolded tensors: the first later part of an earlier one's count.
        guard let (i, j) = tensors.indices.lazy.flatMap({ j in (0..<j).lazy.map { i in (i, j) } })
            .first(where: { tensors[$0.0].count == tensors[$0.1].count }) else { preconditionFailure("a fold without a pair") }
        let expected = zip(tensors[i], tensors[j]).map { intoIsMinuend ? $0 - $1 : $1 - $0 }
        precondition(differences[i].map(\.bitPattern) == expected.map(\.bitPattern), "the folded part is not the differences")
        precondition(differences[j].isEmpty, "a folded part has storage")
    case (_, .unplanned):
        break  // no two parts of one count: nothing to fold
    default:
        precondition(whole == fold, "the fold changed the outcome: \(whole) vs \(fold)")
    }
    return 0
}
