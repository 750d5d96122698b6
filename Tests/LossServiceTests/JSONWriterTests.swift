import Foundation
import Losses
import Testing
import TestSupport

@testable import LossService
@testable import TensorJSON

@Suite struct JSONWriterTests {
    static func written(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static let numbers: [(Double, String)] = [
        (0.1, "0.1"), (1e-5, "1e-05"), (1e16, "1e+16"), (-0.0, "-0.0"), (0, "0.0"), (100, "100.0"),
        (-2.5, "-2.5"), (.leastNonzeroMagnitude, "5e-324"), (.greatestFiniteMagnitude, "1.7976931348623157e+308"),
        (0.30000000000000004, "0.30000000000000004"), (.infinity, "null"), (-.infinity, "null"), (.nan, "null"),
        (.signalingNaN, "null"),
    ]

    @Test("a double is written in its shortest round-trip form, a non-finite one as null", arguments: numbers)
    func numberIsWrittenShortestOrNull(_ value: Double, _ expected: String) {
        #expect(Self.written { $0.number(value) } == expected)
    }

    @Test(arguments: [(0, "0"), (7, "7"), (-5, "-5"), (1_000_000, "1000000"), (Int.max, "9223372036854775807"),
                      (Int.min, "-9223372036854775808")])
    func integerIsWrittenInDecimal(_ value: Int, _ expected: String) {
        #expect(Self.written { $0.integer(value) } == expected)
    }

    @Test func stringsAreQuotedAndEscaped() {
        #expect(Self.written { $0.string("a\"b\\c/\n\r\t\u{8}\u{c}\u{1}\u{1f}é😀") }
                == #""a\"b\\c/\n\r\t\b\f\u0001\u001fé😀""#)
    }

    @Test func everyControlCharacterRoundTripsThroughJSONSerialization() throws {
        let text = String((0..<0x20).map { Character(Unicode.Scalar($0)!) }) + "\u{7f}\"\\é😀"
        var writer = JSONWriter()
        writer.raw("[")
        writer.string(text)
        writer.raw("]")
        let parsed = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as! [String]
        #expect(parsed == [text])
    }

    @Test func aScalarLossIsABareNumber() {
        let result = LossResult(loss: Tensor(0.4170300162), reduction: .mean, count: 2, weightSum: 2)
        #expect(String(decoding: JSONWriter.lossResponse(result), as: UTF8.self)
                == #"{"loss":0.4170300162,"reduction":"mean","shape":[],"count":2,"weight_sum":2.0}"#)
    }

    @Test func aNonFiniteLossAndWeightSumAreNullAndNonfiniteSaysWhichTheLossWas() {
        let result = LossResult(loss: Tensor(.nan), reduction: .mean, count: 0, weightSum: .infinity)
        #expect(String(decoding: JSONWriter.lossResponse(result), as: UTF8.self)
                == #"{"loss":null,"nonfinite":"nan","reduction":"mean","shape":[],"count":0,"weight_sum":null}"#)
    }

    @Test("nonfinite tells NaN, +infinity and -infinity apart for a 0-d loss",
          arguments: [(Double.nan, "nan"), (.infinity, "inf"), (-.infinity, "-inf"), (-Double.nan, "nan")])
    func nonfiniteKinds(value: Double, kind: String) {
        let result = LossResult(loss: Tensor(value), reduction: .sum, count: 1, weightSum: 1)
        #expect(String(decoding: JSONWriter.lossResponse(result), as: UTF8.self)
                == #"{"loss":null,"nonfinite":"\#(kind)","reduction":"sum","shape":[],"count":1,"weight_sum":1.0}"#)
    }

    @Test func aFiniteLossHasNoNonfiniteMember() {
        let result = LossResult(loss: Tensor(1e308), reduction: .sum, count: 1, weightSum: .nan)
        #expect(!String(decoding: JSONWriter.lossResponse(result), as: UTF8.self).contains("nonfinite"))
    }

    @Test func anUnreducedLossIsNestedInItsShapeAndNonfiniteListsOneKindPerNull() throws {
        let loss = try Tensor(shape: [2, 3], data: [1, .infinity, 3, 0.5, .nan, -.infinity])
        let result = LossResult(loss: loss, reduction: .none, count: 6, weightSum: 6)
        #expect(String(decoding: JSONWriter.lossResponse(result), as: UTF8.self)
                == #"{"loss":[[1.0,null,3.0],[0.5,null,null]],"nonfinite":["inf","nan","-inf"],"reduction":"none","shape":[2,3],"count":6,"weight_sum":6.0}"#)
    }

    @Test(arguments: [([0], "[]"), ([2, 0], "[[],[]]"), ([1, 1, 1], "[[[4.0]]]"), ([3], "[4.0,4.0,4.0]")])
    func tensorsOfEveryShapeAreWrittenAsNestedArrays(_ shape: [Int], _ expected: String) throws {
        let tensor = try Tensor(shape: shape, data: Array(repeating: 4, count: shape.reduce(1, *)))
        #expect(Self.written { $0.tensor(tensor) } == expected)
    }

    /// Every finite double, written and read back, keeps its bits: through our
    /// decoder and through strtod; JSONSerialization, which on Linux is not
    /// correctly rounded, parses the body and reads each to 12 significant digits.
    @Test func writtenDoublesReadBackBitIdentical() throws {
        var random = SplitMix64(seed: 99)
        var values: [Double] = [0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .leastNormalMagnitude, 1e-5, 1e16, 0.1]
        while values.count < 20_000 {
            let value = values.count % 2 == 0
                ? Double(bitPattern: random.next())
                : Double(Float(bitPattern: UInt32(truncatingIfNeeded: random.next())))
            if value.isFinite { values.append(value) }
        }
        let result = LossResult(loss: try Tensor(shape: [100, 200], data: values), reduction: .none, count: 0, weightSum: 1)
        let body = JSONWriter.lossResponse(result)

        var decoder = TensorDecoder()
        var failure: DecodeError?
        body.withUnsafeBytes { bytes in
            do throws(DecodeError) { try decoder.feed(bytes) } catch { failure = error }
        }
        #expect(failure == nil)
        let ours = try decoder.finish()
        #expect(ours["loss"].map { if case .tensor(let t) = $0 { t.data.map(\.bitPattern) } else { [] } } == values.map(\.bitPattern))
        #expect(ours["shape"] == .tensor(try Tensor(shape: [2], data: [100, 200])))

        let foundation = try JSONSerialization.jsonObject(with: Data(body)) as! [String: Any]
        let theirs = (foundation["loss"] as! [[NSNumber]]).joined().map(\.doubleValue)
        #expect(theirs.count == values.count)
        var writer = JSONWriter()
        var exactInFoundation = 0
        for (value, read) in zip(values, theirs) {
            writer.reset()
            writer.number(value)
            let text = String(decoding: writer.bytes, as: UTF8.self)
            #expect(Double(text)!.bitPattern == value.bitPattern, "\(text)")
            #expect(closeEnough(read, value, absolute: 1e-300), "\(text) read by Foundation as \(read)")
            if read.bitPattern == value.bitPattern { exactInFoundation += 1 }
        }
        #expect(exactInFoundation > values.count / 2)
    }
}
