import Losses
import Testing
import TestSupport

/// Dice: MONAI `DiceLoss` rules the fixture cannot show, and the errors.
@Suite struct DiceLossTests {
    /// (N, C, H, W) = (1, 3, 2, 2) logits and the matching class indices (N, H, W).
    static let logits = tensor([1, 3, 2, 2], [2, -1, 0.5, 0, -1, 2, 0, 1, 0.3, 0.3, 1.5, -2])
    static let indices = tensor([1, 2, 2], [0, 1, 2, 1])
    static let oneHot = tensor([1, 3, 2, 2], [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0])

    @Test func indexTargetsAreOneHotEncodedAsMonaisToOnehotY() throws {
        for targets in [Self.indices, tensor([1, 1, 2, 2], Self.indices.data)] {
            let fromIndices = try DiceLoss(activation: .softmax, reduction: .none)(predictions: Self.logits, targets: targets)
            let fromOneHot = try DiceLoss(activation: .softmax, reduction: .none)(predictions: Self.logits, targets: Self.oneHot)
            #expect(fromIndices == fromOneHot)
        }
    }

    @Test func aPerfectMaskScoresZeroUpToTheSmoothingTerms() throws {
        let result = try DiceLoss()(predictions: Self.oneHot, targets: Self.oneHot)
        #expect(abs(result.loss.data[0]) < 1e-5)
    }

    @Test func noneKeepsMonaisBroadcastableShapeAndMeanIsThePlainMeanOfTheTerms() throws {
        let none = try DiceLoss(activation: .softmax, includeBackground: false, weight: tensor([2], [2, 3]), reduction: .none)(
            predictions: Self.logits, targets: Self.indices)
        #expect(none.loss.shape == [1, 2, 1, 1])
        let mean = try DiceLoss(activation: .softmax, includeBackground: false, weight: tensor([2], [2, 3]))(
            predictions: Self.logits, targets: Self.indices)
        #expect(closeEnough(mean.loss.data[0], (none.loss.data[0] + none.loss.data[1]) / 2))
        #expect(mean.weightSum == 2 && mean.count == 8)
        let batch = try DiceLoss(batch: true, reduction: .none)(predictions: Self.oneHot, targets: Self.oneHot)
        #expect(batch.loss.shape == [3, 1, 1])
    }

    @Test(arguments: [
        (DiceLoss(), tensor([2, 3], [0, 0, 0, 0, 0, 0]), tensor([2, 3], [0, 0, 0, 0, 0, 0]),
         "predictions have shape [2, 3] but Dice needs (N, C, d1, ..., dk) with at least one spatial dimension"),
        (DiceLoss(), logits, tensor([1, 2, 2], [0, 1, 3, 1]), "targets[0][1][0] = 3 is out of range for 3 classes"),
        (DiceLoss(), logits, tensor([1, 2, 2], [0, 1, 0.5, 1]), "targets[0][1][0] = 0.5 is not a class index (an integer)"),
        (DiceLoss(), logits, tensor([1, 4], [0, 1, 0, 1]),
         "targets have shape [1, 4] but predictions have shape [1, 3, 2, 2]: targets need the same shape (a mask or one-hot labels) or class indices of shape [1, 2, 2] or [1, 1, 2, 2]"),
        (DiceLoss(), logits, tensor([1, 3, 2, 2], [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0]), "targets[0][2][1][0] = 2 is outside [0, 1]"),
        (DiceLoss(weight: tensor([2], [1, 1])), logits, indices,
         "weight has shape [2] but 3 channels are scored: it needs shape [] or [3]"),
        (DiceLoss(weight: tensor([3], [1, -1, 1])), logits, indices, "weight[1] = -1 is negative: class weights must be ≥ 0"),
    ])
    func refusesWithAMessageNamingTheTensorAndIndex(_ loss: DiceLoss, _ predictions: Tensor, _ targets: Tensor, _ message: String) {
        #expect(errorMessage { () throws(LossError) in try loss(predictions: predictions, targets: targets) } == message)
    }
}
