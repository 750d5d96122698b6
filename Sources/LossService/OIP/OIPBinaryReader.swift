import TensorJSON

/// The framing of Triton's binary tensor data extension, with nothing of
/// HTTP or the losses in it (so a fuzz target can drive it alone): the
/// first `headerLength` bytes of the body are the JSON request, then each
/// binary input's `binary_data_size` bytes follow in order. Binary bytes
/// are converted to doubles as they arrive, straight from the piece of the
/// body just read into each input's storage (allocated once, at its full
/// size, advised for huge pages); an element split between two pieces of
/// the body waits in an 8-byte carry. Every byte is looked at once, and
/// every element written once.
///
/// Written for speed (the hot path of a large binary request): no copy of
/// the body, no intermediate buffer, no per-element allocation.
///
/// Use: `feed` until `headerComplete`, parse `header`, `plan` the binary
/// inputs, `feed` the rest, then `finish`.
final class OIPBinaryReader {
    /// One binary input: how its elements are stored, and its byte count.
    struct Part: Equatable {
        let datatype: OIPDatatype
        let size: Int
        /// When set, the part is folded into an earlier one instead of stored (see `Fold`).
        var fold: Fold? = nil
    }

    /// A part of a difference loss (`DifferenceFold`) whose elements become differences in
    /// an earlier part of the same count as they arrive: that part's storage ends up holding
    /// `minuend - subtrahend` (the doubles `p - t` gives), and this one has none (an empty array).
    struct Fold: Equatable {
        /// The earlier part's index in `parts`.
        let into: Int
        /// True when the earlier part is the minuend (`into[i] - value`), false when it is the subtrahend.
        let intoIsMinuend: Bool
    }

    /// A body whose framing is wrong, with where (a 400).
    struct FramingError: Error, Equatable {
        let message: String
    }

    /// The JSON request's length, from `Inference-Header-Content-Length`.
    let headerLength: Int
    /// The JSON bytes read so far.
    private(set) var header: [UInt8] = []
    /// The binary inputs, once planned.
    private(set) var parts: [Part]?
    /// Each part's elements, in `parts` order: every array has its full
    /// count from `plan` on, but only `parts[current]`'s first `filled`
    /// elements (and all of the parts before it) are written yet.
    private var tensors: [[Double]] = []
    /// Body bytes consumed, for error offsets (after any gzip decoding).
    private(set) var offset = 0
    private var current = 0
    private var currentBytes = 0
    /// Elements of `tensors[current]` written so far.
    private var filled = 0
    private var carry: (UInt64, Int) = (0, 0)

    /// Gives each binary input its storage: an array of the count asked for,
    /// whose elements the reader overwrites, every one.
    private let storage: (Int) -> [Double]

    /// - Parameter storage: where each binary input's array comes from
    ///   (`freshStorage` by default; lossd reuses them, `OIPStoragePool`).
    init(headerLength: Int, storage: @escaping (Int) -> [Double] = OIPBinaryReader.freshStorage) {
        self.headerLength = headerLength
        self.storage = storage
        header.reserveCapacity(min(headerLength, 1 << 20))
    }

