import HTTP
import Testing
import TensorJSON
@testable import LossService

/// `LossBodyHandler`: a loss request's body decoded as it streams, scored at its end.
@Suite struct LossBodyHandlerTests {
    /// An MSE body of `count` predictions and targets, each number written with 8 bytes and a comma.
    static func mseBody(count: Int, prediction: String, target: String) -> [UInt8] {
        let predictions = Array(repeating: prediction, count: count).joined(separator: ",")
        let targets = Array(repeating: target, count: count).joined(separator: ",")
        return Array((#"{"predictions":["# + predictions + #"],"targets":["# + targets + "]}").utf8)
    }

    /// The body fed in 64 KiB pieces, as the server does, and the answer.
    static func answer(_ body: [UInt8], pool: OIPStoragePool) -> Response {
        let handler = LossBodyHandler(declaration: .meanSquaredError, metrics: ServiceMetrics(includeProcessMetrics: false),
                                      bodyLength: body.count, storagePool: pool)
        body.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let end = min(start + 65_536, raw.count)
                #expect(handler.consume(UnsafeRawBufferPointer(rebasing: raw[start..<end])) == nil)
                start = end
            }
        }
        return handler.finish()
    }

    @Test("a large tensor's array goes to the storage pool after scoring, and the next body decodes into it with its own values")
    func largeTensorsReuseStorage() {
        let pool = OIPStoragePool(maxRetainedBytes: 256 << 20)
        // 300,000 numbers of 9 bytes: the predictions reserve past OIPStoragePool.minimumBytes.
        let count = 300_000
        let first = Self.answer(Self.mseBody(count: count, prediction: "0.500000", target: "0.250000"), pool: pool)
        #expect(first.status == .ok)
        #expect(String(decoding: first.body, as: UTF8.self).contains(#""loss":0.0625"#))
        let kept = pool.retainedBytes
        #expect(kept >= OIPStoragePool.minimumBytes)
        let second = Self.answer(Self.mseBody(count: count, prediction: "0.750000", target: "0.250000"), pool: pool)
        #expect(second.status == .ok)
        #expect(String(decoding: second.body, as: UTF8.self).contains(#""loss":0.25"#))
        // The second body took the kept array and gave it back.
        #expect(pool.retainedBytes == kept)
    }

    @Test("a small body takes nothing from the storage pool and leaves nothing in it")
    func smallBodiesLeaveThePoolAlone() {
        let pool = OIPStoragePool(maxRetainedBytes: 256 << 20)
        let response = Self.answer(Self.mseBody(count: 3, prediction: "0.500000", target: "0.250000"), pool: pool)
        #expect(String(decoding: response.body, as: UTF8.self).contains(#""loss":0.0625"#))
        #expect(pool.retainedBytes == 0)
    }
}
