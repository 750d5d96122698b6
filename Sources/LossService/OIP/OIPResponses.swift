import HTTP
import Losses

/// The Open Inference Protocol's JSON answers: server and model metadata,
/// health, and an inference result (JSON, or Triton's binary tensor data
/// extension when an output asks for it).
enum OIPResponses {
    /// The protocol extensions lossd supports, as `GET /v2` lists them.
    static let extensions = ["binary_tensor_data", "parameters"]

    /// `GET /v2`.
    static func server() -> Response {
        var writer = JSONWriter()
        writer.raw("{\"name\":\"lossd\",\"version\":")
        writer.string(BuildInfo.version)
        writer.raw(",\"extensions\":[")
        for (index, name) in extensions.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(name)
        }
        writer.raw("]}")
        return json(.ok, writer.bytes)
    }

    /// `{"live":true}`, `{"ready":…}` (503 while draining) or a model's `{"name":…,"ready":…}`.
    static func health(_ key: StaticString, _ value: Bool, model: String? = nil) -> Response {
        var writer = JSONWriter()
        writer.raw("{")
        if let model {
            writer.raw("\"name\":")
            writer.string(model)
            writer.raw(",")
        }
        writer.raw("\"")
        writer.raw(key)
        writer.raw(value ? "\":true}" : "\":false}")
        return json(value ? .ok : .serviceUnavailable, writer.bytes)
    }

    /// `GET /v2/models/{name}`: its version, inputs (the datatype lossd
    /// prefers, all it accepts in `parameters.datatypes`, any rank as shape
    /// `[-1]`), outputs and parameters (the loss's options, with their defaults).
    static func model(_ declaration: LossDeclaration) -> Response {
        var writer = JSONWriter(capacity: 1024)
        writer.raw("{\"name\":")
        writer.string(declaration.name)
        writer.raw(",\"versions\":[")
        writer.string(OIPRoute.version)
        writer.raw("],\"platform\":\"lossd\",\"inputs\":[")
        var first = true
        for member in declaration.members {
            guard let role = member.type.inputRole else { continue }
            let required = member.type.isRequired
            if !first { writer.raw(",") }
            first = false
            writer.raw("{\"name\":")
            writer.string(member.name)
            writer.raw(",\"datatype\":\"FP64\",\"shape\":[-1],\"parameters\":{\"datatypes\":[")
            for (index, datatype) in OIPDatatype.allowed(for: role).enumerated() {
                if index > 0 { writer.raw(",") }
                writer.string(datatype.rawValue)
            }
            writer.raw(required ? "],\"optional\":false}}" : "],\"optional\":true}}")
        }
        writer.raw("],\"outputs\":[{\"name\":\"loss\",\"datatype\":\"FP64\",\"shape\":[-1]},")
        writer.raw("{\"name\":\"count\",\"datatype\":\"INT64\",\"shape\":[]},")
        writer.raw("{\"name\":\"weight_sum\",\"datatype\":\"FP64\",\"shape\":[]}],\"parameters\":{")
        first = true
        for member in declaration.members {
            let value: String
            switch member.type {
            case .tensor, .scalar, .integers: continue
            case .bool(let flag): value = String(flag)
            case .number(let number, _): value = formatNumber(number)
            case .integer(let number): value = String(number)
            case .choice(_, let choice): value = "\"\(choice)\""
            }
            if !first { writer.raw(",") }
            first = false
            writer.key(member.name)
            writer.write(value)
        }
        writer.raw("}}")
        return json(.ok, writer.bytes)
    }

    /// An inference result: the requested outputs in order, `loss` (FP64, `[]`
    /// or the per-element shape), `count` (INT64), `weight_sum` (FP64), the
    /// request's `id` echoed. An output asked for in binary carries
    /// `parameters.binary_data_size` instead of `data`, its little-endian
    /// bytes follow the JSON, and `Inference-Header-Content-Length` gives
    /// the JSON's length. A non-finite value in JSON `data` is `null`, and the
    /// output's `parameters.nonfinite` lists `"nan"`, `"inf"` or `"-inf"` for each.
    static func infer(_ result: LossResult, request: OIPInferRequest, model: LossDeclaration) -> Response {
        var writer = JSONWriter(capacity: 256 + result.loss.count * 24)
        var binary: [UInt8] = []
        writer.raw("{\"model_name\":")
        writer.string(model.name)
        writer.raw(",\"model_version\":")
        writer.string(OIPRoute.version)
        if let id = request.id {
            writer.raw(",\"id\":")
            writer.string(id)
        }
        writer.raw(",\"outputs\":[")
        for (index, output) in request.outputs.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"name\":")
            writer.string(output.name)
            let values: [Double]
            let shape: [Int]
            let isInteger = output.name == "count"
            switch output.name {
            case "loss": (values, shape) = (result.loss.data, result.loss.shape)
            case "count": (values, shape) = ([Double(result.count)], [])
            default: (values, shape) = ([result.weightSum], [])
            }
            writer.raw(isInteger ? ",\"datatype\":\"INT64\",\"shape\":" : ",\"datatype\":\"FP64\",\"shape\":")
            writer.integers(shape)
            if output.binary {
                writer.raw(",\"parameters\":{\"binary_data_size\":")
                writer.integer(values.count * 8)
                writer.raw("}}")
                binary.reserveCapacity(binary.count + values.count * 8)
                for value in values {
                    let bits = isInteger ? UInt64(bitPattern: Int64(value)).littleEndian : value.bitPattern.littleEndian
                    withUnsafeBytes(of: bits) { binary.append(contentsOf: $0) }
                }
            } else {
                writer.raw(",\"data\":[")
                for (position, value) in values.enumerated() {
                    if position > 0 { writer.raw(",") }
                    if isInteger { writer.integer(Int(value)) } else { writer.number(value) }
                }
                writer.raw("]")
                // JSON has no NaN or infinity: each `null` in data is named, in row-major
                // order, as the loss routes' `nonfinite` does (rare: a second pass only then).
                if !isInteger, values.contains(where: { !$0.isFinite }) {
                    writer.raw(",\"parameters\":{\"nonfinite\":[")
                    var first = true
                    for value in values where !value.isFinite {
                        if !first { writer.raw(",") }
                        first = false
                        writer.raw(value.isNaN ? "\"nan\"" : value > 0 ? "\"inf\"" : "\"-inf\"")
                    }
                    writer.raw("]}")
                }
                writer.raw("}")
            }
        }
        writer.raw("]}")
        guard !binary.isEmpty || request.outputs.contains(where: \.binary) else { return json(.ok, writer.bytes) }
        let headerLength = writer.bytes.count
        var body = writer.bytes
        body.append(contentsOf: binary)
        var response = Response(status: .ok, body: body)
        response.headers.add("Content-Type", "application/octet-stream")
        response.headers.add("Inference-Header-Content-Length", String(headerLength))
        return response
    }

    /// A JSON answer that is not cached.
    static func json(_ status: Status, _ body: [UInt8]) -> Response {
        var response = Response(status: status, body: body)
        response.headers.add("Content-Type", "application/json")
        response.headers.add("Cache-Control", "no-store")
        return response
    }
}
