import HTTP
import TensorJSON

/// Keeps the arrays of large tensors (binary inputs, and JSON tensors of
/// 4 MiB or more) after their request, to hand them to the next one, so that
/// a stream of large requests writes into memory that is already mapped.
///
/// Why: a new array of 4 MiB or more is mapped afresh (`MemoryPolicy`), and
/// the kernel zeroes every page of it on first touch. With binary inputs
/// that zeroing was the largest single cost of a request: on the
/// (4,3,512,512) FP32 MSE benchmark about 5 of 18.6 ms of CPU, more than
/// reading the body from the socket; with the JSON form of that request,
/// 18.6 % of the server's CPU (perf, `clear_page_erms`). Written for speed; what it costs is
/// memory kept: at most `maxRetainedBytes` stay resident while no request
/// uses them. That memory is outside the memory budget (which counts what
/// requests hold), like the read buffers, so it is kept to an eighth of the
/// budget: the budget's default (70 % of `memory.max`) leaves room for it.
final class OIPStoragePool: Sendable {
    /// The most bytes of arrays kept between requests: 256 MiB by default
    /// (four requests of two (4,3,512,512) tensors), at most an eighth of
    /// the memory budget (`maxRetainedBytes(budget:)`); lossd's
    /// `--storage-pool-bytes` sets it (`LossResponder.storagePoolBytes`).
    static let defaultMaxRetainedBytes = 256 << 20

    /// `defaultMaxRetainedBytes`, or an eighth of `budget` when that is less.
    static func maxRetainedBytes(budget: MemoryBudget?) -> Int {
        maxRetainedBytes(budgetLimit: budget?.limit ?? .max)
    }

    /// `defaultMaxRetainedBytes`, or an eighth of a budget of `budgetLimit` bytes when that is less.
    static func maxRetainedBytes(budgetLimit: Int) -> Int {
        min(defaultMaxRetainedBytes, budgetLimit / 8)
    }
    /// Arrays smaller than this are left to the allocator, which reuses
    /// them already: 4 MiB, `HugePages.minimumBytes`.
    static let minimumBytes = HugePages.minimumBytes

    let maxRetainedBytes: Int
    private let state = Locked(State())

    private struct State {
        var arrays: [[Double]] = []
        var bytes = 0
    }

    init(maxRetainedBytes: Int) {
        self.maxRetainedBytes = maxRetainedBytes
    }

    /// Bytes of arrays kept just now.
    var retainedBytes: Int { state.withLock { $0.bytes } }

    /// An array of `count` elements to be overwritten: a kept one whose
    /// capacity fits (at most twice what is needed), else a new one.
    func take(count: Int) -> [Double] {
        if count * 8 >= OIPStoragePool.minimumBytes, var array = kept(fitting: count, atMost: 2 * count + 1) {
            // Every element was written by its last request; shorten or
            // lengthen the count without touching the elements kept.
            if array.count > count {
                array.removeLast(array.count - count)
            } else if array.count < count {
                array.append(contentsOf: repeatElement(0, count: count - array.count))
            }
            return array
        }
        return OIPBinaryReader.freshStorage(count: count)
    }

    /// An empty array with room for at least `capacity` elements (at most a
    /// quarter more), kept from an earlier request, for a JSON tensor to
    /// append its numbers to (`TensorDecoder`'s `storage`); nil when none fits
    /// or the tensor is too small to keep. Its pages are already mapped.
    ///
    /// The fit is tight because a JSON tensor's capacity is planned from the
    /// rest of the body's length, not its count: with `take`'s "at most
    /// twice", a (4,3,512,512) MSE request's targets (planned at half the
    /// predictions' capacity) could take the predictions' array, the next
    /// predictions were then allocated afresh, and the pool kept arrays that
    /// no request took (peak RSS 217 → 310 MB on the 4-connection benchmark).
    func takeEmpty(capacity: Int) -> [Double]? {
        guard capacity * 8 >= OIPStoragePool.minimumBytes,
            var array = kept(fitting: capacity, atMost: capacity + capacity / 4)
        else { return nil }
        array.removeAll(keepingCapacity: true)
        return array
    }

    /// The kept array of the least capacity that holds `count` elements, if
    /// that capacity is at most `most`, taken out of the pool.
    private func kept(fitting count: Int, atMost most: Int) -> [Double]? {
        state.withLock { state in
            var best: Int? = nil
            for (index, array) in state.arrays.enumerated()
            where array.capacity >= count && array.capacity <= most
                && best.map({ array.capacity < state.arrays[$0].capacity }) ?? true {
                best = index
            }
            guard let best else { return nil }
            state.arrays.swapAt(best, state.arrays.count - 1)
            let array = state.arrays.removeLast()
            state.bytes -= array.capacity * 8
            return array
        }
    }

    /// Keeps `array` for a later request, if it is large and there is room.
    /// An array still shared elsewhere is safe to keep too: the next writer's
    /// first write copies it (copy on write), so no request sees another's.
    func recycle(_ array: [Double]) {
        let bytes = array.capacity * 8
        guard bytes >= OIPStoragePool.minimumBytes else { return }
        let unwanted: [Double]? = state.withLock { state in
            guard state.bytes + bytes <= maxRetainedBytes else { return array }
            state.arrays.append(array)
            state.bytes += bytes
            return nil
        }
        _ = unwanted  // freed outside the lock
    }
}
