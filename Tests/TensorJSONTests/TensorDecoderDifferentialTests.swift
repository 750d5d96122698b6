import Foundation
import Losses
import Testing
import TestSupport

@testable import TensorJSON

/// TensorDecoder against two other readers of the same random documents (fixed
/// seed): Foundation's JSONSerialization for the structure and the numbers, and
/// the C library's `strtod` (through `Double(_: String)`, correctly rounded in
/// glibc) as the exact reference for every number.
///
/// swift-corelibs-foundation's JSONSerialization is not correctly rounded
/// (measured while writing these tests: it reads 0.0121383648365736 one ulp
/// low, about one 17-digit double in five wrong, -3.4249342717809795e+100 as
/// -3.424934271780976e+100, and -0 as +0). So it checks the structure and that
/// every number is the same to 12 significant digits; `strtod` checks that
/// every number is exact.
@Suite struct TensorDecoderDifferentialTests {
    static let edgeCases = [
        "0", "-0", "0.0", "-0.0e0", "1", "-1", "0.1", "1e23", "9007199254740993", "9007199254740992.5",
        "1.7976931348623157e308", "1.7976931348623158e308", "8.98846567431158e307",
        "2.2250738585072014e-308", "2.2250738585072011e-308", "2.2250738585072012e-308",
        "4.9406564584124654e-324", "2.4703282292062328e-324", "2.4703282292062327e-324", "1e-400",
        "123456789012345678901234567890", "0.30000000000000000000000000000000000000000001",
        "1" + String(repeating: "0", count: 308), "0." + String(repeating: "0", count: 320) + "49406564584124654",
    ]

