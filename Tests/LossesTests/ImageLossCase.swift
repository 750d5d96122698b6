import Foundation
import Losses

/// One case of `Fixtures/image_losses.json`: inputs, options and the float64
/// reference answer that `scripts/make_image_losses.py` computed from the
/// documented formula of torchvision's `sigmoid_focal_loss`, MONAI's
/// `DiceLoss` or TorchMetrics' PSNR and SSIM (the libraries only cross-check).
struct ImageLossCase: Decodable, Sendable, CustomStringConvertible {
    /// The request's members beside predictions and targets, by their JSON names (at the case's top
    /// level, as the end-to-end tests send them); absent ones take the loss's defaults.
    struct Options: Decodable, Sendable {
        var reduction: String?
        var alpha: Double?
        var gamma: Double?
        var sigmoid: Bool?
        var softmax: Bool?
        var includeBackground: Bool?
        var squaredPred: Bool?
        var jaccard: Bool?
        var smoothNr: Double?
        var smoothDr: Double?
        var batch: Bool?
        var weight: Tensor?
        var dataRange: DataRange?
        var base: Double?
        var dim: [Int]?
        var gaussianKernel: Bool?
        var kernelSize: Int?
        var sigma: Double?
        var k1: Double?
        var k2: Double?

        enum CodingKeys: String, CodingKey {
            case reduction, alpha, gamma, sigmoid, softmax, jaccard, batch, weight, dim, sigma, k1, k2, base
            case gaussianKernel = "gaussian_kernel"
            case kernelSize = "kernel_size"
            case includeBackground = "include_background"
            case squaredPred = "squared_pred"
            case smoothNr = "smooth_nr"
            case smoothDr = "smooth_dr"
            case dataRange = "data_range"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            reduction = try c.decodeIfPresent(String.self, forKey: .reduction)
            alpha = try c.decodeIfPresent(Double.self, forKey: .alpha)
            gamma = try c.decodeIfPresent(Double.self, forKey: .gamma)
            sigmoid = try c.decodeIfPresent(Bool.self, forKey: .sigmoid)
            softmax = try c.decodeIfPresent(Bool.self, forKey: .softmax)
            includeBackground = try c.decodeIfPresent(Bool.self, forKey: .includeBackground)
            squaredPred = try c.decodeIfPresent(Bool.self, forKey: .squaredPred)
            jaccard = try c.decodeIfPresent(Bool.self, forKey: .jaccard)
            smoothNr = try c.decodeIfPresent(Double.self, forKey: .smoothNr)
            smoothDr = try c.decodeIfPresent(Double.self, forKey: .smoothDr)
            batch = try c.decodeIfPresent(Bool.self, forKey: .batch)
            weight = try c.decodeIfPresent(FixtureTensor.self, forKey: .weight)?.tensor
            // data_range: a number, or [min, max]; dim: an integer or a list of them.
            if let span = try? c.decodeIfPresent(Double.self, forKey: .dataRange) {
                dataRange = .span(span)
            } else if let interval = try c.decodeIfPresent([Double].self, forKey: .dataRange) {
                guard interval.count == 2 else {
                    throw DecodingError.dataCorruptedError(forKey: .dataRange, in: c, debugDescription: "not [min, max]")
                }
                dataRange = .interval(interval[0], interval[1])
            }
            base = try c.decodeIfPresent(Double.self, forKey: .base)
            if let single = try? c.decodeIfPresent(Int.self, forKey: .dim) {
                dim = [single]
            } else {
                dim = try c.decodeIfPresent([Int].self, forKey: .dim)
            }
            gaussianKernel = try c.decodeIfPresent(Bool.self, forKey: .gaussianKernel)
            kernelSize = try c.decodeIfPresent(Int.self, forKey: .kernelSize)
            sigma = try c.decodeIfPresent(Double.self, forKey: .sigma)
            k1 = try c.decodeIfPresent(Double.self, forKey: .k1)
            k2 = try c.decodeIfPresent(Double.self, forKey: .k2)
        }
    }

    var name: String
    var loss: String
    var predictions: Tensor
    var targets: Tensor
    var options: Options
    var expected: GoldenCase.Expected
    /// Where the library itself loses digits (`expected.reference_only`): only the exact reference is trusted.
    var referenceOnly: Bool

    var description: String { name }

    enum CodingKeys: String, CodingKey { case name, loss, predictions, targets, expected }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        loss = try c.decode(String.self, forKey: .loss)
        predictions = try c.decode(FixtureTensor.self, forKey: .predictions).tensor
        targets = try c.decode(FixtureTensor.self, forKey: .targets).tensor
        options = try Options(from: decoder)
        expected = try c.decode(GoldenCase.Expected.self, forKey: .expected)
        struct Marker: Decodable {
            var referenceOnly: Bool?
            enum CodingKeys: String, CodingKey { case referenceOnly = "reference_only" }
        }
        referenceOnly = try c.decode(Marker.self, forKey: .expected).referenceOnly ?? false
    }

    /// The reduction the case asks for (`mean` when absent; TorchMetrics' `elementwise_mean` is `mean`).
    var reduction: Reduction {
        options.reduction == "elementwise_mean" ? .mean : Reduction(rawValue: options.reduction ?? "mean")!
    }

    /// Runs the case through the loss it names, with the loss's defaults for absent options.
    func run() throws(LossError) -> LossResult {
        let o = options
        switch loss {
        case "focal":
            return try SigmoidFocalLoss(alpha: o.alpha ?? 0.25, gamma: o.gamma ?? 2, reduction: reduction)(
                predictions: predictions, targets: targets)
        case "dice":
            let activation: DiceLoss.Activation = o.softmax == true ? .softmax : (o.sigmoid == true ? .sigmoid : .none)
            let loss = DiceLoss(
                activation: activation, includeBackground: o.includeBackground ?? true,
                squaredPrediction: o.squaredPred ?? false, jaccard: o.jaccard ?? false,
                smoothNumerator: o.smoothNr ?? 1e-5, smoothDenominator: o.smoothDr ?? 1e-5, batch: o.batch ?? false,
                weight: o.weight, reduction: reduction)
            return try loss(predictions: predictions, targets: targets)
        case "psnr":
            guard let dataRange = o.dataRange else { throw LossError("the fixture's psnr case has no data_range") }
            return try PeakSignalNoiseRatio(dataRange: dataRange, base: o.base ?? 10, dimensions: o.dim, reduction: reduction)(
                predictions: predictions, targets: targets)
        case "ssim":
            let score = StructuralSimilarity(
                gaussianKernel: o.gaussianKernel ?? true, sigma: o.sigma ?? 1.5, kernelSize: o.kernelSize ?? 11,
                k1: o.k1 ?? 0.01, k2: o.k2 ?? 0.03, dataRange: o.dataRange, reduction: reduction)
            return try score(predictions: predictions, targets: targets)
        default:
            throw LossError("the fixture names an unknown loss \(loss)")
        }
    }

    /// Every case of `image_losses.json`, or none when it does not load (a test counts them).
    static let all: [ImageLossCase] = {
        struct File: Decodable { var generator: String; var cases: [ImageLossCase] }
        guard let url = Bundle.module.url(forResource: "image_losses", withExtension: "json", subdirectory: "Fixtures"),
            let data = try? Data(contentsOf: url),
            let file = try? JSONDecoder().decode(File.self, from: data)
        else { return [] }
        return file.cases
    }()
}
