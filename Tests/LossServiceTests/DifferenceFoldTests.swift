import HTTP
import Losses
import Testing
import TensorJSON
@testable import LossService

/// A difference loss's body (`LossDeclaration.differenceFold`): the second of predictions and
/// targets is folded into the first as it streams. The contract: every answer, result or
/// problem, is byte for byte the one the same body gets with both tensors stored (the
/// declaration scored from a decoder that does not fold, which the golden tests pin to PyTorch).
@Suite struct DifferenceFoldTests {
    /// The body through `LossBodyHandler` (which folds), fed in `chunk`-byte pieces.
    static func folded(_ body: String, _ declaration: LossDeclaration = .meanSquaredError, chunk: Int = 1 << 16) -> Response {
        let handler = LossBodyHandler(declaration: declaration, metrics: ServiceMetrics(includeProcessMetrics: false))
        let bytes = Array(body.utf8)
        var early: Response?
        bytes.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count && early == nil {
                let end = min(start + chunk, raw.count)
                early = handler.consume(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                start = end
            }
        }
        return early ?? handler.finish()
    }

    /// The body decoded whole by a decoder that does not fold, then scored: the answer without the fold.
    static func stored(_ body: String, _ declaration: LossDeclaration = .meanSquaredError) -> Response {
        var decoder = TensorDecoder()
        let members: [String: JSONMember]
        do throws(DecodeError) {
            try Self.feed(&decoder, Array(body.utf8))
            members = try decoder.finish()
        } catch {
            return LossBodyHandler.problem(for: error)
        }
        do {
            let scored = try declaration.evaluate(members)
            return Response(status: .ok, body: JSONWriter.lossResponse(scored.result, reduction: scored.reduction))
        } catch {
            return Problem(status: .unprocessableContent, detail: error.message).response
        }
    }

