import HTTP
import Losses
import TensorJSON

/// A loss request's top-level members, checked against its declaration's
/// `MemberDeclaration`s: no unknown members (so a typo such as `reduce` never
/// silently changes a result), every required one present, each of its
/// declared JSON type, and `null` meaning absent. Once built, the typed
/// accessors cannot fail: they read the member or its declared default.
///
/// Hot path (every loss request): the decoder's few members are matched to
/// their declarations by name (length first) and kept by the declaration's
/// index, so nothing is hashed: looking each declared member up in the
/// dictionary cost about 350 instructions a name, and a loss declares up to
/// a dozen.
struct MemberValues {
    /// `values[i]` is the member `declarations[i]` names, nil when absent or `null`.
    private let values: [JSONMember?]
    private let declarations: [MemberDeclaration]
    /// The declaration's `differenceFold`: which two members `foldedDifferences` reads.
    private let fold: DifferenceFold?

    /// Checks `members` against `declaration`'s members, in their declared
    /// order (so the first error is always the same one): unknown members
    /// first, then each member's presence and type.
    init(_ members: [String: JSONMember], declaration: LossDeclaration) throws(InvalidRequest) {
        declarations = declaration.members
        fold = declaration.differenceFold
        var values = [JSONMember?](repeating: nil, count: declarations.count)
        var allDeclared = true
        for (name, member) in members {
            guard let index = MemberValues.index(of: name, in: declarations) else {
                allDeclared = false
                break
            }
            if case .null = member { continue }  // null is absent (contract rule 10)
            values[index] = member
        }
        guard allDeclared else {
            let unknown = members.keys.filter { !declaration.declares($0) }.sorted()
            let names = unknown.map { "'\($0)'" }.joined(separator: ", ")
            let allowed = declarations.map(\.name).joined(separator: ", ")
            throw InvalidRequest("unknown member\(unknown.count == 1 ? "" : "s") \(names) (allowed: \(allowed))")
        }
        self.values = values
        for index in declarations.indices { try MemberValues.check(declarations[index], values[index]) }
    }

    /// The index of the declared member `name`, nil for a name the loss does not declare.
    private func index(_ name: String) -> Int? {
        MemberValues.index(of: name, in: declarations)
    }

    /// The index of `name` among `declarations`. Lengths first: String's == takes a slow path for any two
    /// different strings, and most names differ in length.
    private static func index(of name: String, in declarations: [MemberDeclaration]) -> Int? {
        let length = name.utf8.count
        return declarations.firstIndex { $0.name.utf8.count == length && $0.name == name }
    }

    /// The member, with `null` read as absent (contract rule 10); nil for an undeclared name.
    private func value(_ name: String) -> JSONMember? {
        guard let index = index(name) else { return nil }
        return values[index]
    }

    private static func check(_ member: MemberDeclaration, _ value: JSONMember?) throws(InvalidRequest) {
        let name = member.name
        guard let value else {
            if member.type.isRequired { throw InvalidRequest("missing required member '\(name)'") }
            return
        }
        switch member.type {
        case .tensor:
            let shape: [Int]
            switch value {
            case .tensor(let tensor): shape = tensor.shape
            case .foldedTensor(let folded): shape = folded
            default:
                throw InvalidRequest("'\(name)' must be a tensor (a number, a nested array of numbers or a {\"shape\", \"data\"} object), got \(MemberValues.describe(value))")
            }
            // Contract rule 8: an empty tensor leaves nothing to score.
            guard !shape.contains(0) else {
                throw InvalidRequest("'\(name)' is empty (shape \(shape)): there is nothing to score")
            }
        case .bool:
            guard case .bool = value else {
                throw InvalidRequest("'\(name)' must be true or false, got \(MemberValues.describe(value))")
            }
        case .number:
            guard case .tensor(let tensor) = value, tensor.rank == 0 else {
                throw InvalidRequest("'\(name)' must be a single number, got \(MemberValues.describe(value))")
            }
        case .integer:
            _ = try MemberValues.integer(name, value)
        case .scalar(_, _, let interval):
            guard case .tensor(let tensor) = value, tensor.rank == 0 || (interval && tensor.shape == [2]) else {
                throw InvalidRequest("'\(name)' must be a number\(interval ? " or an array [min, max] of two numbers" : ""), got \(MemberValues.describe(value))")
            }
        case .integers:
            _ = try MemberValues.integers(name, value)
        case .choice(let options, _):
            guard case .string(let text) = value, options.contains(text) else {
                throw InvalidRequest("'\(name)' must be \(MemberValues.either(options)), got \(MemberValues.describe(value))")
            }
        }
    }

    /// An integral number within ±2^53, or the 422 that says why not.
    private static func integer(_ name: String, _ value: JSONMember) throws(InvalidRequest) -> Int {
        guard case .tensor(let tensor) = value, tensor.rank == 0 else {
            throw InvalidRequest("'\(name)' must be an integer, got \(MemberValues.describe(value))")
        }
        let number = tensor.data[0]
        guard number == number.rounded(.towardZero) else {
            throw InvalidRequest("'\(name)' must be an integer, got \(formatNumber(number))")
        }
        // PyTorch's ignore_index is an int64; beyond ±2^53 a double no longer
        // names one integer, so refuse rather than pick one.
        guard abs(number) <= 9_007_199_254_740_992, let integer = Int(exactly: number) else {
            throw InvalidRequest("'\(name)' = \(formatNumber(number)) is out of range")
        }
        return integer
    }

