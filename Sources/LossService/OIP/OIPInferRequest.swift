import HTTP
import Losses
import TensorJSON

/// The JSON part of an inference request (the whole body, or its first
/// `Inference-Header-Content-Length` bytes), checked against the model's
/// declaration before any binary tensor byte is read: input names and
/// datatypes, shapes, `binary_data_size` against shape × element size, the
/// tensor byte limit, the requested outputs and the parameters.
struct OIPInferRequest {
    /// One entry of `inputs`.
    struct Input {
        let name: String
        let datatype: OIPDatatype
        let shape: [Int]
        /// The number of elements, the product of `shape`.
        let count: Int
        /// The bytes this input takes in the binary part, when it is sent there.
        let binarySize: Int?
        /// The JSON `data`, when sent inline.
        let data: OIPJSON?
    }

    /// One entry of `outputs`.
    struct Output: Equatable {
        let name: String
        let binary: Bool
    }

    /// The outputs every model produces, in this order.
    static let outputNames = ["loss", "count", "weight_sum"]

    /// Request parameters the protocol or its clients send that are not loss
    /// options: read (`binary_data_output`) or ignored.
    static let protocolParameters: Set<String> = [
        "binary_data_output", "sequence_id", "sequence_start", "sequence_end", "priority", "timeout", "headers",
    ]

    let id: String?
    let inputs: [Input]
    /// The loss options, as members of the loss request.
    let options: [String: JSONMember]
    /// The outputs to return, in the order to return them.
    let outputs: [Output]