    static func feed(_ decoder: inout TensorDecoder, _ bytes: [UInt8]) throws(DecodeError) {
        var failure: DecodeError?
        bytes.withUnsafeBytes { raw in
            do throws(DecodeError) { try decoder.feed(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Expects the folded answer to be the stored one (status and body bytes), whole and cut in 3-byte pieces.
    static func expectSameAnswer(_ body: String, _ declaration: LossDeclaration = .meanSquaredError,
                                 sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let reference = stored(body, declaration)
        for chunk in [1 << 16, 3] {
            let answer = folded(body, declaration, chunk: chunk)
            #expect(answer.status == reference.status, "chunk \(chunk): \(body)", sourceLocation: sourceLocation)
            #expect(String(decoding: answer.body, as: UTF8.self) == String(decoding: reference.body, as: UTF8.self),
                    "chunk \(chunk): \(body)", sourceLocation: sourceLocation)
        }
        return String(decoding: reference.body, as: UTF8.self)
    }

    @Test("MSE is declared a difference loss: predictions minus targets")
    func meanSquaredErrorFolds() {
        #expect(LossDeclaration.meanSquaredError.differenceFold == DifferenceFold(minuend: "predictions", subtrahend: "targets"))
    }

    @Test("targets before predictions give the same answer as predictions first, reduction none giving (p - t)²")
    func targetsFirstGiveTheSameAnswer() {
        let predictionsFirst = Self.expectSameAnswer(
            #"{"predictions": [[1.0, 2.0], [3.0, 4.0]], "targets": [[1.5, 2.0], [2.0, 4.0]], "reduction": "none"}"#)
        let targetsFirst = Self.expectSameAnswer(
            #"{"targets": [[1.5, 2.0], [2.0, 4.0]], "reduction": "none", "predictions": [[1.0, 2.0], [3.0, 4.0]]}"#)
        #expect(predictionsFirst.contains(#""loss":[[0.25,0.0],[1.0,0.0]]"#))
        #expect(targetsFirst == predictionsFirst)
        // Differences that round: the folded double must be the one `p - t` gives.
        _ = Self.expectSameAnswer(#"{"targets": [1e16, -3.5, 0.1], "predictions": [1.0, 7e-300, 0.3], "reduction": "none"}"#)
        _ = Self.expectSameAnswer(#"{"predictions": [1.0, 7e-300, 0.3], "targets": [1e16, -3.5, 0.1], "reduction": "sum"}"#)
    }

    @Test("a shape mismatch is the same 422 as without the fold: more elements, fewer, other nesting, either order")
    func shapeMismatchesAreTheSameProblem() {
        let more = Self.expectSameAnswer(#"{"predictions": [1.0, 2.0], "targets": [1.0, 2.0, 3.0, 4.0, 5.0]}"#)
        #expect(more.contains("targets have shape [5] but predictions have shape [2]; they must be the same"))
        let fewer = Self.expectSameAnswer(#"{"targets": [1.0, 2.0, 3.0], "predictions": [1.0]}"#)
        #expect(fewer.contains("targets have shape [3] but predictions have shape [1]"))
        let nesting = Self.expectSameAnswer(#"{"predictions": [[1.0, 2.0]], "targets": [1.0, 2.0]}"#)
        #expect(nesting.contains("targets have shape [2] but predictions have shape [1, 2]"))
        for body in [
            #"{"predictions": [[1.0, 2.0], [3.0, 4.0]], "targets": [[1.0], [2.0], [3.0], [4.0]]}"#,
            #"{"predictions": 2.0, "targets": [1.0, 2.0]}"#,
            #"{"targets": 2.0, "predictions": [[1.0, 2.0]]}"#,
            #"{"predictions": [1.0, 2.0], "targets": {"shape": [2, 1], "data": [1.0, 2.0]}}"#,
            #"{"targets": {"data": [1.0, 2.0, 3.0], "shape": [3]}, "predictions": {"shape": [1, 2], "data": [5, 6]}}"#,
            #"{"predictions": [1.0, 2.0], "targets": [[1.0, 2.0], [3.0]]}"#,
            #"{"predictions": [1.0, 2.0], "targets": [1.0, [2.0]]}"#,
        ] {
            _ = Self.expectSameAnswer(body)
        }
    }

    @Test("every other error in the second tensor is the one it was, at the same byte")
    func otherErrorsAreUnchanged() {
        for body in [
            #"{"predictions": [1.0, 2.0], "targets": [1.0, NaN]}"#,
            #"{"predictions": [1.0, 2.0], "targets": [1.0, 1e999]}"#,
            #"{"predictions": [1.0, 2.0], "targets": [1.0, "x"]}"#,
            #"{"predictions": [1.0, 2.0], "targets": [1.0, 2.0,]}"#,
            #"{"predictions": [1.0, 2.0], "targets": [1.0, 2.0]"#,
            #"{"predictions": [1.0, 2.0], "targets": []}"#,
            #"{"predictions": [1.0, 2.0], "targets": {"shape": [3], "data": [1.0, 2.0]}}"#,
            #"{"predictions": [1.0, 2.0], "targets": {"data": [1.0, 2.0]}}"#,
            #"{"predictions": [1.0, 2.0], "targets": [1.0, 2.0], "predictions": [3.0, 4.0]}"#,
            #"{"predictions": [1.0, 2.0], "targets": [1.0, 2.0], "reduce": "sum"}"#,
            #"{"predictions": [], "targets": [1.0, 2.0]}"#,
            #"{"predictions": "p", "targets": [1.0, 2.0]}"#,
            #"{"predictions": null, "targets": [1.0, 2.0]}"#,
        ] {
            _ = Self.expectSameAnswer(body)
        }
    }

    @Test("a weight still weighs the folded differences, and a weight of another shape is the same 422")
    func weightsStillWork() {
        let weighted = Self.expectSameAnswer(
            #"{"targets": [[1.5, 2.0], [2.0, 4.0]], "weight": [[1.0, 1.0], [2.0, 0.0]], "predictions": [[1.0, 2.0], [3.0, 4.0]]}"#)
        #expect(weighted.contains(#""loss":0.5625"#))  // the README's example, as F.mse_loss gives it
        let wrong = Self.expectSameAnswer(#"{"predictions": [1.0, 2.0], "targets": [1.0, 2.0], "weight": [1.0]}"#)
        #expect(wrong.contains("weight has shape [1] but predictions have shape [2]"))
    }

    @Test("L1, smooth L1 and Huber are difference losses too: each answer, result or problem, is the unfolded one",
          arguments: [LossDeclaration.l1, .smoothL1, .huber])
    func regressionLossesFold(_ declaration: LossDeclaration) {
        #expect(declaration.differenceFold == DifferenceFold(minuend: "predictions", subtrahend: "targets"))
        let parameter = declaration.name == "huber" ? "delta" : "beta"
        for body in [
            #"{"targets": [[1.5, 2.0], [2.0, 4.0]], "reduction": "none", "predictions": [[1.0, 2.0], [3.0, 4.0]]}"#,
            #"{"predictions": [1.0, 7e-300, 0.3, -4.0], "targets": [1e16, -3.5, 0.1, -4.5], "reduction": "none"}"#,
            #"{"targets": [1e16, -3.5, 0.1, -4.5], "predictions": [1.0, 7e-300, 0.3, -4.0], "PARAM": 0.5}"#,
            #"{"targets": [1e16, -3.5, 0.1], "predictions": [1.0, 7e-300, 0.3], "PARAM": 0, "reduction": "sum"}"#,
            #"{"targets": [1.0, 2.0, 3.0], "predictions": [1.0, 2.0], "PARAM": -1}"#,
            #"{"targets": [1.0, 2.0, 3.0], "predictions": [1.0, 2.0]}"#,
            #"{"predictions": [[1.0, 2.0]], "targets": {"shape": [2], "data": [1.0, 2.0]}}"#,
            #"{"targets": [1.5, 2.0, 2.0], "weight": [2.0, 0.5, 1.0], "predictions": [1.0, 2.0, 3.0]}"#,
            #"{"targets": [1.5, 2.0, 2.0], "weight": [2.0, 0.5], "predictions": [1.0, 2.0, 3.0]}"#,
            #"{"predictions": [1.0, 2.0], "targets": [1.0, NaN]}"#,
        ] {
            let body = body.replacing("PARAM", with: parameter)
            if declaration.name == "l1" && body.contains(parameter) { continue }
            _ = Self.expectSameAnswer(body, declaration)
        }
    }

    /// MSE of members named `input` and `target`: a difference loss whose fold is not predictions - targets.
    static let renamed = LossDeclaration(
        name: "renamed_mse", summary: "MSE of input against target", reference: "torch.nn.functional.mse_loss",
        members: [
            MemberDeclaration("input", .tensor(required: true, role: .values), "Any shape."),
            MemberDeclaration("target", .tensor(required: true, role: .targets), "The input's shape."),
            .reduction,
        ],
        documentation: LossDocumentation(typeName: "RenamedMSE", title: "Renamed MSE", description: "", examples: []),
        fold: DifferenceFold(minuend: "input", subtrahend: "target")
    ) { m in
        MeanSquaredError(reduction: m.reduction)
    }

    @Test("the members folded and read back are the ones the declaration's fold names, whatever they are called")
    func foldNamesTheMembers() throws {
        #expect(Self.renamed.differenceFold == DifferenceFold(minuend: "input", subtrahend: "target"))
        // The decoder folded `target` into `input`: the differences are read from the fold's members.
        let members: [String: JSONMember] = [
            "input": .tensor(try Tensor(shape: [2], data: [-0.5, 1.0])), "target": .foldedTensor(shape: [2])]
        let differences = try #require(try MemberValues(members, declaration: Self.renamed).foldedDifferences)
        #expect(differences.data == [-0.5, 1.0])
        #expect(differences.predictionsShape == [2] && differences.targetsShape == [2])
        // Folded or stored, either order: the same answer, (p - t)² for p = [1, 3], t = [1.5, 2].
        for body in [
            #"{"input": [1.0, 3.0], "target": [1.5, 2.0], "reduction": "none"}"#,
            #"{"target": [1.5, 2.0], "reduction": "none", "input": [1.0, 3.0]}"#,
        ] {
            #expect(Self.expectSameAnswer(body, Self.renamed).contains(#""loss":[0.25,1.0]"#), "\(body)")
        }
    }

    @Test("in binary, the later of two parts is folded into the earlier as its bytes arrive, cut anywhere: minuend - subtrahend, either order")
    func binaryPartsFold() throws {
        let earlier: [Double] = [1.5, -2.0, 1e16, 0.1, 7e-300]
        let later: [Float] = [0.25, 3.0, 1.0, 0.2, -1.5]
        var bytes: [UInt8] = []
        for value in earlier { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        for value in later { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        for intoIsMinuend in [true, false] {
            for chunk in [1, 3, 7, 64] {
                let reader = OIPBinaryReader(headerLength: 0)
                var second = OIPBinaryReader.Part(datatype: .fp32, size: 4 * later.count)
                second.fold = OIPBinaryReader.Fold(into: 0, intoIsMinuend: intoIsMinuend)
                reader.plan([OIPBinaryReader.Part(datatype: .fp64, size: 8 * earlier.count), second])
                var start = 0
                while start < bytes.count {
                    let end = min(start + chunk, bytes.count)
                    let used = try Array(bytes[start..<end]).withUnsafeBytes { raw throws(OIPBinaryReader.FramingError) in
                        try reader.feed(raw)
                    }
                    #expect(used == end - start)
                    start = end
                }
                try reader.finish(names: ["a", "b"])
                let tensors = reader.takeTensors()
                let expected = zip(earlier, later).map { intoIsMinuend ? $0 - Double($1) : Double($1) - $0 }
                #expect(tensors[0].map(\.bitPattern) == expected.map(\.bitPattern), "chunk \(chunk)")
                #expect(tensors[1].isEmpty)
            }
        }
    }

    @Test("the folded tensor reserves no memory: a request holds one tensor's budget, not two")
    func theSecondTensorReservesNothing() throws {
        let count = 20_000
        let numbers = Array(repeating: "0.25", count: count).joined(separator: ",")
        let body = Array(#"{"predictions": [\#(numbers)], "targets": [\#(numbers)]}"#.utf8)
        func reservedAtTheEnd(fold: DifferenceFold?) throws -> Int {
            let budget = MemoryBudget(limit: 1 << 30, reservationStep: 8 << 10)
            var decoder = TensorDecoder(budget: budget, fold: fold)
            try Self.feed(&decoder, body)
            let members = try decoder.finish()
            #expect(members["targets"] == (fold == nil ? members["targets"] : .foldedTensor(shape: [count])))
            return budget.reservedBytes
        }
        let stored = try reservedAtTheEnd(fold: nil)
        let folded = try reservedAtTheEnd(fold: LossDeclaration.meanSquaredError.differenceFold)
        #expect(stored >= 2 * count * 8)
        #expect(folded >= count * 8 && folded < 2 * count * 8, "\(folded) bytes reserved for \(count) numbers")
    }
}
