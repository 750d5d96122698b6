import Losses

@testable import LossService

/// Decodes `bytes` fed as chunks that end at `splits` (sorted offsets).
func decode(
    _ bytes: [UInt8], splits: [Int] = [], maxDepth: Int = 64, bodyLength: Int? = nil,
    maxTensorBytes: Int = TensorDecoder.defaultMaxTensorBytes
) -> Result<[String: JSONMember], DecodeError> {
    var decoder = TensorDecoder(maxDepth: maxDepth, maxTensorBytes: maxTensorBytes, bodyLength: bodyLength)
    var start = 0
    do throws(DecodeError) {
        for end in splits + [bytes.count] where end >= start {
            try feed(&decoder, bytes[start..<end])
            start = end
        }
        return .success(try decoder.finish())
    } catch {
        return .failure(error)
    }
}

func decode(_ text: String, splits: [Int] = [], maxDepth: Int = 64) -> Result<[String: JSONMember], DecodeError> {
    decode(Array(text.utf8), splits: splits, maxDepth: maxDepth)
}

/// Feeds one chunk.
func feed<C: Collection<UInt8>>(_ decoder: inout TensorDecoder, _ chunk: C) throws(DecodeError) {
    let bytes = Array(chunk)
    var failure: DecodeError?
    bytes.withUnsafeBytes { buffer in
        do throws(DecodeError) { try decoder.feed(buffer) } catch { failure = error }
    }
    if let failure { throw failure }
}

/// Decodes `bytes` one byte per chunk.
func decodeBytewise(_ bytes: [UInt8]) -> Result<[String: JSONMember], DecodeError> {
    decode(bytes, splits: Array(0...bytes.count))
}

/// The tensor member `name`, if the body decoded and has one.
func tensor(_ result: Result<[String: JSONMember], DecodeError>, _ name: String = "p") -> Tensor? {
    guard case .success(let members) = result, case .tensor(let tensor)? = members[name] else { return nil }
    return tensor
}

/// A seeded generator (SplitMix64), so generated tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
