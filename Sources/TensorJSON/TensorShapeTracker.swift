/// Infers and checks the shape of one nested JSON array of numbers while
/// `TensorDecoder` streams through it, and collects the numbers in row-major
/// order. Levels are 1-based: level 1 is the outermost array.
///
/// The first number met (or the first empty array closed) fixes the rank; the
/// first array of each level to close fixes that level's size (it is always the
/// `[0]…[0]` one, since arrays close in document order), and every later array
/// of the level must match it. So `[]` is `[0]`, `[[]]` is `[1, 0]`, and a
/// ragged array is caught at the close of the first row that differs.
struct TensorShapeTracker {
    /// The member path used in messages: `predictions`, `predictions.data`, …
    var path = ""
    /// The rank, or -1 until a number or an empty innermost array fixes it.
    var rank = -1
    /// `dims[k]` is the size of level `k`, or -1 until its first array closes.
    var dims: [Int]
    /// `counts[k]` is the number of elements begun in the open array of level
    /// `k`, so `counts[k] - 1` is the index of the current one.
    var counts: [Int]
    /// The numbers read so far, row-major.
    var data: [Double] = []
    /// The most numbers this tensor may hold now: what the request's tensor
    /// limit leaves after its earlier tensors (`TensorDecoder.maxTensorBytes`),
    /// or less, what its memory reservation covers (`MemoryBudget`), which the
    /// decoder extends when the tensor reaches it.
    var maxCount = Int.max
    /// The most numbers this tensor may ever hold (the tensor limit's part of
    /// `maxCount`): the storage is planned against it, so that extending the
    /// memory reservation does not copy the storage again.
    var capacityLimit = Int.max

    /// Where this tensor's numbers go when it is the second member of a `DifferenceFold`:
    /// into the first one's storage, as differences, instead of into `data` (which stays empty).
    struct Fold {
        /// The first member's name and shape.
        var name: String
        var shape: [Int]
        /// The first member's numbers, each replaced by `minuend - subtrahend` as its
        /// counterpart arrives.
        var into: [Double]
        /// True when the first member is the minuend (`into[i] - value`), false when it is
        /// the subtrahend (`value - into[i]`): the same double either way.
        var firstIsMinuend: Bool
        /// This tensor's numbers so far; those past `into.count` are only counted.
        var written = 0

        /// Folds `count` numbers in. Hot path (per 128-number batch): one uniqueness check,
        /// then a straight loop over contiguous storage, never past the first tensor's end.
        @inline(__always)
        mutating func absorb(_ values: UnsafePointer<Double>, _ count: Int) {
            let inside = min(count, max(0, into.count &- written))
            if inside > 0 {
                let start = written
                let minuend = firstIsMinuend
                into.withUnsafeMutableBufferPointer { buffer in
                    let first = buffer.baseAddress! + start
                    if minuend {
                        for i in 0..<inside { first[i] = first[i] - values[i] }
                    } else {
                        for i in 0..<inside { first[i] = values[i] - first[i] }
                    }
                }
            }
            written &+= count
        }
    }

    /// Set while this tensor is folded into an earlier one (see `Fold`).
    var fold: Fold?

    /// The numbers read so far, stored or folded.
    var count: Int { data.count + (fold?.written ?? 0) }

    /// A source of storage for large tensors: an empty array with room for at
    /// least the given count of numbers (say, one kept from an earlier
    /// request, whose pages are already mapped), or nil to allocate afresh.
    typealias Storage = (Int) -> [Double]?

    /// A tracker for arrays nested at most `maxDepth` levels deep.
    init(maxDepth: Int) {
        dims = Array(repeating: -1, count: maxDepth + 2)
        counts = Array(repeating: 0, count: maxDepth + 2)
    }

