/// The driver shared by the element-wise losses (BCE, MSE): it runs a kernel
/// over the flat positions in blocks and reduces what the kernel writes.
@usableFromInline package enum ElementwiseLoss {
    /// Positions per block: the block's losses stay in L1 before they are summed.
    @inlinable package static var blockLength: Int { 2048 }

    /// Calls `kernel(start, patternOffset, output, length)` for consecutive
    /// blocks covering `0..<count`, none crossing the end of a pattern of
    /// `patternLength` elements, so the kernel reads its operands contiguously
    /// from `patternOffset`. Returns the per-position losses (`none`) or
    /// their compensated sum (`mean`, `sum`), and whether every block's
    /// kernel returned `true` (a kernel that checks its inputs' range on the
    /// way returns `false` for a block with an input outside it).
    @inlinable @inline(__always)
    package static func run(
        count: Int, patternLength: Int, keepElements: Bool,
        kernel: (_ start: Int, _ patternOffset: Int, _ output: UnsafeMutablePointer<Double>, _ length: Int) -> Bool
    ) -> (elements: [Double], sum: Double, inRange: Bool) {
        // Hot path: no allocation per element; for `none` the output is written once, never zero-filled
        // first. Plain loops rather than closures over the running sum, so the kernel's pointers stay
        // provably unaliased and its loop vectorises.
        var inRange = true
        if keepElements {
            let elements = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
                var start = 0
                var offset = 0
                while start < count {
                    let length = Swift.min(blockLength, patternLength - offset, count - start)
                    inRange = kernel(start, offset, buffer.baseAddress! + start, length) && inRange
                    start += length
                    offset += length
                    if offset == patternLength { offset = 0 }
                }
                initialized = count
            }
            return (elements, .nan, inRange)
        }
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: Swift.min(count, blockLength))
        defer { scratch.deallocate() }
        var sum = CompensatedSum()
        var start = 0
        var offset = 0
        while start < count {
            let length = Swift.min(blockLength, patternLength - offset, count - start)
            inRange = kernel(start, offset, scratch, length) && inRange
            sum.add(UnsafeBufferPointer(start: scratch, count: length))
            start += length
            offset += length
            if offset == patternLength { offset = 0 }
        }
        return ([], sum.total, inRange)
    }
}