    /// A new array of `count` elements not yet written, advised for huge pages.
    ///
    /// Full count at once, elements not yet written: the reader writes each
    /// exactly once before `takeTensors` hands them out (it refuses to while
    /// a part is incomplete), so no page is touched twice and an untouched
    /// one never (zero-filling first would double the memory traffic of a
    /// large request). Double is a trivial type: there is nothing to
    /// initialise but the bits.
    static func freshStorage(count: Int) -> [Double] {
        let storage = [Double](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        storage.withUnsafeBufferPointer { HugePages.advise($0.baseAddress, bytes: count * 8) }
        return storage
    }

    /// Whether the JSON request's bytes are all in.
    var headerComplete: Bool { header.count == headerLength }

    /// Sets the binary inputs once the header is parsed; each reserves its storage once.
    func plan(_ parts: [Part]) {
        precondition(self.parts == nil && headerComplete)
        self.parts = parts
        tensors = parts.enumerated().map { index, part in
            let count = part.size / part.datatype.size
            if let fold = part.fold {
                precondition(fold.into < index && parts[fold.into].size / parts[fold.into].datatype.size == count)
                return []
            }
            let array = storage(count)
            precondition(array.count == count)
            return array
        }
        header = []
        skipFilled()
    }

    /// Reads from `bytes` and returns how many it took: fewer than all only
    /// when the header completes inside them (plan, then feed the rest).
    func feed(_ bytes: UnsafeRawBufferPointer) throws(FramingError) -> Int {
        guard let parts else {
            let take = min(headerLength - header.count, bytes.count)
            header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
            offset += take
            return take
        }
        var rest = bytes
        while !rest.isEmpty {
            guard current < parts.count else {
                throw FramingError(message: "the body goes on past the binary inputs at byte \(offset) (the binary_data_size values add up to \(offset - headerLength))")
            }
            let part = parts[current]
            let size = part.datatype.size
            let take = min(part.size - currentBytes, rest.count)
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
                    withUnsafeBytes(of: carry.0) { write(part.datatype, from: $0, count: 1) }
                    carry = (0, 0)
                }
            }
            let whole = piece.count / size
            if whole > 0 { write(part.datatype, from: piece, count: whole) }
            let tail = piece.count % size
            if tail > 0 {
                withUnsafeMutableBytes(of: &carry.0) { slot in
                    for i in 0..<tail { slot[i] = piece[piece.count - tail + i] }
                }
                carry.1 = tail
            }
            skipFilled()
        }
        return bytes.count
    }

    /// Converts `count` elements at the start of `source` into the current
    /// tensor, after its `filled` ones.
    private func write(_ datatype: OIPDatatype, from source: UnsafeRawBufferPointer, count: Int) {
        if let fold = parts![current].fold { return foldElements(into: fold, datatype, from: source, count: count) }
        let start = filled
        tensors[current].withUnsafeMutableBufferPointer { storage in
            precondition(start + count <= storage.count)
            datatype.convert(source.baseAddress!, count: count, into: storage.baseAddress! + start)
        }
        filled += count
    }

    /// Converts `count` elements at the start of `source` and folds them into the earlier part's
    /// elements after the current part's `filled` ones. Hot path: converted a batch at a time into
    /// a stack buffer (`OIPDatatype.convert`, as a stored part is), then one straight loop each.
    private func foldElements(into fold: Fold, _ datatype: OIPDatatype, from source: UnsafeRawBufferPointer, count: Int) {
        let start = filled
        let batch = OIPBinaryReader.foldBatch
        tensors[fold.into].withUnsafeMutableBufferPointer { storage in
            precondition(start + count <= storage.count)
            let first = storage.baseAddress! + start
            withUnsafeTemporaryAllocation(of: Double.self, capacity: batch) { values in
                let values = values.baseAddress!
                var done = 0
                while done < count {
                    let length = min(batch, count - done)
                    datatype.convert(source.baseAddress! + done * datatype.size, count: length, into: values)
                    let into = first + done
                    if fold.intoIsMinuend {
                        for i in 0..<length { into[i] = into[i] - values[i] }
                    } else {
                        for i in 0..<length { into[i] = values[i] - into[i] }
                    }
                    done += length
                }
            }
        }
        filled += count
    }

    /// Elements per batch in `foldElements`: 1 KiB of doubles, on the stack.
    private static let foldBatch = 128

    private func skipFilled() {
        guard let parts else { return }
        while current < parts.count, currentBytes == parts[current].size {
            current += 1
            currentBytes = 0
            filled = 0
        }
    }

    /// The body has ended: every part must be complete. `names` name the
    /// parts in the error.
    func finish(names: [String]) throws(FramingError) {
        guard let parts else {
            throw FramingError(message: "the body ended at byte \(offset), inside the \(headerLength)-byte JSON request (Inference-Header-Content-Length)")
        }
        if current < parts.count {
            let name = current < names.count ? "input '\(names[current])'" : "binary input \(current)"
            throw FramingError(message: "the body ended at byte \(offset), with \(currentBytes) of \(name)'s \(parts[current].size) binary bytes")
        }
    }

    /// Forgets the tensors, complete or not (a request refused midway).
    func dropTensors() {
        tensors = []
    }

    /// Hands the tensors over (and forgets them), once `finish` has found
    /// every part complete.
    func takeTensors() -> [[Double]] {
        precondition(parts.map { current == $0.count } ?? true, "takeTensors before every binary part is complete")
        defer { tensors = [] }
        return tensors
    }
}
