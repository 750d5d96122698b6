import HTTP
import Losses

/// The top-level members of a loss request body, read by name with the
/// checks every loss shares: no unknown members (so a typo such as `reduce`
/// never silently changes a result), `null` meaning absent, and a 422 that
/// says which member has the wrong JSON kind and what was expected.
struct RequestMembers {
    private let members: [String: JSONMember]

    /// Checks that every member is one of `allowed`.
    init(_ members: [String: JSONMember], allowed: [String]) throws(InvalidRequest) {
        let unknown = members.keys.filter { !allowed.contains($0) }.sorted()
        if !unknown.isEmpty {
            let names = unknown.map { "'\($0)'" }.joined(separator: ", ")
            throw InvalidRequest("unknown member\(unknown.count == 1 ? "" : "s") \(names) (allowed: \(allowed.joined(separator: ", ")))")
        }
        self.members = members
    }

    /// The member, with `null` read as absent (contract rule 10).
    private func value(_ name: String) -> JSONMember? {
        switch members[name] {
        case nil, .null?: return nil
        case let member?: return member
        }
    }

    /// A required tensor with at least one element.
    func requiredTensor(_ name: String) throws(InvalidRequest) -> Tensor {
        guard let tensor = try tensor(name) else { throw InvalidRequest("missing required member '\(name)'") }
        return tensor
    }

    /// An optional tensor with at least one element.
    func tensor(_ name: String) throws(InvalidRequest) -> Tensor? {
        guard let member = value(name) else { return nil }
        guard case .tensor(let tensor) = member else {
            throw InvalidRequest("'\(name)' must be a tensor (a number, a nested array of numbers or a {\"shape\", \"data\"} object), got \(RequestMembers.describe(member))")
        }
        // Contract rule 8: an empty tensor leaves nothing to score.
        guard tensor.count > 0 else {
            throw InvalidRequest("'\(name)' is empty (shape \(tensor.shape)): there is nothing to score")
        }
        return tensor
    }

    /// An optional boolean.
    func bool(_ name: String, default defaultValue: Bool) throws(InvalidRequest) -> Bool {
        guard let member = value(name) else { return defaultValue }
        guard case .bool(let flag) = member else {
            throw InvalidRequest("'\(name)' must be true or false, got \(RequestMembers.describe(member))")
        }
        return flag
    }

    /// The optional `reduction`: `"mean"` (default), `"sum"` or `"none"`.
    func reduction() throws(InvalidRequest) -> Reduction {
        guard let member = value("reduction") else { return .mean }
        guard case .string(let text) = member, let reduction = Reduction(rawValue: text) else {
            throw InvalidRequest("'reduction' must be \"mean\", \"sum\" or \"none\", got \(RequestMembers.describe(member))")
        }
        return reduction
    }

    /// An optional single number (a 0-d tensor).
    func number(_ name: String, default defaultValue: Double) throws(InvalidRequest) -> Double {
        guard let member = value(name) else { return defaultValue }
        guard case .tensor(let tensor) = member, tensor.rank == 0 else {
            throw InvalidRequest("'\(name)' must be a single number, got \(RequestMembers.describe(member))")
        }
        return tensor.data[0]
    }

    /// An optional integer, written as an integral number (`2`, `2.0`, `2e0`).
    func integer(_ name: String, default defaultValue: Int) throws(InvalidRequest) -> Int {
        guard let member = value(name) else { return defaultValue }
        guard case .tensor(let tensor) = member, tensor.rank == 0 else {
            throw InvalidRequest("'\(name)' must be an integer, got \(RequestMembers.describe(member))")
        }
        let number = tensor.data[0]
        guard number == number.rounded(.towardZero) else {
            throw InvalidRequest("'\(name)' must be an integer, got \(RequestMembers.format(number))")
        }
        // PyTorch's ignore_index is an int64; beyond ±2^53 a double no longer
        // names one integer, so refuse rather than pick one.
        guard abs(number) <= 9_007_199_254_740_992, let integer = Int(exactly: number) else {
            throw InvalidRequest("'\(name)' = \(RequestMembers.format(number)) is out of range")
        }
        return integer
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
            if tensor.rank == 0 { return "a number (\(format(tensor.data[0])))" }
            return "an array of shape \(tensor.shape)"
        }
    }

    /// A number as a message shows it: integral values without a fraction.
    static func format(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        return number.description
    }
}
