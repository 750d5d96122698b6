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

    /// Scores every pixel: pixels in `V`'s lanes along the contiguous pixel axis, the loop
    /// over classes inside, so the maximum, the sum of exponentials and the target's logit of
    /// the lanes' pixels stay in registers. log_softmax as ATen, `(x - max) - log Σ exp(x - max)`,
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
        // Per pixel of a tile: the loss (first the target's x - max), the weight of its target class
        // (0 when ignored) and the sum of exponentials beside the maximum (-1 when ignored).
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 3 * tileWidth)
        defer { scratch.deallocate() }
        let tileLosses = scratch, tileWeights = scratch + tileWidth, tileSums = scratch + 2 * tileWidth
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

        /// The losses and target weights of the pixels whose class-0 logits `load(x)` reads.
        @inline(__always) func scoreLanes(
            _ x: UnsafePointer<Double>, _ t: V, _ load: (UnsafePointer<Double>) -> V
        ) -> (sum: V, picked: V, weight: V) {
            var maximum = load(x)
            for c in 1..<classes {
                let v = load(x + c &* inner)  // wrapping: c·inner is inside the predictions buffer
                // One MAXPD. Swift.max's rule (v >= max) differs only in which of +0 and -0 it keeps, which
                // changes no loss (a zero tie is a tie either way); a NaN logit makes the loss NaN either way.
                maximum = maximum.replacing(with: v, where: v .> maximum)
            }
            var rest = V(repeating: 0), ties = V(repeating: -1)
            var picked = V(repeating: 0), weight = V(repeating: 0)
            var hitAny = SIMDMask<V.MaskStorage>(repeating: false)
            for c in 0..<classes {
                let d = load(x + c &* inner) - maximum
                // e^0 = 1 exactly, so subtracting 1 where d = 0 leaves exactly the sum beside the maximum.
                let atMaximum = V(repeating: 1).masked(by: d .== V(repeating: 0))
                rest += expNonPositive(d, F.self) - atMaximum
                ties += atMaximum
                // At most one class hits: OR-ing in the masked bits is the select, in fewer instructions.
                let hit = t .== classLanes[2 &* c]
                picked.formBitwiseUnion(d.masked(by: hit))
                weight.formBitwiseUnion(classLanes[2 &* c &+ 1].masked(by: hit))
                hitAny .|= hit
            }
            // -1 where ignored (a sum of exponentials never is): the pass that takes the log makes the loss 0 there.
            return ((rest + ties).replacing(with: -1, where: .!hitAny), picked, weight)
        }
        /// The loss from `scoreLanes`'s parts; also counts the taken targets and checks that the rest are ignored.
        @inline(__always) func finish(_ sum: V, _ picked: V, _ weight: V, _ t: V) -> V {
            let hit = .!(sum .< V(repeating: 0))  // a NaN sum (a NaN logit) is a taken target
            valid .&= hit .| (t .== ignored)
            taken += V(repeating: 1).masked(by: hit)  // exact up to 2^53 pixels
            return (-(picked - logOnePlus(sum, F.self)) * weight).masked(by: hit)
        }

        for sample in 0..<batch {
            var first = 0
            while first < inner {
                let tile = Swift.min(tileWidth, inner - first)
                let x = predictions + sample * classes * inner + first
                let t = targets + sample * inner + first
                let out = output.map { $0 + sample * inner + first } ?? tileLosses
                var s = 0
                while s &+ width <= tile {
                    let (sum, picked, weight) = scoreLanes(x + s, V.load(t + s)) { V.load($0) }
                    sum.store(to: tileSums + s)
                    picked.store(to: out + s)
                    weight.store(to: tileWeights + s)
                    s &+= width
                }
                if s < tile {  // the last few pixels: the unused lanes repeat the first one's logits, target ignored
                    let rest = tile - s
                    var lastTargets = ignored
                    for j in 0..<rest { lastTargets[j] = t[s + j] }
                    let (sum, picked, weight) = scoreLanes(x + s, lastTargets) { p in
                        var lanes = V(repeating: p[0])
                        for j in 0..<rest { lanes[j] = p[j] }
                        return lanes
                    }
                    for j in 0..<rest {
                        tileSums[s + j] = sum[j]
                        out[s + j] = picked[j]
                        tileWeights[s + j] = weight[j]
                    }
                }
                // The logs in a pass of their own: behind the class loop, their latency would stall it.
                s = 0
                while s &+ width <= tile {
                    let sums = V.load(tileSums + s), picked = V.load(out + s)
                    finish(sums, picked, V.load(tileWeights + s), V.load(t + s)).store(to: out + s)
                    s &+= width
                }
                if s < tile {
                    let rest = tile - s
                    var sums = V(repeating: -1), picked = V(repeating: 0), weight = V(repeating: 0)
                    var lastTargets = ignored
                    for j in 0..<rest {
                        sums[j] = tileSums[s + j]
                        picked[j] = out[s + j]
                        weight[j] = tileWeights[s + j]
                        lastTargets[j] = t[s + j]
                    }
                    let last = finish(sums, picked, weight, lastTargets)
                    for j in 0..<rest { out[s + j] = last[j] }
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
