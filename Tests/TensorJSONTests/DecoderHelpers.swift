import Losses

@testable import TensorJSON

/// Decodes `bytes` fed as chunks that end at `splits` (sorted offsets).
func decode(
    _ bytes: [UInt8], splits: [Int] = [], maxDepth: Int = 64, bodyLength: Int? = nil,
    maxTensorBytes: Int = TensorDecoder.defaultMaxTensorBytes,
    maxNumberLength: Int = TensorDecoder.defaultMaxNumberLength
) -> Result<[String: JSONMember], DecodeError> {
    var decoder = TensorDecoder(
        maxDepth: maxDepth, maxNumberLength: maxNumberLength, maxTensorBytes: maxTensorBytes, bodyLength: bodyLength)
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