    /// Checks `json` against `declaration`.
    /// - Parameter maxTensorBytes: the most bytes the inputs may take as
    ///   doubles, all together (413 past it).
    init(_ json: OIPJSON, declaration: LossDeclaration, maxTensorBytes: Int) throws(OIPError) {
        guard case .object(let members) = json else { throw OIPError("an inference request is a JSON object, got \(json.kind)") }
        // KServe's client also sends model_name and model_version (the path names the model; they are ignored).
        for (name, _) in members where !["id", "inputs", "outputs", "parameters", "model_name", "model_version"].contains(name) {
            throw OIPError("unknown member '\(name)' in the inference request (allowed: id, inputs, outputs, parameters, model_name, model_version)")
        }
        for name in ["model_name", "model_version"] {
            switch json[name] {
            case nil, .null?, .string?: continue
            case let other?: throw OIPError("'\(name)' must be a string, got \(other.kind)")
            }
        }
        switch json["id"] {
        case nil, .null?: id = nil
        case .string(let text)?: id = text
        case let other?: throw OIPError("'id' must be a string, got \(other.kind)")
        }

        // Parameters: the loss's options, and the protocol's own.
        var options: [String: JSONMember] = [:]
        var binaryByDefault = false
        let parameters = try OIPInferRequest.object(json["parameters"], "parameters")
        for (name, value) in parameters {
            if name == "binary_data_output" {
                guard case .bool(let flag) = value else { throw OIPError("parameter 'binary_data_output' must be a boolean, got \(value.kind)") }
                binaryByDefault = flag
                continue
            }
            if OIPInferRequest.protocolParameters.contains(name) { continue }
            guard let member = declaration.members.first(where: { $0.name == name }),
                  !OIPInferRequest.isTensor(member) || (member.name != "predictions" && member.name != "targets") else {
                throw OIPError("unknown parameter '\(name)' for model '\(declaration.name)' (parameters: \(OIPInferRequest.optionNames(declaration)))")
            }
            // A tensor, scalar or integers member other than predictions and targets (psnr's data_range,
            // dim) may be a scalar parameter too: it is then a 0-d tensor, as a bare number is in JSON.
            if OIPInferRequest.isTensor(member), case .number = value {} else if OIPInferRequest.isTensor(member) {
                throw OIPError("parameter '\(name)' must be a number (or send it as an input), got \(value.kind)")
            }
            switch value {
            case .null: options[name] = .null
            case .bool(let flag): options[name] = .bool(flag)
            case .string(let text): options[name] = .string(text)
            case .number(let number): options[name] = .tensor(Tensor(number))
            default: throw OIPError("parameter '\(name)' must be a boolean, a number or a string, got \(value.kind)")
            }
        }
        self.options = options

        // Inputs, each once, each a tensor member of the loss.
        guard case .array(let entries)? = json["inputs"] else {
            if case .numbers(let empty)? = json["inputs"], empty.isEmpty {
                throw OIPError("'inputs' is empty: model '\(declaration.name)' needs \(OIPInferRequest.requiredInputs(declaration))")
            }
            throw OIPError("the inference request needs 'inputs', an array of tensors")
        }
        var inputs: [Input] = []
        var tensorBytes = 0
        for (index, entry) in entries.enumerated() {
            let input = try OIPInferRequest.input(entry, index: index, declaration: declaration)
            guard !inputs.contains(where: { $0.name == input.name }), options[input.name] == nil else {
                throw OIPError("input '\(input.name)' appears twice")
            }
            let (bytes, overflow) = input.count.multipliedReportingOverflow(by: 8)
            tensorBytes = overflow ? Int.max : tensorBytes.addingReportingOverflow(bytes).overflow ? Int.max : tensorBytes + bytes
            guard tensorBytes <= maxTensorBytes else {
                throw OIPError(.contentTooLarge, "the inputs take more than \(maxTensorBytes) bytes as doubles (8 per element; --max-tensor-bytes), past it at input '\(input.name)' of shape \(input.shape)")
            }
            inputs.append(input)
        }
        for member in declaration.members where member.type.isRequired && options[member.name] == nil
            && !inputs.contains(where: { $0.name == member.name }) {
            throw OIPError("model '\(declaration.name)' needs input '\(member.name)'")
        }
        self.inputs = inputs

        // Outputs: all by default, else those named, each once.
        switch json["outputs"] {
        case nil, .null?:
            outputs = OIPInferRequest.outputNames.map { Output(name: $0, binary: binaryByDefault) }
        case .numbers(let empty)? where empty.isEmpty:
            outputs = OIPInferRequest.outputNames.map { Output(name: $0, binary: binaryByDefault) }
        case .array(let entries)?:
            var outputs: [Output] = []
            for (index, entry) in entries.enumerated() {
                guard case .object = entry, case .string(let name)? = entry["name"] else {
                    throw OIPError("outputs[\(index)] must be an object with a 'name'")
                }
                guard OIPInferRequest.outputNames.contains(name) else {
                    throw OIPError("unknown output '\(name)' (outputs: \(OIPInferRequest.outputNames.joined(separator: ", ")))")
                }
                guard !outputs.contains(where: { $0.name == name }) else { throw OIPError("output '\(name)' is requested twice") }
                var binary = binaryByDefault
                for (key, value) in try OIPInferRequest.object(entry["parameters"], "outputs[\(index)].parameters") where key == "binary_data" {
                    guard case .bool(let flag) = value else { throw OIPError("outputs[\(index)].parameters.binary_data must be a boolean") }
                    binary = flag
                }
                outputs.append(Output(name: name, binary: binary))
            }
            self.outputs = outputs
        case let other?:
            throw OIPError("'outputs' must be an array, got \(other.kind)")
        }
    }

    /// Whether the member may be an input (a tensor, and a scalar or integers member, which may be a parameter too).
    private static func isTensor(_ member: MemberDeclaration) -> Bool {
        member.type.inputRole != nil
    }

    private static func optionNames(_ declaration: LossDeclaration) -> String {
        declaration.members.filter { !isTensor($0) || ($0.name != "predictions" && $0.name != "targets") }
            .map(\.name).joined(separator: ", ")
    }

    private static func inputNames(_ declaration: LossDeclaration) -> String {
        declaration.members.filter(isTensor).map(\.name).joined(separator: ", ")
    }

