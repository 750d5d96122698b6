// The loss kernels of LossKernels instantiated in this module, which Package.swift compiles
// for AVX2 (x86-64-v3): four doubles per lane group instead of SSE2's two. No kernel source
// lives here, only the instantiations; Losses' KernelPath calls them only on a CPU that has
// AVX2, so nothing here runs on another.
import LossKernels

/// The AVX2 build of the kernels Losses dispatches to.
package enum AVX2Kernels {
    /// `IndexedPlanesCrossEntropy` in four lanes, with fused multiply-adds.
    package static func indexedPlanesCrossEntropy(
        predictions: UnsafePointer<Double>, targets: UnsafePointer<Double>, weights: UnsafePointer<Double>,
        batch: Int, classes: Int, inner: Int, ignoreIndex: Int, output: UnsafeMutablePointer<Double>?
    ) -> IndexedPlanesCrossEntropy {
        IndexedPlanesCrossEntropy(
            lanes: SIMD4<Double>.self, multiplyAdd: FusedMultiplyAdd.self, predictions: predictions, targets: targets,
            weights: weights,
            batch: batch, classes: classes, inner: inner, ignoreIndex: ignoreIndex, output: output)
    }

    /// `SquaredError.run` of the two tensors, with AVX2 code generation.
    package static func squaredError(
        predictions: UnsafePointer<Double>, targets: UnsafePointer<Double>, weights: UnsafePointer<Double>?,
        count: Int, keepElements: Bool
    ) -> (elements: [Double], sum: Double) {
        SquaredError.run(
            lanes: SIMD4<Double>.self, PredictionsMinusTargets(predictions: predictions, targets: targets),
            weights: weights, count: count, keepElements: keepElements)
    }

    /// `SquaredError.run` of differences already taken, with AVX2 code generation.
    package static func squaredError(
        differences: UnsafePointer<Double>, weights: UnsafePointer<Double>?, count: Int, keepElements: Bool
    ) -> (elements: [Double], sum: Double) {
        SquaredError.run(
            lanes: SIMD4<Double>.self, TakenDifferences(differences), weights: weights, count: count,
            keepElements: keepElements)
    }

    /// `LogitsBinaryCrossEntropy.run` in four lanes, with fused multiply-adds in its exp and log.
    package static func logitsBinaryCrossEntropy(
        predictions: UnsafePointer<Double>, targets: UnsafePointer<Double>, weights: UnsafePointer<Double>?,
        posWeights: UnsafePointer<Double>?, count: Int, patternLength: Int, keepElements: Bool
    ) -> (elements: [Double], sum: Double, inRange: Bool) {
        LogitsBinaryCrossEntropy.run(
            lanes: SIMD4<Double>.self, multiplyAdd: FusedMultiplyAdd.self, predictions: predictions, targets: targets,
            weights: weights, posWeights: posWeights, count: count, patternLength: patternLength,
            keepElements: keepElements)
    }
}
