import Testing
import TestSupport
@testable import LossService

/// Focal, Dice, PSNR and SSIM over HTTP: what a client gets for requests the
/// losses refuse (a 422 problem document whose detail names the member or the
/// tensor element), and the routes' metrics labels. Their numbers are checked
/// end to end by GoldenEndToEndTests over image_losses.json.
@Suite struct ImageLossEndToEndTests {
    struct Refusal: Sendable, CustomStringConvertible {
        var path: String
        var body: String
        var detail: String
        var description: String { "\(path) \(body)" }
    }

    static let map = "[[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 2.0], [0.0, 1.0]], [[0.3, 0.3], [1.5, -2.0]]]]"
    static let image = #"{"shape": [1, 1, 6, 6], "data": [\#((0..<36).map { "0.\($0 % 10)" }.joined(separator: ", "))]}"#

    static let refusals: [Refusal] = [
        Refusal(path: "/loss/focal", body: #"{"predictions": [1.0, 2.0], "targets": [1, 3]}"#,
                detail: "targets[1] = 3 is outside [0, 1]"),
        Refusal(path: "/loss/focal", body: #"{"predictions": [1.0, 2.0], "targets": [1, 0], "alpha": 1.5}"#,
                detail: "alpha = 1.5 is greater than 1 (use a value in [0, 1], or a negative one for no weighting)"),
        Refusal(path: "/loss/focal", body: #"{"predictions": [1.0, 2.0], "targets": [[1, 0]]}"#,
                detail: "targets have shape [1, 2] but predictions have shape [2]; they must be the same"),
        Refusal(path: "/loss/dice", body: #"{"predictions": \#(map), "targets": [[[0, 1], [3, 1]]]}"#,
                detail: "targets[0][1][0] = 3 is out of range for 3 classes"),
        Refusal(path: "/loss/dice", body: #"{"predictions": \#(map), "targets": [[[0, 1], [2, 1]]], "sigmoid": true, "softmax": true}"#,
                detail: "sigmoid and softmax cannot both be true"),
        Refusal(path: "/loss/dice", body: #"{"predictions": \#(map), "targets": [[[0, 1], [2, 1]]], "weight": [1.0, -2.0, 1.0]}"#,
                detail: "weight[1] = -2 is negative: class weights must be ≥ 0"),
        Refusal(path: "/loss/dice", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]]}"#,
                detail: "predictions have shape [1, 2] but Dice needs (N, C, d1, ..., dk) with at least one spatial dimension"),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": 1.0, "dim": [1, 2]}"#,
                detail: "dim[1] = 2 is not a dimension of predictions of shape [1, 2] (rank 2)"),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": 1.0, "dim": [0.5]}"#,
                detail: "dim[0] = 0.5 is not an integer within ±2^31"),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": 1.0, "dim": [[1]]}"#,
                detail: "'dim' must be an integer or an array of integers, got an array of shape [1, 1]"),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": 1.0, "dim": "1"}"#,
                detail: #"'dim' must be an integer or an array of integers, got a string ("1")"#),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": 1.0, "dim": 3e9}"#,
                detail: "'dim' = 3000000000 is not an integer within ±2^31"),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": [0.0, 1.0, 2.0]}"#,
                detail: "'data_range' must be a number or an array [min, max] of two numbers, got an array of shape [3]"),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": [1.0, 0.0]}"#,
                detail: "data_range[1] = 0 must be greater than data_range[0] = 1"),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": 1.0, "base": 1}"#,
                detail: "base = 1 must be a finite number > 0 other than 1"),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": 1.0, "reduction": "avg"}"#,
                detail: #"'reduction' must be "mean", "elementwise_mean", "sum" or "none", got a string ("avg")"#),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]], "data_range": 0}"#,
                detail: "data_range = 0 must be a finite number > 0"),
        Refusal(path: "/score/psnr", body: #"{"predictions": [[0.5, 0.5]], "targets": [[1, 0]]}"#,
                detail: "missing required member 'data_range'"),
        Refusal(path: "/score/ssim", body: #"{"predictions": [[[0.5, 0.5]]], "targets": [[[1, 0]]]}"#,
                detail: "predictions have shape [1, 1, 2] but SSIM needs images of shape (N, C, H, W) or volumes of shape (N, C, D, H, W)"),
        Refusal(path: "/score/ssim", body: #"{"predictions": \#(image), "targets": \#(image), "gaussian_kernel": false, "kernel_size": 4}"#,
                detail: "kernel_size = 4 must be an odd number ≥ 1"),
        Refusal(path: "/score/ssim", body: #"{"predictions": \#(image), "targets": \#(image), "kernel_size": 2.5}"#,
                detail: "'kernel_size' must be an integer, got 2.5"),
        Refusal(path: "/score/ssim", body: #"{"predictions": \#(image), "targets": \#(image), "gaussian_kernel": 1}"#,
                detail: "'gaussian_kernel' must be true or false, got a number (1)"),
        Refusal(path: "/score/ssim", body: #"{"predictions": \#(image), "targets": \#(image), "data_range": [0.5, 0.5]}"#,
                detail: "data_range[1] = 0.5 must be greater than data_range[0] = 0.5"),
        Refusal(path: "/score/ssim", body: #"{"predictions": \#(image), "targets": \#(image), "data_range": {"shape": [2, 1], "data": [0, 1]}}"#,
                detail: "'data_range' must be a number or an array [min, max] of two numbers, got an array of shape [2, 1]"),
        Refusal(path: "/score/ssim", body: #"{"predictions": [[[[0.5, 0.5], [0.1, 0.2]]]], "targets": [[[[1, 0], [0, 1]]]]}"#,
                detail: "predictions have images of 2×2 but SSIM's 11×11 Gaussian window (sigma 1.5) reflects 5 pixels at each border: H and W must be at least 6"),
        Refusal(path: "/score/ssim", body: #"{"predictions": \#(image), "targets": \#(image), "sigma": 0}"#,
                detail: "sigma = 0 must be a finite number > 0"),
    ]

    @Test("a request the image loss refuses is a 422 problem naming the member or element", arguments: refusals)
    func refused(_ refusal: Refusal) throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let response = try service.client().post(refusal.path, refusal.body)
        #expect(response.status == 422, "\(response.text)")
        #expect(response.header("Content-Type") == "application/problem+json")
        let detail = try TestJSON.parse(response.body)["detail"]?.string
        #expect(detail == refusal.detail)
    }

    @Test("the scores answer at /score/{name}, counted under their own route and loss labels")
    func scoresAreRoutedAndCounted() throws {
        let service = try LoopbackService()
        defer { service.stop() }
        let client = try service.client()
        let psnr = try client.post("/score/psnr", #"{"predictions": [0.1, 0.5], "targets": [0.2, 0.4], "data_range": 1.0}"#)
        #expect(psnr.status == 200)
        #expect(psnr.text == #"{"loss":20.0,"reduction":"mean","shape":[],"count":2,"weight_sum":1.0}"#)
        let ssim = try client.post("/score/ssim", #"{"predictions": \#(Self.image), "targets": \#(Self.image)}"#)
        #expect(ssim.text == #"{"loss":1.0,"reduction":"mean","shape":[],"count":36,"weight_sum":1.0}"#)
        #expect(try client.post("/loss/psnr", "{}").status == 404)
        let metrics = try client.get("/metrics").text
        #expect(metrics.contains(#"lossd_http_requests_total{method="POST",route="/score/psnr",status="200"} 1"#))
        #expect(metrics.contains(#"lossd_loss_elements_total{loss="ssim"} 36"#))
    }
}
