import HTTP
import Testing
@testable import LossService

/// `POST /v2/models/{name}/infer` through the responder, in JSON and in
/// Triton's binary tensor data form, against the JSON loss routes (whose
/// values the golden tests check against PyTorch).
@Suite struct OIPInferTests {
    let harness = ResponderHarness()

    /// One input: its name, datatype, shape and values.
    struct Input {
        var name: String
        var datatype: String
        var shape: [Int]
        var values: [Double]
    }

    private static func bytes(_ input: Input) -> [UInt8] {
        var out: [UInt8] = []
        for value in input.values {
            switch input.datatype {
            case "FP64": withUnsafeBytes(of: value.bitPattern.littleEndian) { out += $0 }
            case "FP32": withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { out += $0 }
            case "INT64": withUnsafeBytes(of: Int64(value).littleEndian) { out += $0 }
            case "INT32": withUnsafeBytes(of: Int32(value).littleEndian) { out += $0 }
            case "UINT8", "BOOL": out.append(UInt8(value))
            default: Issue.record("no encoder for \(input.datatype)")
            }
        }
        return out
    }

    private static func shape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }

    /// The request: JSON data, or binary with the JSON length in the header.
    func infer(_ model: String, _ inputs: [Input], parameters: String = "{}", outputs: String? = nil,
               binary: Bool, chunk: Int = 5, headerLength: String? = nil, extra: [UInt8] = [], cut: Int = 0) -> Response {
        var entries: [String] = []
        var tail: [UInt8] = []
        for input in inputs {
            var entry = #"{"name":"\#(input.name)","datatype":"\#(input.datatype)","shape":\#(Self.shape(input.shape))"#
            if binary {
                let data = Self.bytes(input)
                entry += #","parameters":{"binary_data_size":\#(data.count)}}"#
                tail += data
            } else {
                let data = input.values.map { value in
                    input.datatype == "BOOL" ? String(value != 0) : input.datatype.hasPrefix("FP") ? "\(value)" : "\(Int(value))"
                }
                entry += #","data":[\#(data.joined(separator: ","))]}"#
            }
            entries.append(entry)
        }
        var json = #"{"id":"r-1","inputs":[\#(entries.joined(separator: ","))],"parameters":\#(parameters)"#
        if let outputs { json += #","outputs":\#(outputs)"# }
        json += "}"
        var body = Array(json.utf8) + tail + extra
        body.removeLast(min(cut, body.count))
        var headers: Headers = [:]
        if binary { headers.add("Inference-Header-Content-Length", headerLength ?? String(json.utf8.count)) }
        let head = RequestHead(method: .post, target: "/v2/models/\(model)/infer", version: .http1_1, headers: headers)
        switch harness.responder.respond(to: head) {
        case .response(let response): return response
        case .body(let handler): return ResponderHarness.feed(body, to: handler, chunk: chunk)
        }
    }

    /// The JSON header of a response and its binary part.
    static func split(_ response: Response) throws -> (TestJSON, [UInt8]) {
        guard let field = response.headers["Inference-Header-Content-Length"], let length = Int(field) else {
            return (try TestJSON.parse(response.body), [])
        }
        return (try TestJSON.parse(Array(response.body[..<length])), Array(response.body[length...]))
    }

    /// The named output's values, from its JSON data or its binary bytes.
    static func output(_ response: Response, _ name: String) throws -> [Double] {
        let (json, binary) = try split(response)
        var offset = 0
        for output in json["outputs"]?.array ?? [] {
            let size = output["parameters"]?["binary_data_size"]?.int
            if output["name"]?.string == name {
                if let size {
                    let slice = Array(binary[offset..<offset + size])
                    return stride(from: 0, to: size, by: 8).map { i in
                        let bits = slice[i..<i + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
                        return output["datatype"]?.string == "INT64" ? Double(Int64(bitPattern: bits)) : Double(bitPattern: bits)
                    }
                }
                return (output["data"]?.array ?? []).map { $0.double ?? .nan }
            }
            offset += size ?? 0
        }
        throw TestJSON.ParseError(offset: -1)
    }

    /// The JSON loss route's answer for the same tensors: loss values (flat), count, weight_sum.
    func lossRoute(_ model: String, _ inputs: [Input], options: String) throws -> ([Double], Double, Double) {
        var members = inputs.map { #""\#($0.name)":{"shape":\#(Self.shape($0.shape)),"data":[\#($0.values.map { "\($0)" }.joined(separator: ","))]}"# }
        if options != "{}" { members.append(String(options.dropFirst().dropLast())) }
        let response = harness.post("/loss/\(model)", "{" + members.joined(separator: ",") + "}")
        #expect(response.status == .ok, "\(response.text)")
        let json = try TestJSON.parse(response.body)
        let loss = json["loss"].map { $0.flattened.map { $0.double ?? .nan } } ?? []
        return (loss.isEmpty ? [json["loss"]?.double ?? .nan] : loss, json["count"]?.double ?? -1, json["weight_sum"]?.double ?? -1)
    }

    static let cases: [(String, [Input], String)] = [
        ("ce", [Input(name: "predictions", datatype: "FP64", shape: [2, 3], values: [2, -1, 0.5, 0.1, 0.2, 3]),
                Input(name: "targets", datatype: "INT64", shape: [2], values: [0, 2])], "{}"),
        ("ce", [Input(name: "predictions", datatype: "FP32", shape: [1, 2, 2, 2], values: [0.5, -0.5, 1, 0, -1, 2, 0, 0.5]),
                Input(name: "targets", datatype: "INT32", shape: [1, 2, 2], values: [0, 1, 1, 0]),
                Input(name: "weight", datatype: "FP64", shape: [2], values: [1, 0.5])], #"{"label_smoothing":0.1,"reduction":"none"}"#),
        ("bce", [Input(name: "predictions", datatype: "FP32", shape: [2, 2], values: [1.5, -0.3, 0.2, -2]),
                 Input(name: "targets", datatype: "BOOL", shape: [2, 2], values: [1, 0, 1, 0]),
                 Input(name: "pos_weight", datatype: "FP64", shape: [2], values: [2, 1])], #"{"from_logits":true,"reduction":"sum"}"#),
        ("mse", [Input(name: "predictions", datatype: "FP64", shape: [2, 2], values: [1, 2, 3, 4]),
                 Input(name: "targets", datatype: "UINT8", shape: [2, 2], values: [1, 2, 2, 4]),
                 Input(name: "weight", datatype: "FP32", shape: [2, 2], values: [1, 1, 2, 0])], #"{"reduction":"mean"}"#),
        // A difference loss's targets before its predictions (in binary, folded into the targets' storage).
        ("mse", [Input(name: "targets", datatype: "FP32", shape: [3, 1], values: [0.1, -2.5, 1e16]),
                 Input(name: "predictions", datatype: "FP64", shape: [3, 1], values: [0.3, 7e-300, 1])], #"{"reduction":"none"}"#),
    ]

    @Test("JSON and binary inference equal the JSON loss route, output by output, whatever the body's cuts",
          arguments: [false, true], [1, 3, 4096])
    func equalsLossRoute(binary: Bool, chunk: Int) throws {
        for (model, inputs, options) in Self.cases {
            // The loss route sees the values the client's datatype holds (FP32 rounds them).
            let held = inputs.map { input in
                Input(name: input.name, datatype: input.datatype, shape: input.shape,
                      values: input.datatype == "FP32" ? input.values.map { Double(Float($0)) } : input.values)
            }
            let expected = try lossRoute(model, held, options: options)
            let response = infer(model, held, parameters: options, binary: binary, chunk: chunk)
            #expect(response.status == .ok, "\(model): \(response.text)")
            #expect(try Self.output(response, "loss") == expected.0, "\(model) \(options)")
            #expect(try Self.output(response, "count") == [expected.1])
            #expect(try Self.output(response, "weight_sum") == [expected.2])
            #expect(try Self.split(response).0["id"]?.string == "r-1")
        }
    }

    @Test("PyTorch's value for cross entropy over the protocol (F.cross_entropy, as in the README)")
    func pytorchValue() throws {
        let response = infer("ce", Self.cases[0].1, binary: true)
        #expect(try Self.output(response, "loss") == [0.17545638058931118])
    }

    @Test("outputs selects and orders the outputs, each in binary or JSON as asked")
    func outputSelection() throws {
        let response = infer("ce", Self.cases[0].1, outputs: #"[{"name":"count"},{"name":"loss","parameters":{"binary_data":true}}]"#, binary: false)
        let (json, binary) = try Self.split(response)
        #expect(json["outputs"]?.array?.map { $0["name"]?.string ?? "" } == ["count", "loss"])
        #expect(binary.count == 8)
        #expect(response.headers["Content-Type"] == "application/octet-stream")
        #expect(try Self.output(response, "loss") == [0.17545638058931118])
        let all = infer("ce", Self.cases[0].1, parameters: #"{"binary_data_output":true}"#, binary: true)
        #expect(try Self.split(all).1.count == 24)
        #expect(try Self.output(all, "count") == [2])
    }

    @Test("errors are {\"error\": …} with the protocol's status, and say what and where", arguments: [
        (#"{"reduce":"sum"}"#, "unknown parameter 'reduce' for model 'mse' (parameters: reduction, weight)"),
        (#"{"reduction":"avg"}"#, #"'reduction' must be "mean", "sum" or "none", got a string ("avg")"#),
    ])
    func parameterErrors(parameters: String, message: String) throws {
        let response = infer("mse", Self.cases[3].1, parameters: parameters, binary: false)
        #expect(response.status == .badRequest)
        #expect(try TestJSON.parse(response.body)["error"]?.string == message)
    }

    @Test("binary framing errors: sizes, header length, truncation, trailing bytes")
    func framingErrors() throws {
        let inputs = Self.cases[0].1
        func error(_ response: Response) throws -> String {
            #expect(response.status == .badRequest)
            return try TestJSON.parse(response.body)["error"]?.string ?? ""
        }
        let truncated = infer("ce", inputs, binary: true, cut: 5)
        #expect(try error(truncated).hasPrefix("the body ended at byte"))
        #expect(try error(truncated).contains("of input 'targets''s 16 binary bytes"))
        let long = infer("ce", inputs, binary: true, extra: [1, 2, 3])
        #expect(try error(long).hasPrefix("the body goes on past the binary inputs at byte"))
        let header = infer("ce", inputs, binary: true, headerLength: "99999")
        #expect(try error(header).contains("inside the 99999-byte JSON request"))
        let bad = infer("ce", inputs, binary: true, headerLength: "-1")
        #expect(try error(bad) == "Inference-Header-Content-Length must be a whole number of bytes, got '-1'")
        let shortHeader = infer("ce", inputs, binary: true, headerLength: "10")
        #expect(try error(shortHeader).hasPrefix("malformed JSON at byte"))
    }

    @Test("a difference loss's binary tensors of other shapes, or of one empty shape, are refused as in JSON",
          arguments: [([2, 2], [4]), ([2, 2], [2, 3]), ([3], [2]), ([0, 2], [0, 2])])
    func differenceShapeMismatch(predictionsShape: [Int], targetsShape: [Int]) throws {
        let inputs = [
            Input(name: "targets", datatype: "FP32", shape: targetsShape, values: Array(repeating: 0.5, count: targetsShape.reduce(1, *))),
            Input(name: "predictions", datatype: "FP64", shape: predictionsShape, values: Array(repeating: 1.5, count: predictionsShape.reduce(1, *))),
        ]
        let json = infer("mse", inputs, binary: false)
        for chunk in [3, 4096] {
            let binary = infer("mse", inputs, binary: true, chunk: chunk)
            #expect(binary.status == json.status && binary.status != .ok)
            #expect(binary.text == json.text)
        }
    }

    @Test("a binary_data_size that is not shape × element size is refused before any binary byte")
    func sizeMismatch() throws {
        let json = #"{"inputs":[{"name":"predictions","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":12}},{"name":"targets","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}]}"#
        let head = RequestHead(method: .post, target: "/v2/models/mse/infer", version: .http1_1,
                               headers: ["Inference-Header-Content-Length": String(json.utf8.count)])
        guard case .body(let handler) = harness.responder.respond(to: head) else { Issue.record("no body handler"); return }
        let early = Array(json.utf8).withUnsafeBytes { handler.consume($0) }
        #expect(early?.status == .badRequest)
        #expect(try TestJSON.parse(early?.body ?? [])["error"]?.string
                == "input 'predictions' has binary_data_size 12, but shape [2] of FP32 takes 2 × 4 = 8 bytes")
    }

    @Test("datatype, input and data errors", arguments: [
        (Input(name: "predictions", datatype: "INT64", shape: [2], values: [1, 2]), "input 'predictions' has datatype 'INT64'; it takes FP64, FP32, FP16, BF16"),
        (Input(name: "logits", datatype: "FP64", shape: [2], values: [1, 2]), "unknown input 'logits' for model 'mse' (inputs: predictions, targets, weight)"),
        (Input(name: "predictions", datatype: "FP64", shape: [3], values: [1, 2]), "input 'predictions' has shape [3] (3 elements) but 2 data values"),
    ])
    func inputErrors(input: Input, message: String) throws {
        let response = infer("mse", [input, Input(name: "targets", datatype: "FP64", shape: [2], values: [1, 2])], binary: false)
        #expect(response.status == .badRequest)
        #expect(try TestJSON.parse(response.body)["error"]?.string == message)
    }

    @Test("a fractional INT64 target and a loss's own refusal are 400s")
    func valueErrors() throws {
        let body = #"{"inputs":[{"name":"predictions","datatype":"FP64","shape":[1,2],"data":[1,2]},{"name":"targets","datatype":"INT64","shape":[1],"data":[1.5]}]}"#
        let response = ResponderHarness.feed(Array(body.utf8), to: handler("ce"), chunk: 9)
        #expect(try TestJSON.parse(response.body)["error"]?.string == "input 'targets' data[0] = 1.5 is not an INT64")
        let range = infer("ce", [Input(name: "predictions", datatype: "FP64", shape: [1, 2], values: [1, 2]),
                                 Input(name: "targets", datatype: "INT64", shape: [1], values: [7])], binary: true)
        #expect(range.status == .badRequest)
        #expect(try TestJSON.parse(range.body)["error"]?.string == "targets[0] = 7 is out of range for 2 classes")
    }

    private func handler(_ model: String) -> any BodyHandler {
        let head = RequestHead(method: .post, target: "/v2/models/\(model)/infer", version: .http1_1, headers: [:])
        guard case .body(let handler) = harness.responder.respond(to: head) else { fatalError("no body handler") }
        return handler
    }

    @Test("a non-finite output in JSON is null, named in the output's parameters.nonfinite")
    func nonfinite() throws {
        let body = #"{"model_name":"mse","inputs":[{"name":"predictions","datatype":"FP64","shape":[2],"data":[1e200,1]},{"name":"targets","datatype":"FP64","shape":[2],"data":[0,0]}],"parameters":{"reduction":"none"},"outputs":[{"name":"loss"}]}"#
        let response = ResponderHarness.feed(Array(body.utf8), to: handler("mse"), chunk: 64)
        #expect(response.text == #"{"model_name":"mse","model_version":"1","outputs":[{"name":"loss","datatype":"FP64","shape":[2],"data":[null,1.0],"parameters":{"nonfinite":["inf"]}}]}"#)
    }

    @Test("a scalar tensor member other than predictions and targets may be a parameter (a 0-d tensor)")
    func scalarTensorParameter() throws {
        let inputs = [Input(name: "predictions", datatype: "FP64", shape: [2], values: [0.2, 0.4]),
                      Input(name: "targets", datatype: "FP64", shape: [2], values: [0.3, 0.4])]
        guard LossRegistry.named("psnr") != nil else { return }
        let viaParameter = infer("psnr", inputs, parameters: #"{"data_range":1.0}"#, binary: true)
        let viaInput = infer("psnr", inputs + [Input(name: "data_range", datatype: "FP64", shape: [], values: [1])], binary: false)
        #expect(viaParameter.status == .ok, "\(viaParameter.text)")
        #expect(try Self.output(viaParameter, "loss") == Self.output(viaInput, "loss"))
        let missing = infer("psnr", inputs, binary: false)
        #expect(try TestJSON.parse(missing.body)["error"]?.string == "model 'psnr' needs input 'data_range'")
    }

    @Test("a [min, max] data_range is an input of shape [2]; dim an INT64 input or an integer parameter; both as the JSON route")
    func scalarAndIntegersMembers() throws {
        let p = [-0.2, 0.5, 1.3, 0.2, 0.1, 0.9], t = [0.1, 0.4, 0.9, 0.2, 0.3, 0.8]
        let inputs = [Input(name: "predictions", datatype: "FP64", shape: [2, 3], values: p),
                      Input(name: "targets", datatype: "FP64", shape: [2, 3], values: t),
                      Input(name: "data_range", datatype: "FP32", shape: [2], values: [0, 1])]
        let json = harness.post("/score/psnr", #"{"predictions": [[-0.2, 0.5, 1.3], [0.2, 0.1, 0.9]], "targets": [[0.1, 0.4, 0.9], [0.2, 0.3, 0.8]], "data_range": [0, 1], "dim": 1, "reduction": "none"}"#)
        let want = try #require(TestJSON.parse(json.body)["loss"]?.array).compactMap(\.double)
        #expect(want.count == 2, "\(json.text)")
        let asParameter = infer("psnr", inputs, parameters: #"{"dim":1,"reduction":"none"}"#, binary: true)
        #expect(try Self.output(asParameter, "loss") == want, "\(asParameter.text)")
        let asInput = infer("psnr", inputs + [Input(name: "dim", datatype: "INT64", shape: [1], values: [1])],
                            parameters: #"{"reduction":"none"}"#, binary: false)
        #expect(try Self.output(asInput, "loss") == want, "\(asInput.text)")
        let fractional = infer("psnr", inputs, parameters: #"{"dim":1.5}"#, binary: false)
        #expect(try TestJSON.parse(fractional.body)["error"]?.string == "'dim' = 1.5 is not an integer within ±2^31")
        let model = try TestJSON.parse(harness.call(.get, "/v2/models/psnr").body)
        #expect(model["inputs"]?.array?.map { $0["name"]?.string ?? "" } == ["predictions", "targets", "data_range", "dim"])
        #expect(model["parameters"]?["base"]?.double == 10)
    }

    @Test("an unknown model is a 404 in the protocol's form")
    func unknownModel() throws {
        let response = harness.call(.post, "/v2/models/resnet50/infer", body: "{}")
        #expect(response.status == .notFound)
        #expect(try TestJSON.parse(response.body)["error"]?.string?.hasPrefix("unknown model 'resnet50'") == true)
    }

    @Test("server and model metadata, and readiness that follows draining")
    func metadata() throws {
        let server = try TestJSON.parse(harness.call(.get, "/v2").body)
        #expect(server["name"]?.string == "lossd")
        #expect(server["extensions"]?.array?.contains(.string("binary_tensor_data")) == true)
        let model = try TestJSON.parse(harness.call(.get, "/v2/models/bce/versions/1").body)
        #expect(model["inputs"]?.array?.map { $0["name"]?.string ?? "" } == ["predictions", "targets", "weight", "pos_weight"])
        #expect(model["outputs"]?.array?.map { $0["name"]?.string ?? "" } == ["loss", "count", "weight_sum"])
        #expect(harness.call(.get, "/v2/health/live").status == .ok)
        #expect(harness.call(.get, "/v2/health/ready").status == .ok)
        #expect(harness.call(.get, "/v2/models/ce/ready").status == .ok)
        harness.responder.readiness.beginDraining()
        #expect(harness.call(.get, "/v2/health/ready").status == .serviceUnavailable)
        #expect(harness.call(.get, "/v2/models/ce/ready").text == #"{"name":"ce","ready":false}"#)
        #expect(harness.call(.get, "/v2/health/live").status == .ok)
    }

    @Test("metrics label a model route by template and model")
    func metrics() {
        _ = infer("mse", Self.cases[3].1, binary: true)
        _ = harness.call(.get, "/v2/models/mse/versions/1/ready")
        let text = harness.responder.metrics.render()
        #expect(text.contains(#"lossd_oip_model_requests_total{route="/v2/models/{name}/ready",model="mse",status="200"} 1"#))
        #expect(text.contains(#"route="/v2/models/{name}/ready""#))
        #expect(!text.contains("versions/1"))
    }
}