    private static func requiredInputs(_ declaration: LossDeclaration) -> String {
        declaration.members.filter(\.type.isRequired).map { "'\($0.name)'" }.joined(separator: " and ")
    }

    /// An object member (`parameters`), empty when absent.
    private static func object(_ value: OIPJSON?, _ name: String) throws(OIPError) -> [(String, OIPJSON)] {
        switch value {
        case nil, .null?: return []
        case .object(let members)?: return members
        case let other?: throw OIPError("'\(name)' must be an object, got \(other.kind)")
        }
    }

    private static func input(_ entry: OIPJSON, index: Int, declaration: LossDeclaration) throws(OIPError) -> Input {
        guard case .object = entry else { throw OIPError("inputs[\(index)] must be an object, got \(entry.kind)") }
        guard case .string(let name)? = entry["name"] else { throw OIPError("inputs[\(index)] needs a 'name' string") }
        guard let member = declaration.members.first(where: { $0.name == name }),
              let role = member.type.inputRole else {
            throw OIPError("unknown input '\(name)' for model '\(declaration.name)' (inputs: \(inputNames(declaration)))")
        }
        guard case .string(let typeName)? = entry["datatype"] else { throw OIPError("input '\(name)' needs a 'datatype' string") }
        let allowed = OIPDatatype.allowed(for: role)
        guard let datatype = OIPDatatype(rawValue: typeName), allowed.contains(datatype) else {
            throw OIPError("input '\(name)' has datatype '\(typeName)'; it takes \(allowed.map(\.rawValue).joined(separator: ", "))")
        }
        guard case .numbers(let dimensions)? = entry["shape"] else { throw OIPError("input '\(name)' needs a 'shape', an array of integers") }
        var shape: [Int] = []
        var count = 1
        for (axis, size) in dimensions.enumerated() {
            guard size >= 0, size == size.rounded(), size < 0x1p62, let dimension = Int(exactly: size) else {
                throw OIPError("input '\(name)' has shape dimension \(axis) = \(formatNumber(size)); a dimension is a whole number ≥ 0")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product < 1 << 56 else { throw OIPError(.contentTooLarge, "input '\(name)' of shape \(shape + [dimension]) has too many elements") }
            count = product
            shape.append(dimension)
        }
        var binarySize: Int? = nil
        for (key, value) in try object(entry["parameters"], "inputs[\(index)].parameters") {
            switch key {
            case "binary_data_size":
                guard case .number(let size) = value, size >= 0, size == size.rounded(), size < 0x1p62 else {
                    throw OIPError("input '\(name)' has binary_data_size \(value.kind == "a number" ? "that is not a whole number ≥ 0" : "of \(value.kind)")")
                }
                binarySize = Int(size)
            case "shared_memory_region", "shared_memory_byte_size", "shared_memory_offset":
                throw OIPError("input '\(name)': the shared memory extension is not supported; send the tensor in the body")
            default:
                continue
            }
        }
        let data = entry["data"]
        if let binarySize {
            guard data == nil else { throw OIPError("input '\(name)' has both 'data' and binary_data_size") }
            guard binarySize == count * datatype.size else {
                throw OIPError("input '\(name)' has binary_data_size \(binarySize), but shape \(shape) of \(datatype.rawValue) takes \(count) × \(datatype.size) = \(count * datatype.size) bytes")
            }
        } else if data == nil {
            throw OIPError("input '\(name)' has neither 'data' nor parameters.binary_data_size")
        }
        for (key, _) in entry where !["name", "datatype", "shape", "parameters", "data"].contains(key) {
            throw OIPError("unknown member '\(key)' in input '\(name)' (allowed: name, datatype, shape, parameters, data)")
        }
        return Input(name: name, datatype: datatype, shape: shape, count: count, binarySize: binarySize, data: data)
    }
}

extension OIPJSON: Sequence {
    /// An object's members (nothing for other values).
    func makeIterator() -> IndexingIterator<[(String, OIPJSON)]> {
        guard case .object(let members) = self else { return [].makeIterator() }
        return members.makeIterator()
    }
}