    /// An integer or an array of integers (each within ±2^31, beyond which a
    /// value names no dimension or size), or the 422 that says which is not.
    private static func integers(_ name: String, _ value: JSONMember) throws(InvalidRequest) -> [Int] {
        guard case .tensor(let tensor) = value, tensor.rank <= 1 else {
            throw InvalidRequest("'\(name)' must be an integer or an array of integers, got \(MemberValues.describe(value))")
        }
        var integers: [Int] = []
        integers.reserveCapacity(tensor.count)
        for (index, number) in tensor.data.enumerated() {
            let element = tensor.rank == 0 ? "'\(name)'" : "\(name)[\(index)]"
            guard number == number.rounded(.towardZero), abs(number) < 2_147_483_648 else {
                throw InvalidRequest("\(element) = \(formatNumber(number)) is not an integer within ±2^31")
            }
            integers.append(Int(number))
        }
        return integers
    }

    /// The declaration of `name`; a name the loss does not declare is a programming error.
    private func declaration(_ name: String) -> MemberDeclaration {
        guard let index = index(name) else { preconditionFailure("'\(name)' is not a declared member") }
        return declarations[index]
    }

    // ----- the typed accessors: the members were checked in init --------------

    /// An optional tensor member, nil when absent.
    func tensor(_ name: String) -> Tensor? {
        guard case .tensor(let tensor)? = value(name) else { return nil }
        return tensor
    }

    /// A required tensor member.
    func requiredTensor(_ name: String) -> Tensor {
        guard let tensor = tensor(name) else { preconditionFailure("'\(name)' is not a required tensor") }
        return tensor
    }

    /// `minuend - subtrahend` (`predictions - targets`) when the decoder folded one of the
    /// declaration's `differenceFold` members into the other, nil when both are tensors or the
    /// loss declares no fold.
    var foldedDifferences: Differences? {
        guard let fold else { return nil }
        return switch (value(fold.minuend), value(fold.subtrahend)) {
        case (.foldedTensor(let shape)?, .tensor(let subtrahend)?):
            Differences(data: subtrahend.data, predictionsShape: shape, targetsShape: subtrahend.shape)
        case (.tensor(let minuend)?, .foldedTensor(let shape)?):
            Differences(data: minuend.data, predictionsShape: minuend.shape, targetsShape: shape)
        default: nil
        }
    }

    /// The required `predictions`.
    var predictions: Tensor { requiredTensor("predictions") }
    /// The required `targets`.
    var targets: Tensor { requiredTensor("targets") }

    /// A boolean member, or its declared default.
    func bool(_ name: String) -> Bool {
        if case .bool(let flag)? = value(name) { return flag }
        guard case .bool(let defaultValue) = declaration(name).type else { preconditionFailure("'\(name)' is not a bool") }
        return defaultValue
    }

    /// A number member, or its declared default.
    func number(_ name: String) -> Double {
        if case .tensor(let tensor)? = value(name) { return tensor.data[0] }
        guard case .number(let defaultValue, _) = declaration(name).type else { preconditionFailure("'\(name)' is not a number") }
        return defaultValue
    }

    /// An integer member, or its declared default.
    func integer(_ name: String) -> Int {
        if let value = value(name), let integer = try? MemberValues.integer(name, value) { return integer }
        guard case .integer(let defaultValue) = declaration(name).type else { preconditionFailure("'\(name)' is not an integer") }
        return defaultValue
    }

    /// A scalar member as one number, nil when absent or an interval.
    func scalar(_ name: String) -> Double? {
        guard case .tensor(let tensor)? = value(name), tensor.rank == 0 else { return nil }
        return tensor.data[0]
    }

    /// A scalar member that may be an interval, as a `DataRange`; nil when absent.
    func dataRange(_ name: String) -> DataRange? {
        guard case .tensor(let tensor)? = value(name) else { return nil }
        return tensor.rank == 0 ? .span(tensor.data[0]) : .interval(tensor.data[0], tensor.data[1])
    }

    /// An integers member (`1` or `[1, 2, 3]`), nil when absent.
    func integers(_ name: String) -> [Int]? {
        guard let value = value(name) else { return nil }
        return try? MemberValues.integers(name, value)
    }

    /// A choice member, or its declared default.
    func choice(_ name: String) -> String {
        if case .string(let text)? = value(name) { return text }
        guard case .choice(_, let defaultValue) = declaration(name).type else { preconditionFailure("'\(name)' is not a choice") }
        return defaultValue
    }

    /// `reduction` as PyTorch's three (a loss with more reads `choice("reduction")`).
    var reduction: Reduction {
        guard let reduction = Reduction(rawValue: choice("reduction")) else { preconditionFailure("reduction is not mean, sum or none") }
        return reduction
    }

    // ----- how messages read ---------------------------------------------------

    /// `"mean", "sum" or "none"`.
    static func either(_ options: [String]) -> String {
        let quoted = options.map { "\"\($0)\"" }
        guard quoted.count > 1 else { return quoted.first ?? "" }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }

    /// How a member's JSON kind reads in a message: `a string ("avg")`, `a boolean`, `null`,
    /// `a number (1.5)`, `an array of shape [2, 3]`.
    static func describe(_ member: JSONMember) -> String {
        switch member {
        case .null: return "null"
        case .bool(let flag): return "a boolean (\(flag))"
        case .string(let text):
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            var quoted = ""
            Problem.appendJSONString(shown, to: &quoted)
            return "a string (\(quoted))"
        case .tensor(let tensor):
            if tensor.rank == 0 { return "a number (\(formatNumber(tensor.data[0])))" }
            return "an array of shape \(tensor.shape)"
        case .foldedTensor(let shape):
            return "an array of shape \(shape)"
        }
    }
}