    static func digits(_ count: Int, _ random: inout SplitMix64) -> String {
        String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &random))) })
    }

    /// A random number in one of several spellings.
    static func numberText(_ random: inout SplitMix64) -> String {
        let sign = Bool.random(using: &random) ? "-" : ""
        switch Int.random(in: 0..<8, using: &random) {
        case 0:
            var value = Double(bitPattern: random.next())
            while !value.isFinite { value = Double(bitPattern: random.next()) }
            return "\(value)"  // shortest round-trip spelling, e.g. 1.2345e-300
        case 1:
            let exponent = Int.random(in: -8...3, using: &random)
            return sign + "\(Int.random(in: 1...9, using: &random)).\(digits(7, &random))e\(exponent)"
        case 2:
            return sign + "\(Int.random(in: 1...9, using: &random))" + digits(Int.random(in: 0...24, using: &random), &random)
        case 3:
            return sign + "\(Int.random(in: 0...999, using: &random))." + digits(Int.random(in: 16...40, using: &random), &random)
        case 4:
            let exponent = Bool.random(using: &random) ? Int.random(in: 280...310, using: &random) : -Int.random(in: 280...330, using: &random)
            return sign + "\(Int.random(in: 1...9, using: &random))." + digits(Int.random(in: 1...18, using: &random), &random)
                + (Bool.random(using: &random) ? "E" : "e") + (exponent > 0 && Bool.random(using: &random) ? "+" : "") + "\(exponent)"
        case 5:
            return sign + "0.\(digits(Int.random(in: 1...15, using: &random), &random))"
        case 6:
            return edgeCases.randomElement(using: &random)!
        default:
            return sign + "\(Int.random(in: 0...99_999, using: &random))"
        }
    }

    static func whitespace(_ random: inout SplitMix64) -> String {
        ["", "", "", " ", "\n", "\t", "\r\n  "].randomElement(using: &random)!
    }

    /// The significant digits of a number's spelling.
    static func significantDigits(_ text: String) -> Int {
        let mantissa = text.split(whereSeparator: { $0 == "e" || $0 == "E" }).first ?? ""
        let digits = mantissa.filter(\.isNumber).drop(while: { $0 == "0" })
        return digits.reversed().drop(while: { $0 == "0" }).count
    }

    /// A random document: `p` a rectangular nested array, `q` a tensor object,
    /// and the number spellings of each in row-major order.
    static func document(_ random: inout SplitMix64) -> (json: String, shape: [Int], p: [String], q: [String]) {
        let shape = (0..<Int.random(in: 1...3, using: &random)).map { _ in Int.random(in: 1...5, using: &random) }
        var p: [String] = []
        func nested(_ level: Int) -> String {
            let items = (0..<shape[level]).map { _ -> String in
                if level == shape.count - 1 {
                    var text = numberText(&random)
                    while Double(text)!.isInfinite { text = numberText(&random) }
                    p.append(text)
                    return whitespace(&random) + text + whitespace(&random)
                }
                return nested(level + 1)
            }
            return "[" + items.joined(separator: ",") + "]"
        }
        let array = nested(0)
        let q = (0..<Int.random(in: 0...6, using: &random)).map { _ in
            var text = numberText(&random)
            while Double(text)!.isInfinite { text = numberText(&random) }
            return text
        }
        let object = #"{"data":[\#(q.joined(separator: ", "))],"datatype":"FP64","shape":[\#(q.count)]}"#
        return ("{\"p\":\(array),\(whitespace(&random))\"q\":\(object),\"r\":\"mean\"}", shape, p, q)
    }

    static func flatten(_ value: Any) -> [NSNumber] {
        if let array = value as? [Any] { return array.flatMap(flatten) }
        return [value as! NSNumber]
    }

    static func foundationShape(_ value: Any) -> [Int] {
        guard let array = value as? [Any] else { return [] }
        return [array.count] + (array.first.map(foundationShape) ?? [])
    }

    @Test func randomDocumentsDecodeAsFoundationAndStrtodReadThem() throws {
        var random = SplitMix64(seed: 20_261_129)
        var compared = 0
        var foundationExact = 0
        for _ in 0..<400 {
            let (json, shape, p, q) = Self.document(&random)
            let bytes = Array(json.utf8)
            let splits = (0..<3).map { _ in Int.random(in: 0...bytes.count, using: &random) }.sorted()
            let members = try decode(bytes, splits: splits).get()
            #expect(members == (try decode(bytes).get()))
            guard case .tensor(let ours)? = members["p"], case .tensor(let oursQ)? = members["q"] else {
                Issue.record("no tensors in \(json)")
                continue
            }
            #expect(members["r"] == .string("mean"))

            let foundation = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
            #expect(ours.shape == shape)
            #expect(ours.shape == Self.foundationShape(foundation["p"]!))
            #expect(oursQ.shape == [q.count])
            let theirs = Self.flatten(foundation["p"]!) + Self.flatten((foundation["q"] as! [String: Any])["data"]!)
            let texts = p + q
            let values = ours.data + oursQ.data
            #expect(values.count == texts.count && theirs.count == texts.count)
            for (index, text) in texts.enumerated() where index < values.count && index < theirs.count {
                let exact = Double(text)!
                let foundationValue = theirs[index].doubleValue
                #expect(values[index].bitPattern == exact.bitPattern, "\(text): ours \(values[index]), strtod \(exact)")
                #expect(closeEnough(foundationValue, values[index], absolute: 1e-300),
                        "\(text): ours \(values[index]), Foundation \(foundationValue)")
                if values[index].bitPattern == foundationValue.bitPattern { foundationExact += 1 }
                compared += 1
            }
        }
        #expect(compared > 3000)
        #expect(foundationExact > compared / 2)
    }

    /// Random one- and two-byte mutations of valid documents: we call a body
    /// malformed exactly when JSONSerialization rejects it, but for two
    /// differences where Foundation is the one off RFC 8259: it accepts
    /// trailing commas (`[1,]`), and it rejects numbers beyond a double's
    /// range, which are JSON (a 422 here, not a 400).
    @Test func mutatedDocumentsAreMalformedExactlyWhenFoundationRejectsThem() throws {
        var random = SplitMix64(seed: 5)
        let documents = [
            #"{"p":[[1.5,-2e-3],[0,3]],"q":{"shape":[2],"data":[1,2],"datatype":"FP32"},"r":"m\u00e9an\ud83d\ude00é","b":true,"n":null}"#,
            #"{"a":[0.1,-0,1E+2,12345678901234567890],"s":"\"\\\/\b\f\n\r\t"}"#,
        ]
        let alphabet = Array("{}[]:,\"\\ \t\n0123456789-+.eEtrufalsn'xu".utf8)
            + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xA9, 0xED, 0xA0, 0xF4, 0x90, 0xFF, 0xEF, 0xBB, 0xBF]
        var disagreements = 0
        var rejected = 0
        for _ in 0..<20_000 {
            var bytes = Array(documents.randomElement(using: &random)!.utf8)
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes.remove(at: index)
                case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: index)
                default: bytes[index] = alphabet.randomElement(using: &random)!
                }
            }
            var oursMalformed = false
            if case .failure(.malformed) = decode(bytes) { oursMalformed = true }
            let theirsRejected = (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) == nil
            if oursMalformed { rejected += 1 }
            guard oursMalformed != theirsRejected else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            if oursMalformed && text.range(of: #",\s*[\]}]"#, options: .regularExpression) != nil { continue }
            if !oursMalformed && text.range(of: #"[eE][+-]?[0-9]{3,}"#, options: .regularExpression) != nil { continue }
            disagreements += 1
            if disagreements <= 10 {
                Issue.record("ours malformed: \(oursMalformed), Foundation rejects: \(theirsRejected): \(text.debugDescription)")
            }
        }
        #expect(disagreements == 0)
        #expect(rejected > 5_000)
    }

    @Test func numbersThatOverflowAreRejectedWhereStrtodGivesInfinity() {
        for text in ["1.7976931348623159e308", "2e308", "-1e309", "1" + String(repeating: "0", count: 309)] {
            #expect(Double(text)!.isInfinite)
            #expect(decode("{\"p\":[\(text)]}") == .failure(.invalid("p[0] = \(text.prefix(40))\(text.count > 40 ? "…" : "") is out of range for a double")))
        }
    }
}
