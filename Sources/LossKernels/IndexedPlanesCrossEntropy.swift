/// Cross entropy of `(N, C, d1, ..., dk)` logits against class indices, unsmoothed
/// (segmentation), over raw buffers: the kernel behind `CrossEntropy` for that case,
/// generic over the lane width so that one source serves the baseline and the AVX2 build.
@usableFromInline package struct IndexedPlanesCrossEntropy {
    /// The compensated sum of the losses (0 when they are written to an output instead).
    @usableFromInline package var lossSum = 0.0
    /// The sum of the taken targets' class weights.
    @usableFromInline package var weightSum = 0.0
    /// How many targets took part (were not ignored).
    @usableFromInline package var count = 0
    /// `false` when some target is neither a class index nor the ignored index.
    @usableFromInline package var indicesValid = true

    /// Scores every pixel, a tile of pixels at a time in `V`'s lanes along the contiguous pixel
    /// axis, in three passes over the tile: per lane group, the maximum and the target's logit
    /// and weight over the classes (kept in registers); then class by class over the tile, each
    /// exponential added to its pixel's sum in class order; then the logs. log_softmax as ATen, `(x - max) - log Σ exp(x - max)`,
    /// but as log1p of the sum beside the maximum's own e^0 = 1, ties at the maximum counted
    /// apart, so a confident prediction's small loss keeps its digits. Each pixel's loss is the
    /// same for every lane width, and the sums run over buffers in pixel order, so the
    /// result is too (bit for bit), for one `multiplyAdd` (fused, the exp and log are each
    /// within 1 ulp too, and the losses within the golden tolerance of the separate ones).
    ///
    /// Hot path: the target's logit and weight are picked by a compare and select per class,
    /// not by converting the target to an index (no conversion trap, no gather), and the
    /// same compares check that every target is a class index or the ignored one, so the
    /// targets take no separate validation pass.
    @inlinable @inline(__always)
    package init<V: DoubleLanes, F: MultiplyAdd>(
        lanes: V.Type, multiplyAdd: F.Type, predictions: UnsafePointer<Double>, targets: UnsafePointer<Double>,
        weights: UnsafePointer<Double>, batch: Int, classes: Int, inner: Int, ignoreIndex: Int,
        output: UnsafeMutablePointer<Double>?
    ) {
        let width = V.scalarCount
        // Pixels scored together: their logits across all classes stay in cache.
        let tileWidth = Swift.min(inner, 256)
        // The per-pixel scratch rows below, rounded up to whole lane groups (the last group's spare lanes are dropped).
        let row = (tileWidth + width - 1) / width * width
        // Per pixel of a tile: the maximum; the target's logit (0 when no class is hit); the weight of its
        // target class (0 when none); whether a class was hit (all bits set); the sum of exponentials beside
        // the maximum, less 1 per tie at the maximum (tileSums), and that count of ties less 1 (tileTies).
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 7 * row)
        defer { scratch.deallocate() }
        let tileMaxima = scratch, tilePicked = scratch + row, tileWeights = scratch + 2 * row
        let tileHits = scratch + 3 * row, tileSums = scratch + 4 * row, tileTies = scratch + 5 * row
        let tileLosses = scratch + 6 * row
        // Per class, in every lane: its label (NaN for the ignored class: no target equals it) and weight.
        let classLanes = UnsafeMutablePointer<V>.allocate(capacity: 2 * classes)
        defer { classLanes.deallocate() }
        for c in 0..<classes {
            classLanes[2 * c] = V(repeating: c == ignoreIndex ? .nan : Double(c))
            classLanes[2 * c + 1] = V(repeating: weights[c])
        }
        var losses = CompensatedSum(), targetWeights = CompensatedSum()
        var valid = SIMDMask<V.MaskStorage>(repeating: true)
        var taken = V(repeating: 0)
        let ignoredScalar = Double(ignoreIndex)
        let ignored = V(repeating: ignoredScalar)

        /// Pass 1 for the pixels whose class-0 logits `load(x)` reads: their maximum, and their target's
        /// logit and weight, picked by a compare and select per class while the logits pass by.
        @inline(__always) func scanClasses(
            _ x: UnsafePointer<Double>, _ t: V, _ s: Int, _ load: (UnsafePointer<Double>) -> V
        ) {
            var maximum = V(repeating: 0), picked = V(repeating: 0), weight = V(repeating: 0)
            var hitAny = SIMDMask<V.MaskStorage>(repeating: false)
            for c in 0..<classes {
                let v = load(x + c &* inner)  // wrapping: c·inner is inside the predictions buffer
                // One MAXPD. Swift.max's rule (v >= max) differs only in which of +0 and -0 it keeps, which
                // changes no loss (a zero tie is a tie either way); a NaN logit makes the loss NaN either way.
                maximum = c == 0 ? v : maximum.replacing(with: v, where: v .> maximum)
                // At most one class hits: OR-ing in the masked bits is the select, in fewer instructions.
                let hit = t .== classLanes[2 &* c]
                picked.formBitwiseUnion(v.masked(by: hit))
                weight.formBitwiseUnion(classLanes[2 &* c &+ 1].masked(by: hit))
                hitAny .|= hit
            }
            maximum.store(to: tileMaxima + s)
            picked.store(to: tilePicked + s)
            weight.store(to: tileWeights + s)
            V(repeating: -1).masked(by: hitAny).store(to: tileHits + s)
        }
        /// Pass 2, one class for the pixels whose logits of that class `load(x)` reads: adds e^(x - max)
        /// to their sums (class order, as one pixel at a time would).
        @inline(__always) func addClass(
            _ x: UnsafePointer<Double>, _ s: Int, first: Bool, _ load: (UnsafePointer<Double>) -> V
        ) {
            let d = load(x) - V.load(tileMaxima + s)
            // e^0 = 1 exactly, so dropping the term where d = 0 leaves exactly the sum beside the maximum
            // (as e - 1 there would, but one AND-NOT where a subtraction is 3 cycles on the exp's chain).
            let isMaximum = d .== V(repeating: 0)
            let atMaximum = V(repeating: 1).masked(by: isMaximum)
            let term = expNonPositive(d, F.self).masked(by: .!isMaximum)
            if first {  // a constant once inlined: 0 + term and -1 + atMaximum, exactly
                term.store(to: tileSums + s)
                (atMaximum - V(repeating: 1)).store(to: tileTies + s)
            } else {
                (V.load(tileSums + s) + term).store(to: tileSums + s)
                (V.load(tileTies + s) + atMaximum).store(to: tileTies + s)
            }
        }
        /// Pass 3: the losses of the pixels at `s`; also counts the taken targets and checks that the rest are ignored.
        @inline(__always) func finish(_ s: Int, _ t: V) -> V {
            let hitAny = V.load(tileHits + s) .< V(repeating: 0)
            // -1 where ignored (a sum of exponentials never is): the log then makes the loss 0 there.
            let sum = (V.load(tileSums + s) + V.load(tileTies + s)).replacing(with: -1, where: .!hitAny)
            let picked = V.load(tilePicked + s) - V.load(tileMaxima + s)
            let hit = .!(sum .< V(repeating: 0))  // a NaN sum (a NaN logit) is a taken target
            valid .&= hit .| (t .== ignored)
            taken += V(repeating: 1).masked(by: hit)  // exact up to 2^53 pixels
            return (-(picked - logOnePlus(sum, F.self)) * V.load(tileWeights + s)).masked(by: hit)
        }

        for sample in 0..<batch {
            var first = 0
            while first < inner {
                let tile = Swift.min(tileWidth, inner - first)
                let x = predictions + sample * classes * inner + first
                let t = targets + sample * inner + first
                let out = output.map { $0 + sample * inner + first } ?? tileLosses
                let whole = tile - tile % width  // pixels in whole lane groups
                let rest = tile - whole
                // The last few pixels: the unused lanes repeat the first one's logits, target ignored.
                @inline(__always) func loadRest(_ p: UnsafePointer<Double>) -> V {
                    var lanes = V(repeating: p[0])
                    for j in 0..<rest { lanes[j] = p[j] }
                    return lanes
                }
                var lastTargets = ignored
                for j in 0..<rest { lastTargets[j] = t[whole + j] }

                var s = 0
                while s < whole {
                    scanClasses(x + s, V.load(t + s), s) { V.load($0) }
                    s &+= width
                }
                if rest > 0 { scanClasses(x + whole, lastTargets, whole, loadRest) }
                // Class by class over the tile: each group's exp is independent of the next one's, so the
                // core overlaps their long dependency chains (per pixel, the classes' chains met in one sum).
                for c in 0..<classes {
                    let xc = x + c &* inner
                    s = 0
                    if c == 0 {
                        while s < whole { addClass(xc + s, s, first: true) { V.load($0) }; s &+= width }
                        if rest > 0 { addClass(xc + whole, whole, first: true, loadRest) }
                    } else {
                        while s < whole { addClass(xc + s, s, first: false) { V.load($0) }; s &+= width }
                        if rest > 0 { addClass(xc + whole, whole, first: false, loadRest) }
                    }
                }
                // The logs in a pass of their own: behind the class loop, their latency would stall it.
                s = 0
                while s < whole {
                    finish(s, V.load(t + s)).store(to: out + s)
                    s &+= width
                }
                if rest > 0 {
                    let last = finish(whole, lastTargets)
                    for j in 0..<rest { out[whole + j] = last[j] }
                }
                if output == nil { losses.add(UnsafeBufferPointer(start: out, count: tile)) }
                targetWeights.add(UnsafeBufferPointer(start: tileWeights, count: tile))
                first += tile
            }
        }
        lossSum = losses.total
        weightSum = targetWeights.total
        count = Int(taken.sum())
        indicesValid = all(valid)
    }
}
