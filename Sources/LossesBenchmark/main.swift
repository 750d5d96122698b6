// Elements per second of each loss at 10^6 prediction elements (the `served`
// cases: at the service benchmark's payload sizes), single thread.
//
//     swift build -c release --product LossesBenchmark && .build/release/LossesBenchmark
//     python3 scripts/torch_bench.py     # the same cases in torch, side by side
//
// Each line is `case<TAB>elements per second`; the best of several runs is
// kept. Time is the thread's CPU time, so a busy shared machine does not
// count time the benchmark spent descheduled (torch_bench.py does the same).
// Arguments: [repeats] [prefix of the case names to run].

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Losses
import TestSupport

/// CPU time of this thread, in nanoseconds.
func threadNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

nonisolated(unsafe) var generator = SplitMix64(seed: 42)  // the same inputs every run; set-up only, single thread
func uniform(_ count: Int, in range: ClosedRange<Double> = 0...1) -> [Double] {
    (0..<count).map { _ in Double.random(in: range, using: &generator) }
}
func tensor(_ shape: [Int], _ data: [Double]) -> Tensor {
    try! Tensor(shape: shape, data: data)
}

let elements = 1_000_000
let (batch, classes) = (100_000, 10)
let logits = tensor([batch, classes], uniform(elements, in: -5...5))
let indices = tensor([batch], (0..<batch).map { _ in Double(Int.random(in: 0..<classes, using: &generator)) })
let probabilities = tensor([batch, classes], uniform(elements))
let segmentation = tensor([4, classes, 125, 200], uniform(elements, in: -5...5))
let segmentationIndices = tensor([4, 125, 200], (0..<100_000).map { _ in Double(Int.random(in: 0..<classes, using: &generator)) })
let flat = tensor([elements], uniform(elements, in: -5...5))
let flatProbabilities = tensor([elements], uniform(elements, in: 0.001...0.999))
let flatTargets = tensor([elements], uniform(elements))
let flatWeight = tensor([elements], uniform(elements))
let classWeight = tensor([classes], uniform(classes))
// `flat - flatTargets`, as lossd folds a difference loss's two tensors into one.
let flatDifferences = Differences(
    data: zip(flat.data, flatTargets.data).map { $0 - $1 }, predictionsShape: [elements], targetsShape: [elements])
let flatAsMatrix = tensor([batch, classes], flatTargets.data)
let logitsAsMatrix = tensor([batch, classes], flat.data)
// The service benchmark's segmentation payloads (bench/), at their own sizes.
let servedSegmentation = tensor([2, 5, 64, 64], uniform(2 * 5 * 64 * 64, in: -5...5))
let servedSegmentationIndices = tensor([2, 64, 64], (0..<(2 * 64 * 64)).map { _ in
    Int.random(in: 0..<20, using: &generator) == 0 ? 255 : Double(Int.random(in: 0..<5, using: &generator))
})
let servedClassWeight = tensor([5], uniform(5, in: 0.5...2))
let servedBinary = tensor([4, 1, 128, 128], uniform(4 * 128 * 128, in: -5...5))
let servedBinaryTargets = tensor([4, 1, 128, 128], (0..<(4 * 128 * 128)).map { _ in Double(Int.random(in: 0...1, using: &generator)) })

/// Name, prediction elements per run, the run.
let cases: [(String, Int, () throws -> LossResult)] = [
    ("ce index (1e5, 10) mean", elements, { try CrossEntropy()(predictions: logits, targets: indices) }),
    ("ce index (1e5, 10) weight smoothing mean", elements, {
        try CrossEntropy(weight: classWeight, labelSmoothing: 0.1)(predictions: logits, targets: indices)
    }),
    ("ce probabilities (1e5, 10) mean", elements, { try CrossEntropy()(predictions: logits, targets: probabilities) }),
    ("ce index (4, 10, 125, 200) mean", elements, { try CrossEntropy()(predictions: segmentation, targets: segmentationIndices) }),
    ("ce index (1e5, 10) none", elements, { try CrossEntropy(reduction: .none)(predictions: logits, targets: indices) }),
    ("bce probabilities (1e6) mean", elements, { try BinaryCrossEntropy()(predictions: flatProbabilities, targets: flatTargets) }),
    ("bce logits (1e5, 10) pos_weight mean", elements, {
        try BinaryCrossEntropy(posWeight: classWeight, fromLogits: true)(predictions: logitsAsMatrix, targets: flatAsMatrix)
    }),
    ("mse (1e6) mean", elements, { try MeanSquaredError()(predictions: flat, targets: flatTargets) }),
    ("mse (1e6) weight mean", elements, { try MeanSquaredError(weight: flatWeight)(predictions: flat, targets: flatTargets) }),
    ("mse (1e6) none", elements, { try MeanSquaredError(reduction: .none)(predictions: flat, targets: flatTargets) }),
    ("mse differences (1e6) mean", elements, { try MeanSquaredError()(differences: flatDifferences) }),
    ("mse differences (1e6) weight mean", elements, { try MeanSquaredError(weight: flatWeight)(differences: flatDifferences) }),
    ("l1 (1e6) mean", elements, { try L1Loss()(predictions: flat, targets: flatTargets) }),
    ("l1 (1e6) weight mean", elements, { try L1Loss(weight: flatWeight)(predictions: flat, targets: flatTargets) }),
    ("l1 differences (1e6) mean", elements, { try L1Loss()(differences: flatDifferences) }),
    ("smooth_l1 (1e6) none", elements, { try SmoothL1Loss(reduction: .none)(predictions: flat, targets: flatTargets) }),
    ("smooth_l1 differences (1e6) mean", elements, { try SmoothL1Loss()(differences: flatDifferences) }),
    ("huber (1e6) weight mean", elements, { try HuberLoss(weight: flatWeight)(predictions: flat, targets: flatTargets) }),
    ("huber differences (1e6) weight mean", elements, { try HuberLoss(weight: flatWeight)(differences: flatDifferences) }),
    ("served ce index (2, 5, 64, 64) weight ignore_index mean", servedSegmentation.count, {
        try CrossEntropy(weight: servedClassWeight, ignoreIndex: 255)(
            predictions: servedSegmentation, targets: servedSegmentationIndices)
    }),
    ("served bce logits (4, 1, 128, 128) targets 0/1 mean", servedBinary.count, {
        try BinaryCrossEntropy(fromLogits: true)(predictions: servedBinary, targets: servedBinaryTargets)
    }),
]

let arguments = CommandLine.arguments.dropFirst()
let repeats = arguments.first.flatMap(Int.init) ?? 7
let filter = arguments.dropFirst().first ?? ""
var sink = 0.0
for (name, count, run) in cases where name.hasPrefix(filter) {
    var best = UInt64.max
    for _ in 0..<repeats {
        let start = threadNanoseconds()
        let result = try run()
        let elapsed = threadNanoseconds() - start
        sink += result.loss.data[0]
        best = min(best, elapsed)
    }
    let perSecond = Double(count) / (Double(best) / 1e9)
    print("\(name)\t\(Int(perSecond.rounded()))")
}
if sink == 42 { print("") }  // keeps the results observable so no run is optimised away
