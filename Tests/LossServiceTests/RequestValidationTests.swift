import Losses
import Testing
@testable import LossService
@testable import TensorJSON

/// Builds request members the way the decoder hands them over.
private func t(_ values: [Double]) -> JSONMember { .tensor(try! Tensor(shape: [values.count], data: values)) }
private func n(_ value: Double) -> JSONMember { .tensor(Tensor(value)) }
private let base: [String: JSONMember] = ["predictions": t([0.2, 0.7]), "targets": t([0, 1])]

private func members(_ extra: [String: JSONMember]) -> [String: JSONMember] {
    base.merging(extra) { $1 }
}

/// The members as `declaration` reads them.
private func values(_ declaration: LossDeclaration, _ members: [String: JSONMember]) throws -> MemberValues {
    try MemberValues(members, declaration: declaration)
}

/// The 422 message a request gets, or nil when it is valid.
private func rejection(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch let error as InvalidRequest { return error.message } catch {
        return "unexpected \(error)"
    }
}

@Suite struct RequestValidationTests {
    @Test("defaults are PyTorch's")
    func defaults() throws {
        let ce = try values(.crossEntropy, base)
        #expect(ce.reduction == .mean && ce.bool("from_logits") && ce.tensor("weight") == nil
                && ce.integer("ignore_index") == -100 && ce.number("label_smoothing") == 0)
        let bce = try values(.binaryCrossEntropy, base)
        #expect(bce.reduction == .mean && !bce.bool("from_logits") && bce.tensor("weight") == nil
                && bce.tensor("pos_weight") == nil)
        let mse = try values(.meanSquaredError, base)
        #expect(mse.reduction == .mean && mse.tensor("weight") == nil)
    }

    @Test("every CE member is read")
    func ceMembers() throws {
        let ce = try values(.crossEntropy, members([
            "reduction": .string("sum"), "from_logits": .bool(false), "weight": t([1, 2]),
            "ignore_index": n(1), "label_smoothing": n(0.25),
        ]))
        #expect(ce.reduction == .sum && !ce.bool("from_logits") && ce.tensor("weight")?.data == [1, 2]
                && ce.integer("ignore_index") == 1 && ce.number("label_smoothing") == 0.25)
        #expect(ce.predictions.data == [0.2, 0.7] && ce.targets.data == [0, 1])
    }

    @Test("every BCE member is read")
    func bceMembers() throws {
        let bce = try values(.binaryCrossEntropy, members([
            "reduction": .string("none"), "from_logits": .bool(true), "weight": t([1, 2]), "pos_weight": n(3),
        ]))
        #expect(bce.reduction == Reduction.none && bce.bool("from_logits") && bce.tensor("weight")?.data == [1, 2]
                && bce.tensor("pos_weight")?.data == [3])
    }

    @Test("MSE reads weight")
    func mseMembers() throws {
        #expect(try values(.meanSquaredError, members(["weight": t([1, 3])])).tensor("weight")?.data == [1, 3])
    }

    @Test("an optional member set to null is the same as absent")
    func nullIsAbsent() throws {
        let ce = try values(.crossEntropy, members([
            "reduction": .null, "from_logits": .null, "weight": .null, "ignore_index": .null, "label_smoothing": .null,
        ]))
        #expect(ce.reduction == .mean && ce.bool("from_logits") && ce.tensor("weight") == nil
                && ce.integer("ignore_index") == -100 && ce.number("label_smoothing") == 0)
        let bce = try values(.binaryCrossEntropy, members(["pos_weight": .null, "weight": .null, "from_logits": .null]))
        #expect(!bce.bool("from_logits") && bce.tensor("weight") == nil && bce.tensor("pos_weight") == nil)
    }

    @Test("index targets and ignore_index may be written as integral doubles", arguments: [2.0, -100.0, 0.0, 1e3])
    func integralIgnoreIndex(value: Double) throws {
        #expect(try values(.crossEntropy, members(["ignore_index": n(value)])).integer("ignore_index") == Int(value))
    }

    @Test("an unknown member is a 422 that names it, so a typo never changes a result")
    func unknownMember() {
        #expect(rejection { _ = try values(.crossEntropy, members(["reduce": .string("sum")])) }?
            .hasPrefix("unknown member 'reduce'") == true)
        // BCE has no ignore_index, MSE no from_logits: they are unknown there.
        #expect(rejection { _ = try values(.binaryCrossEntropy, members(["ignore_index": n(1)])) }?
            .hasPrefix("unknown member 'ignore_index'") == true)
        #expect(rejection { _ = try values(.meanSquaredError, members(["from_logits": .bool(true)])) }?
            .hasPrefix("unknown member 'from_logits'") == true)
        #expect(rejection { _ = try values(.meanSquaredError, members(["pos_weight": .null])) }?
            .hasPrefix("unknown member 'pos_weight'") == true)
    }

    @Test("several unknown members are all named, sorted")
    func unknownMembers() {
        let message = rejection { _ = try values(.meanSquaredError, members(["zeta": .null, "alpha": .null])) }
        #expect(message?.hasPrefix("unknown members 'alpha', 'zeta'") == true)
    }

    @Test("predictions and targets are required", arguments: ["predictions", "targets"])
    func required(name: String) {
        var m = base
        m[name] = nil
        #expect(rejection { _ = try values(.crossEntropy, m) } == "missing required member '\(name)'")
        m[name] = .null
        #expect(rejection { _ = try values(.binaryCrossEntropy, m) } == "missing required member '\(name)'")
    }

    @Test("a member of the wrong JSON kind says which and what was expected", arguments: [
        ("reduction", JSONMember.string("avg"), #"'reduction' must be "mean", "sum" or "none", got a string ("avg")"#),
        ("reduction", n(1), #"'reduction' must be "mean", "sum" or "none", got a number (1)"#),
        ("reduction", .string("MEAN"), #"'reduction' must be "mean", "sum" or "none", got a string ("MEAN")"#),
        ("from_logits", .string("true"), #"'from_logits' must be true or false, got a string ("true")"#),
        ("from_logits", n(1), "'from_logits' must be true or false, got a number (1)"),
        ("ignore_index", n(1.5), "'ignore_index' must be an integer, got 1.5"),
        ("ignore_index", .string("1"), #"'ignore_index' must be an integer, got a string ("1")"#),
        ("ignore_index", t([1, 2]), "'ignore_index' must be an integer, got an array of shape [2]"),
        ("ignore_index", n(1e300), "'ignore_index' = 1e+300 is out of range"),
        ("label_smoothing", .bool(true), "'label_smoothing' must be a single number, got a boolean (true)"),
        ("label_smoothing", t([0.1]), "'label_smoothing' must be a single number, got an array of shape [1]"),
        ("weight", .string("x"), #"'weight' must be a tensor (a number, a nested array of numbers or a {"shape", "data"} object), got a string ("x")"#),
        ("predictions", .bool(false), #"'predictions' must be a tensor (a number, a nested array of numbers or a {"shape", "data"} object), got a boolean (false)"#),
    ])
    func wrongKind(name: String, value: JSONMember, message: String) {
        #expect(rejection { _ = try values(.crossEntropy, members([name: value])) } == message)
    }

    @Test("empty tensors are a 422: there is nothing to score", arguments: ["predictions", "targets", "weight"])
    func emptyTensor(name: String) throws {
        let empty = JSONMember.tensor(try Tensor(shape: [2, 0], data: []))
        #expect(rejection { _ = try values(.meanSquaredError, members([name: empty])) }
                == "'\(name)' is empty (shape [2, 0]): there is nothing to score")
    }

    @Test("unknown members are reported before anything else")
    func unknownFirst() {
        #expect(rejection { _ = try values(.crossEntropy, ["reduce": .string("sum")]) }?
            .hasPrefix("unknown member 'reduce'") == true)
    }
}
