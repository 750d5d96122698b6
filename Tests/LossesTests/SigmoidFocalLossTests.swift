import Losses
import Testing
import TestSupport

/// Focal loss: the rules of torchvision's `sigmoid_focal_loss` that the fixture cannot show, and its errors.
@Suite struct SigmoidFocalLossTests {
    static let logits = tensor([2, 3], [2.0, -1.0, 0.5, 0.1, -3.0, 4.0])
    static let labels = tensor([2, 3], [1, 0, 1, 0, 0, 1])

    @Test func defaultsAreTorchvisionsAlphaAndGammaWithMeanReduction() throws {
        let loss = SigmoidFocalLoss()
        #expect(loss.alpha == 0.25 && loss.gamma == 2 && loss.reduction == .mean)
        let sum = try SigmoidFocalLoss(reduction: .sum)(predictions: Self.logits, targets: Self.labels)
        let mean = try loss(predictions: Self.logits, targets: Self.labels)
        #expect(closeEnough(mean.loss.data[0], sum.loss.data[0] / 6))
        #expect(mean.count == 6 && mean.weightSum == 6)
    }

    @Test func gammaZeroWithoutAlphaIsBinaryCrossEntropyWithLogits() throws {
        let focal = try SigmoidFocalLoss(alpha: -1, gamma: 0, reduction: .none)(predictions: Self.logits, targets: Self.labels)
        let bce = try BinaryCrossEntropy(fromLogits: true, reduction: .none)(predictions: Self.logits, targets: Self.labels)
        for (a, b) in zip(focal.loss.data, bce.loss.data) { #expect(closeEnough(a, b, relative: 1e-15)) }
    }

    @Test func alphaWeighsPositivesByAlphaAndNegativesByOneMinusAlpha() throws {
        let unweighted = try SigmoidFocalLoss(alpha: -1, reduction: .none)(predictions: Self.logits, targets: Self.labels)
        let weighted = try SigmoidFocalLoss(alpha: 0.8, reduction: .none)(predictions: Self.logits, targets: Self.labels)
        for (index, label) in Self.labels.data.enumerated() {
            let factor = label == 1 ? 0.8 : 0.2
            #expect(closeEnough(weighted.loss.data[index], factor * unweighted.loss.data[index], relative: 1e-15))
        }
    }

    @Test func aConfidentCorrectLogitKeepsItsTinyLossWhereTorchvisionCancels() throws {
        // x = 30, t = 1: (1 - p_t)^2 · BCE = σ(-30)^2 · log1p(e^-30), about 8.2e-40; torchvision's 1 - σ(30) is 1e-13 off.
        let result = try SigmoidFocalLoss(alpha: -1, reduction: .none)(predictions: tensor([1], [30]), targets: tensor([1], [1]))
        let e = 9.357622968840175e-14  // e^-30
        let sigmoidOfNegative = e / (1 + e), log1p = e - e * e / 2
        #expect(closeEnough(result.loss.data[0], sigmoidOfNegative * sigmoidOfNegative * log1p, relative: 1e-15))
    }

    @Test(arguments: [
        (SigmoidFocalLoss(alpha: 1.5), tensor([1], [0]), tensor([1], [1]),
         "alpha = 1.5 is greater than 1 (use a value in [0, 1], or a negative one for no weighting)"),
        (SigmoidFocalLoss(gamma: -1), tensor([1], [0]), tensor([1], [1]), "gamma = -1 must be a finite number ≥ 0"),
        (SigmoidFocalLoss(), tensor([2, 2], [0, 0, 0, 0]), tensor([2, 2], [0, 1, 2, 0]), "targets[1][0] = 2 is outside [0, 1]"),
        (SigmoidFocalLoss(), tensor([2, 2], [0, 0, 0, 0]), tensor([4], [0, 1, 1, 0]),
         "targets have shape [4] but predictions have shape [2, 2]; they must be the same"),
        (SigmoidFocalLoss(), tensor([0], []), tensor([0], []), "predictions has shape [0], which is empty: there is nothing to score"),
    ])
    func refusesWithAMessageNamingTheMemberOrElement(_ loss: SigmoidFocalLoss, _ predictions: Tensor, _ targets: Tensor, _ message: String) {
        #expect(errorMessage { () throws(LossError) in try loss(predictions: predictions, targets: targets) } == message)
    }
}
