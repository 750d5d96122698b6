import Losses
import Testing
import TestSupport

@testable import TensorJSON

/// The hot path (`NumberScanner`: short numbers joined by bare commas, read
/// only where the chunk has `NumberScanner.reach` bytes left, and `],[`
/// between rows handled inside the run) against the careful path and `strtod`:
/// the same values, bit for bit, and the same errors at the same bytes. Rows
/// are long, so most numbers are far enough from the chunk's end to take it.
@Suite struct TensorDecoderShortNumberTests {
    /// Spellings of every shape the hot path reads or declines: lengths 1 to
    /// 30 digits, fractions up to 20 digits, exponents of 1 to 4 digits with
    /// and without a sign, zeros, subnormals, the edges of Clinger's range.
    static var spellings: [String] {
        var random = SplitMix64(seed: 6)
        func digits(_ count: Int) -> String {
            String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &random))) })
        }
        var result = [
            "0", "-0", "0.0", "-0.0", "0e0", "0E+0", "-0e-0", "1", "-1", "9", "10", "0.5", "-0.125", "1e22", "1e23",
            "1e-22", "1e-23", "9007199254740992", "9007199254740993", "0.9007199254740993", "4.9406564584124654e-324",
            "2.2250738585072011e-308", "1.7976931348623157e308", "1e-400", "-1e-400", "123456789e-22", "1234567.1234567",
            "0.000000000000001", "0.0000000000000000000001", "1.5E+10", "7e0", "3e-005", "1.2345678e-05", "-4.9968328",
            "0.10281307", "0.080294192", "-0.0042573186", "99999999.5", "1234567", "12345678", "0.123456789012345",
            "0.1234567890123456", "0.12345678901234567", "9.999999999999999e22",
        ]
        for length in 1...30 {
            result.append("\(Int.random(in: 1...9, using: &random))" + digits(length - 1))
            result.append("-0." + digits(length))
            result.append("\(Int.random(in: 0...9, using: &random)).\(digits(min(length, 20)))")
            result.append("\(Int.random(in: 1...9, using: &random))\(digits(length % 8)).\(digits(length % 17 + 1))")
        }
        for exponentDigits in 1...4 {
            for sign in ["", "+", "-"] {
                let exponent = String(Int.random(in: 0...(exponentDigits == 4 ? 307 : 9), using: &random))
                result.append("\(Int.random(in: 1...9, using: &random)).\(digits(7))e\(sign)\(exponent)")
                result.append("-\(Int.random(in: 1...9, using: &random))E\(sign)" + String(repeating: "0", count: exponentDigits - 1) + "2")
            }
        }
        return result
    }

    /// A long row holding every spelling, joined by bare commas (and a few with spaces).
    static func row(_ spellings: [String], spaced: Bool) -> String {
        var text = ""
        for (index, spelling) in spellings.enumerated() {
            if index > 0 { text += spaced && index % 7 == 0 ? " , " : "," }
            text += spelling
        }
        return text
    }

    @Test(arguments: [false, true])
    func everyNumberShapeReadsAsStrtodDoesWholeAndSplit(_ spaced: Bool) throws {
        let spellings = Self.spellings + Self.spellings.reversed()
        let document = Array("{\"p\":[\(Self.row(spellings, spaced: spaced))]}".utf8)
        let expected = spellings.map { Double($0)!.bitPattern }
        var random = SplitMix64(seed: 7)
        var splitSets: [[Int]] = [[]]
        for _ in 0..<40 {
            splitSets.append((0..<Int.random(in: 1...30, using: &random)).map { _ in Int.random(in: 0...document.count, using: &random) }.sorted())
        }
        for splits in splitSets {
            let decoded = try #require(tensor(decode(document, splits: splits)), "splits \(splits)")
            #expect(decoded.data.map(\.bitPattern) == expected, "splits \(splits)")
        }
    }

    /// Padding after the interesting part, so that it lies well inside the chunk.
    static let padding = String(repeating: "0.25,", count: 20) + "1"

    static let malformed: [(String, String)] = [
        ("0.5,01,", "leading zeros are not allowed"),
        ("0.5,-01,", "leading zeros are not allowed"),
        ("0.5,-x,", "expected a digit after '-'"),
        ("0.5,1.,", "expected a digit after '.'"),
        ("0.5,1.e5,", "expected a digit after '.'"),
        ("0.5,1e,", "expected a digit in the exponent"),
        ("0.5,1e+,", "expected a digit in the exponent"),
        ("0.5,2.5E-x,", "expected a digit in the exponent"),
        ("0.5,1.5x,", "expected ',' or ']'"),
        ("0.5,1.5 x,", "expected ',' or ']'"),
        ("0.5,,", "expected a value"),
        ("0.5,.5,", "expected a value"),
        ("0.5,+1,", "expected a value"),
        ("0.5,1.2.3,", "expected ',' or ']'"),
        ("0.5,1e5.5,", "expected ',' or ']'"),
    ]

    @Test(arguments: malformed)
    func aMalformedNumberInARunIsReportedWhereTheCarefulScannerReportsIt(_ part: String, _ reason: String) {
        let prefix = #"{"p":[0.5,0.5,"#
        let json = prefix + part + Self.padding + "]}"
        let bytes = Array(json.utf8)
        // The offending byte: the first one that cannot continue the part's last number.
        guard case .failure(.malformed(let offset, let actual)) = decode(bytes) else {
            Issue.record("\(json) decoded")
            return
        }
        #expect(actual == reason)
        #expect(offset > prefix.utf8.count + 3 && offset < prefix.utf8.count + part.utf8.count)
        for split in stride(from: 0, through: bytes.count, by: 3) {
            #expect(decode(bytes, splits: [split]) == .failure(.malformed(offset: offset, reason: reason)))
        }
        #expect(decodeBytewise(bytes) == .failure(.malformed(offset: offset, reason: reason)))
    }

    @Test(arguments: ["1e400", "-1.7976931348623159e308", "2e308"])
    func aNumberOutOfRangeInARunIsA422ThatNamesIt(_ number: String) {
        let json = #"{"p":[0.5,0.5,0.5,"# + number + "," + Self.padding + "]}"
        let expected = DecodeError.invalid("p[3] = \(number) is out of range for a double")
        #expect(decode(json) == .failure(expected))
        #expect(decode(json, splits: [json.utf8.count / 2]) == .failure(expected))
    }

    /// A row of mostly one-digit numbers, as class indices and 0/1 targets are
    /// written: runs of `d,d,d,d,` (read four at a time), broken by a 255
    /// (an ignore_index), a negative, a fraction, an exponent, a spaced comma.
    static func digitRow(_ count: Int, seed: UInt64) -> [String] {
        var random = SplitMix64(seed: seed)
        let others = ["255", "-1", "0.5", "1e2", "10", "7"]
        return (0..<count).map { _ in
            let r = Int.random(in: 0..<100, using: &random)
            return r < 90 ? String(r % 10) : others[r % others.count]
        }
    }

    @Test(arguments: [false, true])
    func runsOfOneDigitNumbersReadAsStrtodDoesWholeSplitAndByteByByte(_ spaced: Bool) throws {
        let spellings = Self.digitRow(3000, seed: 11)
        let document = Array("{\"p\":[\(Self.row(spellings, spaced: spaced))]}".utf8)
        let expected = spellings.map { Double($0)!.bitPattern }
        #expect(try #require(tensor(decode(document))).data.map(\.bitPattern) == expected)
        var random = SplitMix64(seed: 12)
        for _ in 0..<20 {
            let splits = (0..<4).map { _ in Int.random(in: 0...document.count, using: &random) }.sorted()
            #expect(try #require(tensor(decode(document, splits: splits))).data.map(\.bitPattern) == expected)
        }
        #expect(decodeBytewise(document) == decode(document))
    }

    @Test("rows of one-digit numbers keep their shape, compact and as json.dumps writes them")
    func rowsOfOneDigitNumbersKeepTheirShape() throws {
        for (comma, between) in [(",", "],["), (", ", "], [")] {
            let rows = (0..<5).map { row in (0..<13).map { column in String((row * 13 + column) % 10) } }
            let json = #"{"p":[["# + rows.map { $0.joined(separator: comma) }.joined(separator: between) + "]]}"
            let whole = try #require(tensor(decode(json)))
            #expect(whole.shape == [5, 13])
            #expect(whole.data == rows.joined().map { Double($0)! })
            #expect(decodeBytewise(Array(json.utf8)) == decode(json))
        }
    }

    @Test(arguments: ["01", "1.", "1e", "-", "1,,2", "1 2", "a", "1]"])
    func aMalformedNumberInADigitRunIsReportedAsByteByByte(_ bad: String) {
        for position in [9, 10, 11, 12, 13, 40] {
            var numbers = (0..<60).map { String($0 % 2) }
            numbers[position] = bad
            let bytes = Array((#"{"p":["# + numbers.joined(separator: ",") + "]}").utf8)
            let expected = decodeBytewise(bytes)
            guard case .failure = expected else {
                Issue.record("\(bad) at \(position) decoded")
                continue
            }
            #expect(decode(bytes) == expected, "\(bad) at \(position)")
        }
    }

    @Test("the tensor limit stops a digit run at its number, whatever the group of four it falls in")
    func theLimitStopsADigitRunAtItsNumber() {
        let bytes = Array((#"{"p":["# + (0..<200).map { String($0 % 10) }.joined(separator: ",") + "]}").utf8)
        for limit in [5, 6, 7, 8, 9, 10, 11, 129, 130, 131, 132, 133] {
            let result = decode(bytes, maxTensorBytes: limit * 8)
            #expect(result == decode(bytes, splits: Array(0...bytes.count), maxTensorBytes: limit * 8), "limit \(limit)")
            guard case .failure(.tooLarge) = result else {
                Issue.record("limit \(limit): \(result)")
                continue
            }
        }
    }

    /// Compact, and as Python's `json.dumps` writes it (`, ` and `], [`).
    @Test(arguments: [(",", "],["), (", ", "], ["), (" ,", "] ,["), (",  ", "],  [")])
    func rowsOfShortNumbersKeepTheirShapeWholeAndByteByByte(_ comma: String, _ between: String) throws {
        let rows = (0..<6).map { row in (0..<7).map { column in "\(row).\(column)25" } }
        let json = #"{"p":[["# + rows.map { $0.joined(separator: comma) }.joined(separator: between) + "]]}"
        let whole = try #require(tensor(decode(json)))
        #expect(whole.shape == [6, 7])
        #expect(whole.data == rows.joined().map { Double($0)! })
        #expect(decodeBytewise(Array(json.utf8)) == decode(json))
    }

    @Test(arguments: [
        (#"{"p":[[0.5,0.25,0.125],[1,2],"#, "p[1] has 2 elements but p[0] has 3"),
        (#"{"p":[[0.5,0.25],[1,2,3],"#, "p[1] has 3 elements but p[0] has 2"),
        (#"{"p":[[[0.5,0.25],[1,2]],[[1,2],[3]],"#, "p[1][1] has 1 element but p[0][0] has 2"),
        (#"{"p":[[0.5,0.25],[1,[2]],"#, "p[1][1] is an array where a number is expected"),
        (#"{"p":[[0.5,0.25],1,"#, "p[1] is a number where an array is expected"),
        (#"{"p":[[0.5, 0.25, 0.125], [1, 2], "#, "p[1] has 2 elements but p[0] has 3"),
    ])
    func aRaggedRowInARunIsReportedAsTheMainLoopReportsIt(_ start: String, _ message: String) {
        let json = start + "[" + Self.padding + "]]}"
        #expect(decode(json) == .failure(.invalid(message)))
        #expect(decodeBytewise(Array(json.utf8)) == .failure(.invalid(message)))
    }
}
