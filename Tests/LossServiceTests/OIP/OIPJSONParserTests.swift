import Testing
@testable import LossService

@Suite struct OIPJSONParserTests {
    private func parse(_ text: String) throws(OIPJSONError) -> OIPJSON { try OIPJSONParser.parse(Array(text.utf8)) }

    @Test("arrays of numbers are one contiguous [Double]; other values keep their kind")
    func values() throws {
        #expect(try parse("[1, -2.5e3, 0.1]") == .numbers([1, -2500, 0.1]))
        // Past Clinger's fast path and past 19 digits: correctly rounded all the same; a number may end the text.
        #expect(try parse("[1e-400, 9007199254740993, 0.1000000000000000055511151231257827]")
                == .numbers([0, 9_007_199_254_740_992, 0.1]))
        #expect(try parse("-12.5e-1") == .number(-1.25))
        #expect(try parse(#"{"a": [true, null], "b": "x\u00e9\n", "c": {}}"#)
                == .object([("a", .array([.bool(true), .null])), ("b", .string("xé\n")), ("c", .object([]))]))
        #expect(try parse("[[1,2],[3]]") == .array([.numbers([1, 2]), .numbers([3])]))
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test("malformed JSON names the byte", arguments: [
        ("[1,]", 3, "trailing comma before ']'"),
        (#"{"a":1,"a":2}"#, 7, "member 'a' appears twice"),
        // Numbers: TensorDecoder's grammar and reasons, at the byte that breaks it.
        ("[01]", 2, "leading zeros are not allowed"),
        ("[-]", 2, "expected a digit after '-'"),
        ("[-x]", 2, "expected a digit after '-'"),
        ("[1.]", 3, "expected a digit after '.'"),
        ("[1.5e+]", 6, "expected a digit in the exponent"),
        ("1.", 2, "expected a digit after '.'"),  // cut short by the text's end
        ("-", 1, "expected a digit after '-'"),
        ("[1.5-2]", 4, "expected ',' or ']' in an array"),
        ("[1e999]", 1, "a number is out of the double range"),
        ("[-1e999]", 1, "a number is out of the double range"),
        ("[NaN]", 1, "unexpected byte 'N' where a value should be"),
        ("{} x", 3, "unexpected bytes after the JSON value"),
        (#"{"a":"#, 5, "the JSON text ends where a value should be"),
        // Strings: the ASCII fast path and the full reader refuse the same bytes at the same place.
        (#"{"ab"#, 1, "the JSON text ends inside a string"),
        ("[\"a\u{01}b\"]", 3, "a control character in a string must be escaped"),
        ("[\"é\u{01}\"]", 4, "a control character in a string must be escaped"),
    ])
    func malformed(text: String, offset: Int, reason: String) {
        #expect(throws: OIPJSONError(offset: offset, reason: reason)) { try parse(text) }
    }

    @Test("strings: plain ASCII, escapes and other UTF-8 read alike; bytes that are not UTF-8 are refused")
    func strings() throws {
        #expect(try parse("[\"\", \"a b\u{7F}~\", \"x\\\"y\", \"é\", \"a\\/b\"]")
                == .array([.string(""), .string("a b\u{7F}~"), .string("x\"y"), .string("é"), .string("a/b")]))
        #expect(throws: OIPJSONError(offset: 1, reason: "a string is not valid UTF-8")) {
            try OIPJSONParser.parse([UInt8(ascii: "["), UInt8(ascii: "\""), 0x61, 0xFF, UInt8(ascii: "\""), UInt8(ascii: "]")])
        }
    }

    @Test("nesting past the limit is refused, not a stack overflow")
    func depth() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: OIPJSONError.self) { try parse(deep) }
    }
}