    /// Starts a new tensor whose outermost array has just opened, with room
    /// reserved for `reserve` numbers: at most `maxCount`, and `maxCount`
    /// itself when `reserve` is past three quarters of it (as `grow` does:
    /// pages never written cost nothing, and growing a storage that large
    /// would copy more than 3/4 of the limit). A reserve of
    /// `HugePages.minimumBytes` or more comes from `storage` when it has one.
    mutating func start(path: String, reserve: Int, maxCount: Int, capacityLimit: Int? = nil, storage: Storage? = nil) {
        self.path = path
        rank = -1
        for k in dims.indices {
            dims[k] = -1
            counts[k] = 0
        }
        data = []
        fold = nil
        self.maxCount = maxCount
        let capacityLimit = capacityLimit ?? maxCount
        self.capacityLimit = capacityLimit
        let reserve = reserve > capacityLimit - capacityLimit / 4 ? capacityLimit : reserve
        if reserve >= HugePages.minimumBytes / 8, let storage, let kept = storage(reserve) {
            data = kept
            if !data.isEmpty { data.removeAll(keepingCapacity: true) }
            if data.capacity < reserve { data.reserveCapacity(reserve) }
        } else if reserve > 0 {
            data.reserveCapacity(reserve)
            data.withUnsafeBufferPointer { HugePages.advise($0.baseAddress, bytes: data.capacity * 8) }
        }
    }

    /// Grows `data`'s storage to hold at least `needed` numbers (at most
    /// `maxCount`, which the caller has checked): by doubling, as `Array`
    /// does, but straight to `maxCount` once doubling would pass three
    /// quarters of it.
    ///
    /// Why: growing copies the old storage into the new, so both are resident
    /// for a moment. Capped this way (and with `start`'s reserve capped
    /// alike), no copy is of more than 3/4 of the limit (old and new together
    /// at most 1.5 × `maxCount` numbers), where doubling freely could copy
    /// nearly the whole limit into twice of it.
    /// Called only when `data` is full: once per doubling, not per number.
    @inline(never)
    static func grow(_ data: inout [Double], toHold needed: Int, maxCount: Int) {
        var capacity = max(needed, 2 * data.capacity)
        if capacity > maxCount - maxCount / 4 { capacity = max(needed, maxCount) }
        data.reserveCapacity(capacity)
    }

    /// Appends one number, growing the storage as `grow` does. Returns false,
    /// appending nothing, when the tensor already holds `maxCount` numbers.
    mutating func append(_ value: Double) -> Bool {
        guard count < maxCount else { return false }
        if fold != nil {
            withUnsafePointer(to: value) { fold!.absorb($0, 1) }
            return true
        }
        if data.count == data.capacity { Self.grow(&data, toHold: data.count + 1, maxCount: capacityLimit) }
        data.append(value)
        return true
    }

    /// A number begins as an element of the level-`k` array. Returns a
    /// message when a number cannot stand there.
    mutating func number(atLevel k: Int) -> String? {
        counts[k] += 1
        if rank == k { return nil }
        if rank == -1 {
            rank = k
            return nil
        }
        return "\(elementPath(k)) is a number where an array is expected"
    }

    /// An array opens as an element of the level-`k` array (so it is at level `k + 1`).
    mutating func openArray(atLevel k: Int) -> String? {
        counts[k] += 1
        if rank != -1 && k + 1 > rank {
            return "\(elementPath(k)) is an array where a number is expected"
        }
        counts[k + 1] = 0
        return nil
    }

    /// The open array of level `k` closes. Returns a message when its length
    /// differs from the first array of the same level.
    mutating func closeArray(atLevel k: Int) -> String? {
        let count = counts[k]
        if rank == -1 { rank = k }
        if dims[k] == -1 {
            dims[k] = count
            return nil
        }
        if dims[k] == count { return nil }
        return "\(arrayPath(k)) has \(elements(count)) but \(referencePath(k)) has \(dims[k])"
    }

    /// Something that is neither a number nor an array (`what`: "a string",
    /// "true", "an object", …) begins as an element of the level-`k` array.
    mutating func nonNumber(atLevel k: Int, what: String) -> String {
        counts[k] += 1
        return "\(elementPath(k)) is \(what), not a number"
    }

    /// The shape, once the outermost array has closed.
    var shape: [Int] { rank < 1 ? [] : Array(dims[1...rank]) }

    /// The path of the current element of level `k`: `predictions[1][0]`.
    func elementPath(_ k: Int) -> String {
        var result = path
        for level in 1...max(k, 1) where level <= k { result += "[\(counts[level] - 1)]" }
        return result
    }

    /// The path of the open array of level `k`.
    private func arrayPath(_ k: Int) -> String { elementPath(k - 1) }

    /// The path of the first array of level `k`: `predictions[0][0]`.
    private func referencePath(_ k: Int) -> String {
        path + String(repeating: "[0]", count: k - 1)
    }

    private func elements(_ count: Int) -> String {
        count == 1 ? "1 element" : "\(count) elements"
    }
}
