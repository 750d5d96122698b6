import HTTP
import TensorJSON

/// Keeps the arrays of large binary tensors after their request, to hand
/// them to the next one, so that a stream of large binary requests writes
/// into memory that is already mapped.
///
/// Why: a new array of 4 MiB or more is mapped afresh (`MemoryPolicy`), and
/// the kernel zeroes every page of it on first touch. With binary inputs
/// that zeroing was the largest single cost of a request: on the
/// (4,3,512,512) FP32 MSE benchmark about 5 of 18.6 ms of CPU, more than
/// reading the body from the socket. Written for speed; what it costs is
/// memory kept: at most `maxRetainedBytes` stay resident while no request
/// uses them. That memory is outside the memory budget (which counts what
/// requests hold), like the read buffers, so it is kept to an eighth of the
/// budget: the budget's default (70 % of `memory.max`) leaves room for it.
final class OIPStoragePool: Sendable {
    /// The most bytes of arrays kept between requests: 256 MiB by default
    /// (four requests of two (4,3,512,512) tensors), at most an eighth of
    /// the memory budget (`maxRetainedBytes(budget:)`).
    static let defaultMaxRetainedBytes = 256 << 20

    /// `defaultMaxRetainedBytes`, or an eighth of `budget` when that is less.
    static func maxRetainedBytes(budget: MemoryBudget?) -> Int {
        min(defaultMaxRetainedBytes, (budget?.limit ?? .max) / 8)
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
        if count * 8 >= OIPStoragePool.minimumBytes {
            let kept: [Double]? = state.withLock { state in
                var best: Int? = nil
                for (index, array) in state.arrays.enumerated()
                where array.capacity >= count && array.capacity / 2 <= count
                    && best.map({ array.capacity < state.arrays[$0].capacity }) ?? true {
                    best = index
                }
                guard let best else { return nil }
                state.arrays.swapAt(best, state.arrays.count - 1)
                let array = state.arrays.removeLast()
                state.bytes -= array.capacity * 8
                return array
            }
            if var array = kept {
                // Every element was written by its last request; shorten or
                // lengthen the count without touching the elements kept.
                if array.count > count {
                    array.removeLast(array.count - count)
                } else if array.count < count {
                    array.append(contentsOf: repeatElement(0, count: count - array.count))
                }
                return array
            }
        }
        return OIPBinaryReader.freshStorage(count: count)
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
