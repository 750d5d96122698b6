/// A connection's read buffer and its growth rules: bytes `[start, end)` of
/// `storage` are read and not yet consumed. It starts at the normal size
/// (`ServerConfiguration.readBufferBytes`, at least 1 KiB), grows by doubling
/// while a request head (or a chunk-size line) is larger than it, up to a
/// bound that lets the parser see every limit it enforces, takes the body
/// size (`ServerConfiguration.bodyReadBufferBytes`) for a large body, and
/// goes back to the normal size between requests. No I/O: the connection
/// reads into `freeSpace` and reports the count with `didRead`.
///
/// Hot path: one buffer reused for every request, stored inline in the
/// connection; nothing is allocated unless a head or a body outgrows it.
/// The owner calls `deallocate()` once.
struct ReadBuffer {
    private(set) var storage: UnsafeMutableRawBufferPointer
    private(set) var start = 0
    private(set) var end = 0
    /// The size between requests.
    let normalBytes: Int
    /// The size while a large body is read.
    let bodyBytes: Int
    /// The largest a head may grow it to: the request line and header limits plus 1 KiB.
    let headBound: Int

    init(normalBytes: Int, bodyBytes: Int, headBound: Int) {
        self.normalBytes = max(1024, normalBytes)
        self.bodyBytes = bodyBytes
        self.headBound = headBound
        storage = .allocate(byteCount: self.normalBytes, alignment: 16)
    }

    init(configuration: ServerConfiguration) {
        self.init(normalBytes: configuration.readBufferBytes, bodyBytes: configuration.bodyReadBufferBytes,
                  headBound: configuration.limits.maxRequestLineBytes + configuration.limits.maxHeaderBytes + 1024)
    }

    func deallocate() {
        storage.deallocate()
    }

    /// Nothing unconsumed.
    var isEmpty: Bool { start == end }
    /// Unconsumed bytes.
    var count: Int { end - start }
    /// The unconsumed bytes, valid until the next change.
    var unread: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }
    /// No room left after the unconsumed bytes.
    var isFull: Bool { end == storage.count }
    /// Where the next read goes, and how many bytes fit there.
    var freeSpace: (pointer: UnsafeMutableRawPointer, count: Int) { (storage.baseAddress! + end, storage.count - end) }
    /// Full of one head that begins at the front, at the growth bound: it can grow no more.
    var isFullAtHeadBound: Bool { start == 0 && end == storage.count && storage.count >= headBound }

    /// `count` bytes were read into `freeSpace`.
    mutating func didRead(_ count: Int) { end += count }
    /// `count` unconsumed bytes were used.
    mutating func consume(_ count: Int) { start += count }
    /// Forgets the unconsumed bytes (a lingering close drops what it reads).
    mutating func clear() {
        start = 0
        end = 0
    }

    /// Makes room at the end: takes the body size first when `largeBody`
    /// and smaller, then moves unconsumed bytes to the front, or, full of a
    /// head that starts at the front, doubles up to `headBound`.
    mutating func makeRoom(largeBody: Bool) {
        if largeBody && storage.count < bodyBytes {
            // A large body: fewer, larger reads. Shrunk at the request's end; small bodies keep the
            // normal buffer, so a small request never pays for allocating and freeing a large one.
            reallocate(to: bodyBytes)
        }
        if start == end {
            start = 0
            end = 0
            return
        }
        guard end == storage.count else { return }
        if start > 0 {
            (storage.baseAddress! + 0).copyMemory(from: storage.baseAddress! + start, byteCount: end - start)
            end -= start
            start = 0
            return
        }
        guard storage.count < headBound else { return }
        reallocate(to: min(headBound, storage.count * 2))
    }

    /// Between requests: back to the normal size after a large body or head, if what it holds fits.
    mutating func shrinkToNormal() {
        if storage.count > normalBytes && end - start <= normalBytes { reallocate(to: normalBytes) }
    }

    /// Moves the unconsumed bytes to the start of a new buffer of `size` bytes (at least `count`).
    private mutating func reallocate(to size: Int) {
        let resized = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        resized.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: end - start)
        end -= start
        start = 0
        storage.deallocate()
        storage = resized
    }
}
