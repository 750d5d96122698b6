import Losses
import Testing
import TestSupport

@testable import TensorJSON

/// A body that decodes, the member `p`'s expected shape and data.
struct TensorCase: Sendable, CustomTestStringConvertible {
    var json: String
    var shape: [Int]
    var data: [Double]
    var testDescription: String { json }
}

/// A body and the 400 it must give: offset of the first offending byte, and the reason.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    var bytes: [UInt8]
    var offset: Int
    var reason: String
    init(_ text: String, _ offset: Int, _ reason: String) {
        self.init(Array(text.utf8), offset, reason)
    }
    init(_ bytes: [UInt8], _ offset: Int, _ reason: String) {
        self.bytes = bytes
        self.offset = offset
        self.reason = reason
    }
    var testDescription: String { String(decoding: bytes, as: UTF8.self).debugDescription }
}

/// Splices raw bytes into a body (for invalid UTF-8).
func body(_ before: String, _ raw: [UInt8], _ after: String) -> [UInt8] {
    Array(before.utf8) + raw + Array(after.utf8)
}

@Suite struct TensorDecoderTests {
    // MARK: Tensors that decode

    static let tensors: [TensorCase] = [
        TensorCase(json: #"{"p":[[1,2,3],[4,5,6]]}"#, shape: [2, 3], data: [1, 2, 3, 4, 5, 6]),
        TensorCase(json: #"{"p":[1.5]}"#, shape: [1], data: [1.5]),
        TensorCase(json: #"{"p":2.5}"#, shape: [], data: [2.5]),
        TensorCase(json: #"{"p":[]}"#, shape: [0], data: []),
        TensorCase(json: #"{"p":[[]]}"#, shape: [1, 0], data: []),
        TensorCase(json: #"{"p":[[],[]]}"#, shape: [2, 0], data: []),
        TensorCase(json: #"{"p":[[[]]]}"#, shape: [1, 1, 0], data: []),
        TensorCase(json: #"{"p":[[[1],[2]],[[3],[4]]]}"#, shape: [2, 2, 1], data: [1, 2, 3, 4]),
        TensorCase(json: " \t\r\n{ \"p\" :\n[ [ 1 ,2 ] , [3, 4\t] ] }\r\n ", shape: [2, 2], data: [1, 2, 3, 4]),
        TensorCase(json: #"{"p":[0,-0,0.5,-1.25e2,1E2,1e+2,1e-2,123456789012]}"#, shape: [8],
                   data: [0, -0.0, 0.5, -125, 100, 100, 0.01, 123_456_789_012]),
        TensorCase(json: #"{"p":[1e-400,-1e-400,4.9406564584124654e-324]}"#, shape: [3],
                   data: [0, -0.0, .leastNonzeroMagnitude]),
        TensorCase(json: #"{"p":[1.7976931348623157e308,9007199254740993,0.1]}"#, shape: [3],
                   data: [.greatestFiniteMagnitude, 9_007_199_254_740_992, 0.1]),
        TensorCase(json: #"{"p":{"shape":[2,3],"data":[1,2,3,4,5,6]}}"#, shape: [2, 3], data: [1, 2, 3, 4, 5, 6]),
        TensorCase(json: #"{"p":{"data":[1,2,3,4,5,6],"shape":[3,2],"datatype":"FP32","name":"x","parameters":{"a":[1,{"b":null}],"c":"d"}}}"#,
                   shape: [3, 2], data: [1, 2, 3, 4, 5, 6]),
        TensorCase(json: #"{"p":{"shape":[2,2],"data":[[1,2],[3,4]]}}"#, shape: [2, 2], data: [1, 2, 3, 4]),
        TensorCase(json: #"{"p":{"shape":[],"data":7}}"#, shape: [], data: [7]),
        TensorCase(json: #"{"p":{"shape":[2.0e0],"data":[1,2],"datatype":null}}"#, shape: [2], data: [1, 2]),
        TensorCase(json: #"{"p":{"shape":[0,3],"data":[]}}"#, shape: [0, 3], data: []),
        TensorCase(json: #"{"\u0070":[1]}"#, shape: [1], data: [1]),
    ]

    @Test("a tensor decodes to its shape and row-major data", arguments: tensors)
    func tensorDecodes(_ example: TensorCase) throws {
        let decoded = try #require(tensor(decode(example.json)))
        #expect(decoded.shape == example.shape)
        #expect(decoded.data.map(\.bitPattern) == example.data.map(\.bitPattern))
    }

    @Test func membersOtherThanTensorsDecodeToTheirValues() throws {
        let json = #"{"reduction":"mean","from_logits":true,"x":false,"weight":null,"\u0070redictions":1}"#
        let members = try decode(json).get()
        #expect(members["reduction"] == .string("mean"))
        #expect(members["from_logits"] == .bool(true))
        #expect(members["x"] == .bool(false))
        #expect(members["weight"] == .null)
        #expect(members["predictions"] == .tensor(Tensor(1)))
        #expect(members.count == 5)
    }

    @Test func stringEscapesAndUTF8AreDecoded() throws {
        let json = #"{"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC\ud83d\ude00é€😀"}"#
        let members = try decode(json).get()
        #expect(members["s"] == .string("a\"b\\c/d\u{8}\u{c}\n\r\té€😀é€😀"))
    }

    @Test func anEmptyObjectHasNoMembers() throws {
        #expect(try decode("{}").get().isEmpty)
    }

    // MARK: Malformed JSON: a 400 at the first offending byte

    static let malformed: [MalformedCase] = [
        MalformedCase("", 0, "the body is empty"),
        MalformedCase("   ", 3, "unexpected end of input"),
        MalformedCase("{", 1, "unexpected end of input"),
        MalformedCase(#"{"a":1"#, 6, "unexpected end of input"),
        MalformedCase(#"{"a":[1.5"#, 9, "unexpected end of input"),
        MalformedCase(#"{"a":"abc"#, 9, "unexpected end of input"),
        MalformedCase(#"{"a":"\u00"#, 10, "unexpected end of input"),
        MalformedCase(#"{"a":nul"#, 8, "unexpected end of input"),
        MalformedCase(#"{"a":1e"#, 7, "unexpected end of input"),
        MalformedCase(#"{"a":1,}"#, 7, "trailing comma before '}'"),
        MalformedCase(#"{"a":[1,]}"#, 8, "trailing comma before ']'"),
        MalformedCase(#"{'a':1}"#, 1, "expected a member name or '}'"),
        MalformedCase(#"{1:2}"#, 1, "expected a member name or '}'"),
        MalformedCase(#"{"a":1,'b':2}"#, 7, "expected a member name"),
        MalformedCase(#"{"a":'x'}"#, 5, "expected a value"),
        // Not NaN or Infinity after all: the error of their first byte.
        MalformedCase(#"{"a":None}"#, 5, "expected a value"),
        MalformedCase(#"{"a":Inf}"#, 5, "expected a value"),
        MalformedCase(#"{"a":[1,-Inf]}"#, 9, "expected a digit after '-'"),
        MalformedCase(#"{"a":-Nan}"#, 6, "expected a digit after '-'"),
        MalformedCase(#"{"a":nan}"#, 6, "invalid literal (expected 'null')"),
        MalformedCase(#"{"a":Na"#, 5, "expected a value"),
        MalformedCase(#"{"a":[-Infinit"#, 7, "expected a digit after '-'"),
        MalformedCase(#"{"a":TRUE}"#, 5, "expected a value"),
        MalformedCase(#"{"a":01}"#, 6, "leading zeros are not allowed"),
        MalformedCase(#"{"a":[-01]}"#, 8, "leading zeros are not allowed"),
        MalformedCase(#"{"a":+1}"#, 5, "expected a value"),
        MalformedCase(#"{"a":.5}"#, 5, "expected a value"),
        MalformedCase(#"{"a":-}"#, 6, "expected a digit after '-'"),
        MalformedCase(#"{"a":1.}"#, 7, "expected a digit after '.'"),
        MalformedCase(#"{"a":[1.e5]}"#, 8, "expected a digit after '.'"),
        MalformedCase(#"{"a":1e}"#, 7, "expected a digit in the exponent"),
        MalformedCase(#"{"a":[1e+]}"#, 9, "expected a digit in the exponent"),
        MalformedCase(#"{"a":1x}"#, 6, "expected ',' or '}'"),
        MalformedCase(#"{"a":[1 2]}"#, 8, "expected ',' or ']'"),
        MalformedCase(#"{"a":[1,2]]"#, 10, "expected ',' or '}'"),
        MalformedCase(#"{"a":[1}"#, 7, "expected ',' or ']'"),
        MalformedCase(#"{"a":tru}"#, 8, "invalid literal (expected 'true')"),
        MalformedCase(#"{"a":fals"}"#, 9, "invalid literal (expected 'false')"),
        MalformedCase(#"{"a" 1}"#, 5, "expected ':'"),
        MalformedCase(#"{"a":1,"b"}"#, 10, "expected ':'"),
        MalformedCase(#"{"a":1}x"#, 7, "unexpected data after the top-level value"),
        MalformedCase(#"{"a":1} {}"#, 8, "unexpected data after the top-level value"),
        MalformedCase("{\"a\":\u{c}1}", 5, "expected a value"),  // form feed is not JSON whitespace
        MalformedCase(body(#"{"a":"x"#, [0x01], #""}"#), 7, "unescaped control character in a string"),
        MalformedCase("{\"a\":\"\t\"}", 6, "unescaped control character in a string"),
        MalformedCase(#"{"a":"\x"}"#, 7, "invalid escape in a string"),
        MalformedCase(#"{"a":"\'"}"#, 7, "invalid escape in a string"),
        MalformedCase(#"{"a":"\u12G4"}"#, 10, "expected a hex digit in a \\u escape"),
        MalformedCase(#"{"a":"\ud800"}"#, 6, "lone surrogate in a \\u escape"),
        MalformedCase(#"{"a":"\ud800x"}"#, 6, "lone surrogate in a \\u escape"),
        MalformedCase(#"{"a":"\ud800\n"}"#, 6, "lone surrogate in a \\u escape"),
        MalformedCase(#"{"a":"\ud800\u0041"}"#, 6, "lone surrogate in a \\u escape"),
        MalformedCase(#"{"a":"\uDBFF\uDBFF"}"#, 6, "lone surrogate in a \\u escape"),
        MalformedCase(#"{"a":"\udc00"}"#, 6, "lone surrogate in a \\u escape"),
        MalformedCase(#"{"\u0070":"x\uDFFF"}"#, 12, "lone surrogate in a \\u escape"),
        MalformedCase(body(#"{"a":""#, [0x80], #""}"#), 6, "invalid UTF-8"),
        MalformedCase(body(#"{"a":""#, [0xC0, 0xAF], #""}"#), 6, "invalid UTF-8"),  // overlong '/'
        MalformedCase(body(#"{"a":""#, [0xC1, 0xBF], #""}"#), 6, "invalid UTF-8"),  // overlong
        MalformedCase(body(#"{"a":""#, [0xE0, 0x80, 0xAF], #""}"#), 7, "invalid UTF-8"),  // overlong
        MalformedCase(body(#"{"a":""#, [0xF0, 0x8F, 0xBF, 0xBF], #""}"#), 7, "invalid UTF-8"),  // overlong
        MalformedCase(body(#"{"a":""#, [0xED, 0xA0, 0x80], #""}"#), 7, "invalid UTF-8"),  // U+D800
        MalformedCase(body(#"{"a":""#, [0xED, 0xBF, 0xBF], #""}"#), 7, "invalid UTF-8"),  // U+DFFF
        MalformedCase(body(#"{"a":""#, [0xF4, 0x90, 0x80, 0x80], #""}"#), 7, "invalid UTF-8"),  // U+110000
        MalformedCase(body(#"{"a":""#, [0xF5, 0x80, 0x80, 0x80], #""}"#), 6, "invalid UTF-8"),
        MalformedCase(body(#"{"a":""#, [0xFF], #""}"#), 6, "invalid UTF-8"),
        MalformedCase(body(#"{"a":""#, [0xE2, 0x82], #""}"#), 8, "invalid UTF-8"),  // truncated €
        MalformedCase(body(#"{"a":"x"#, [0xF0, 0x9F, 0x98], #"y"}"#), 10, "invalid UTF-8"),  // truncated 😀
        MalformedCase(body(#"{""#, [0xC3], #"":1}"#), 3, "invalid UTF-8"),  // in a member name
        MalformedCase(body(#"{"a":""#, [0xE2], ""), 7, "unexpected end of input"),
        MalformedCase(body(#"{"a":"#, [0xC3, 0xA9], "}"), 5, "expected a value"),  // UTF-8 outside a string
        MalformedCase([0xEF, 0xBB, 0xBF] + Array("{}".utf8), 0, "expected a value"),  // RFC 8259 §8.1: no BOM
        MalformedCase(#"{"a":[1,-]}"#, 9, "expected a digit after '-'"),
        MalformedCase(#"{"a":[1,"x",]}"#, 12, "trailing comma before ']'"),  // 400 wins over the 422 before it
        MalformedCase(#"[1,2"#, 4, "unexpected end of input"),
        MalformedCase(#"{"a":[1,2]}]"#, 11, "unexpected data after the top-level value"),
        MalformedCase("{\"a\":" + String(repeating: "[", count: 64), 68, "nesting deeper than 64 levels"),
        MalformedCase("{\"a\":{\"shape\":[1],\"parameters\":" + String(repeating: "{\"b\":", count: 63) + "1",
                      341, "nesting deeper than 64 levels"),
    ]

    @Test("malformed JSON is a 400 at the first offending byte", arguments: malformed)
    func malformedIsRejectedAtItsOffset(_ example: MalformedCase) {
        let expected = DecodeError.malformed(offset: example.offset, reason: example.reason)
        #expect(decode(example.bytes) == .failure(expected))
        #expect(decodeBytewise(example.bytes) == .failure(expected))
    }

    // MARK: NaN and Infinity: a 400 that says JSON has neither

    static let nonFinite: [(json: String, offset: Int, token: String)] = [
        ("NaN", 0, "NaN"),
        (#"{"a":NaN}"#, 5, "NaN"), (#"{"a":-NaN}"#, 5, "-NaN"),
        (#"{"a":Infinity}"#, 5, "Infinity"), (#"{"a":-Infinity}"#, 5, "-Infinity"),
        (#"{"a":[NaN]}"#, 6, "NaN"), (#"{"a":[-Infinity]}"#, 6, "-Infinity"),
        (#"{"a":[1.5, NaN]}"#, 11, "NaN"), (#"{"a":[1.5, -Infinity, 2]}"#, 11, "-Infinity"),
        (#"{"a":[[1.5, 2], [Infinity, 1]]}"#, 17, "Infinity"),
        (#"{"a":{"shape":[1],"data":[NaN]}}"#, 26, "NaN"),
        // Inside a long run (the short-number reader's path, then the careful scanner's).
        (#"{"a":[1.5, -Infinity"# + String(repeating: ", 2.5", count: 20) + "]}", 11, "-Infinity"),
        (#"{"a":[1.5, NaN"# + String(repeating: ", 2.5", count: 20) + "]}", 11, "NaN"),
        // After a 422 (the syntax is still checked).
        (#"{"a":[1, "x", NaN]}"#, 14, "NaN"),
    ]

    @Test("NaN, -NaN, Infinity and -Infinity (as Python's json.dumps writes them) are a 400 at their first byte that says JSON has none and what to do",
          arguments: nonFinite)
    func nonFiniteNumbersAreNamed(_ example: (json: String, offset: Int, token: String)) {
        let expected = DecodeError.malformed(offset: example.offset, reason: TensorDecoder.nonFiniteReason(example.token))
        let bytes = Array(example.json.utf8)
        for split in 0...bytes.count {
            #expect(decode(bytes, splits: [split]) == .failure(expected), "split at \(split)")
        }
        #expect(decodeBytewise(bytes) == .failure(expected))
    }

    @Test func theNonFiniteMessageSaysJSONHasNoneAndHowToSendTheData() {
        #expect(DecodeError.malformed(offset: 5, reason: TensorDecoder.nonFiniteReason("-Infinity")).description
                == "malformed JSON at byte 5: -Infinity is not JSON (RFC 8259 §6 has no NaN or Infinity): "
                + "replace or drop non-finite values before sending; "
                + "Python's json.dumps(..., allow_nan=False) raises on them instead of writing them")
    }

    @Test func nestingUpToTheLimitIsAllowed() {
        let deepest = "{\"a\":" + String(repeating: "[", count: 63) + "1" + String(repeating: "]", count: 63) + "}"
        #expect(tensor(decode(deepest), "a")?.shape == Array(repeating: 1, count: 63))
    }

    @Test func theNestingLimitIsAParameter() {
        #expect(decode(#"{"a":[[1]]}"#, maxDepth: 3).map { _ in 0 } == .success(0))
        #expect(decode(#"{"a":[[[1]]]}"#, maxDepth: 3) == .failure(.malformed(offset: 7, reason: "nesting deeper than 3 levels")))
    }

    @Test func theErrorDescriptionNamesTheOffset() {
        #expect(DecodeError.malformed(offset: 17, reason: "expected ',' or '}'").description
                == "malformed JSON at byte 17: expected ',' or '}'")
        #expect(DecodeError.invalid("p is bad").description == "p is bad")
    }

    // MARK: Valid JSON, invalid request: a 422 that says where

    static let invalid: [(String, String)] = [
        ("[1,2]", "the request body must be a JSON object"),
        ("1", "the request body must be a JSON object"),
        (#""x""#, "the request body must be a JSON object"),
        ("null", "the request body must be a JSON object"),
        (#"{"predictions":[[1,2,3],[4,5]]}"#, "predictions[1] has 2 elements but predictions[0] has 3"),
        (#"{"p":[[1,2],[3,4],[5]]}"#, "p[2] has 1 element but p[0] has 2"),
        (#"{"p":[[[1,2],[3,4]],[[5,6],[7]]]}"#, "p[1][1] has 1 element but p[0][0] has 2"),
        (#"{"p":[[[1,2],[3,4]],[[5,6]]]}"#, "p[1] has 1 element but p[0] has 2"),
        (#"{"p":[[],[1]]}"#, "p[1] has 1 element but p[0] has 0"),
        (#"{"p":[[1],[]]}"#, "p[1] has 0 elements but p[0] has 1"),
        (#"{"p":[[1],2]}"#, "p[1] is a number where an array is expected"),
        (#"{"p":[1,[2]]}"#, "p[1] is an array where a number is expected"),
        (#"{"p":[[[]],[1]]}"#, "p[1][0] is a number where an array is expected"),
        (#"{"p":[[],[[1]]]}"#, "p[1][0] is an array where a number is expected"),
        (#"{"p":[1,"a"]}"#, "p[1] is a string, not a number"),
        (#"{"p":[[1],[true]]}"#, "p[1][0] is true, not a number"),
        (#"{"p":[false]}"#, "p[0] is false, not a number"),
        (#"{"p":[null]}"#, "p[0] is null, not a number"),
        (#"{"p":[1,{}]}"#, "p[1] is an object, not a number"),
        (#"{"p":1e400}"#, "p = 1e400 is out of range for a double"),
        (#"{"p":[1,-1E+400]}"#, "p[1] = -1E+400 is out of range for a double"),
        (#"{"p":[[0],[1.8e308]]}"#, "p[1][0] = 1.8e308 is out of range for a double"),
        ("{\"p\":" + String(repeating: "9", count: 400) + "}",
         "p = " + String(repeating: "9", count: 40) + "… is out of range for a double"),
        (#"{"p":1,"p":2}"#, "duplicate member 'p'"),
        (#"{"p":1,"\u0070":[2]}"#, "duplicate member 'p'"),
        (#"{"p":{"shape":[2,3],"data":[1,2,3,4,5]}}"#, "p has shape [2, 3] (6 elements) but data has 5"),
        (#"{"p":{"shape":[2],"data":[[1],[2,3]]}}"#, "p.data[1] has 2 elements but p.data[0] has 1"),
        (#"{"p":{"shape":[2],"data":[1,1e999]}}"#, "p.data[1] = 1e999 is out of range for a double"),
        (#"{"p":{"shape":[],"data":1e999}}"#, "p.data = 1e999 is out of range for a double"),
        (#"{"p":{"shape":[2],"data":[1,2],"dtype":"FP32"}}"#, "unknown member 'dtype' in p"),
        (#"{"p":{"shape":[2],"shape":[2],"data":[1,2]}}"#, "duplicate member 'shape' in p"),
        (#"{"p":{"data":[1,2]}}"#, "p is a tensor object without 'shape'"),
        (#"{"p":{"shape":null,"data":[1,2]}}"#, "p is a tensor object without 'shape'"),
        (#"{"p":{"shape":[2]}}"#, "p is a tensor object without 'data'"),
        (#"{"p":{}}"#, "p is a tensor object without 'shape'"),
        (#"{"p":{"shape":[1.5],"data":[1]}}"#, "p.shape[0] = 1.5 is not a non-negative integer"),
        (#"{"p":{"shape":[2,-1],"data":[]}}"#, "p.shape[1] = -1 is not a non-negative integer"),
        (#"{"p":{"shape":[1e300],"data":[]}}"#, "p.shape[0] = 1e+300 is not a non-negative integer"),
        (#"{"p":{"shape":[[2]],"data":[1,2]}}"#, "p.shape must be an array of non-negative integers"),
        (#"{"p":{"shape":2,"data":[1,2]}}"#, "p.shape must be an array of non-negative integers"),
        (#"{"p":{"shape":["2"],"data":[1,2]}}"#, "p.shape[0] is a string, not a number"),
        (#"{"p":{"shape":[2],"data":"ab"}}"#, "p.data must be a number or an array of numbers"),
        (#"{"p":{"shape":[2],"data":{"a":1}}}"#, "p.data must be a number or an array of numbers"),
        (#"{"p":{"shape":[2],"data":[1,2],"datatype":5}}"#, "p.datatype must be a string"),
        (#"{"p":{"shape":[2],"data":[1,2],"name":[]}}"#, "p.name must be a string"),
        (#"{"p":{"shape":[4294967296,4294967296],"data":[]}}"#,
         "p has shape [4294967296, 4294967296], which has too many elements"),
        ("{\"p\":[0." + String(repeating: "0", count: 5000) + "1]}", "p[0] is a number longer than 4096 bytes"),
        ("{\"" + String(repeating: "k", count: 4097) + "\":1}", "a member name is longer than 4096 bytes"),
        ("{\"s\":\"" + String(repeating: "é", count: 2049) + "\"}", "s is a string longer than 4096 bytes"),
        (#"{"p":[1,"x"],"q":[[1],[2,3]]}"#, "p[1] is a string, not a number"),  // the first problem is reported
    ]

    @Test("valid JSON that is not a valid request is a 422 that says where", arguments: invalid)
    func invalidRequestIsRejectedWithItsMessage(_ json: String, _ message: String) {
        #expect(decode(json) == .failure(.invalid(message)))
        #expect(decodeBytewise(Array(json.utf8)) == .failure(.invalid(message)))
    }

    @Test func aNumberOfExactlyTheLengthLimitIsAccepted() throws {
        let number = "0." + String(repeating: "0", count: 4093) + "1"  // 4096 bytes
        #expect(tensor(decode("{\"p\":[" + number + "]}"))?.data == [0])
    }

    /// Bodies around a `maxNumberLength` of 8, and what each gives: a number
    /// cut by a chunk boundary is carried over (its bytes while it is within
    /// the limit, its shape for the grammar past it) and read as if whole.
    static let carried: [(json: String, result: Result<[Double], DecodeError>)] = [
        (#"{"p":[1.234567,-0.5e-3]}"#, .success([1.234567, -0.0005])),  // 8 bytes: within the limit
        (#"{"p":[1.2345678]}"#, .failure(.invalid("p[0] is a number longer than 8 bytes"))),
        (#"{"p":[-0.000000000000001e+000000005,2]}"#, .failure(.invalid("p[0] is a number longer than 8 bytes"))),
        // Past the limit, the grammar still reads every byte: its error is a 400 at that byte.
        (#"{"p":[1234567890123.e5]}"#, .failure(.malformed(offset: 20, reason: "expected a digit after '.'"))),
        (#"{"p":[12345678901e+-1]}"#, .failure(.malformed(offset: 19, reason: "expected a digit in the exponent"))),
        (#"{"p":[-0.00000000000000-1]}"#, .failure(.malformed(offset: 23, reason: "expected ',' or ']'"))),
        (#"{"p":[000000000000]}"#, .failure(.malformed(offset: 7, reason: "leading zeros are not allowed"))),
        (#"{"p":[1,-NaN]}"#, .failure(.malformed(offset: 8, reason: TensorDecoder.nonFiniteReason("-NaN")))),
        (#"{"p":[123456789012345."#, .failure(.malformed(offset: 22, reason: "unexpected end of input"))),
        (#"{"p":[1.5e"#, .failure(.malformed(offset: 10, reason: "unexpected end of input"))),
    ]

    @Test("a number cut by a chunk boundary reads as if whole: its value, its length limit, its errors at their bytes",
          arguments: carried)
    func carriedNumbersReadAsIfWhole(_ example: (json: String, result: Result<[Double], DecodeError>)) {
        let bytes = Array(example.json.utf8)
        let expected = example.result.map { [$0] }
        func data(_ result: Result<[String: JSONMember], DecodeError>) -> Result<[[Double]], DecodeError> {
            result.map { _ in [tensor(result)?.data ?? []] }
        }
        #expect(data(decode(bytes, maxNumberLength: 8)) == expected)
        for split in 0...bytes.count {
            #expect(data(decode(bytes, splits: [split], maxNumberLength: 8)) == expected, "split at \(split)")
        }
        #expect(data(decode(bytes, splits: Array(0...bytes.count), maxNumberLength: 8)) == expected, "byte by byte")
    }

    @Test func stringsThatAreOnlyCheckedHaveNoLengthLimit() {
        let long = String(repeating: "x", count: 10_000)
        let json = #"{"p":{"shape":[1],"data":[1],"name":"\#(long)","parameters":{"\#(long)":"\#(long)"}}}"#
        #expect(tensor(decode(json))?.data == [1])
    }

    @Test func aKeptStringOfExactlyTheLengthLimitIsAccepted() throws {
        let text = String(repeating: "é", count: 2048)  // 4096 bytes
        #expect(try decode("{\"s\":\"\(text)\"}").get()["s"] == .string(text))
    }

    @Test(arguments: [("12345678", 12_345_678), ("00000000", 0), ("99999999", 99_999_999), ("09080706", 9_080_706),
                      ("1234567a", nil), ("/2345678", nil), ("1234567:", nil), ("1234 678", nil), ("-1234567", nil),
                      ("\u{7f}2345678", nil)] as [(String, UInt64?)])
    func eightDigitsAreReadAtOnceOnlyWhenAllAreDigits(_ text: String, _ expected: UInt64?) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBufferPointer { NumberScanner.eightDigits($0.baseAddress!) } == expected)
    }

    // MARK: Chunking never changes the result

    static var documents: [[UInt8]] {
        tensors.map { Array($0.json.utf8) } + malformed.map(\.bytes) + invalid.prefix(30).map { Array($0.0.utf8) }
            + [Array(#"{"s":"a\"b\u00e9\ud83d\ude00é€😀","n":[[1.25e-3,-0.0],[12345678901234567890123,5e-324]],"b":true}"#.utf8)]
    }

    @Test func everySplitIntoTwoChunksGivesTheSameResult() {
        for document in Self.documents {
            let whole = decode(document)
            for split in 0...document.count {
                let result = decode(document, splits: [split])
                if result != whole {
                    Issue.record("split at \(split) of \(String(decoding: document, as: UTF8.self).debugDescription): \(result) ≠ \(whole)")
                    break
                }
            }
        }
    }

    @Test func everySplitIntoThreeChunksGivesTheSameResult() {
        let document = Array(#"{"p":{"shape":[2,2],"data":[[-1.5e-3,2],[30,4E1]]},"r":"m\u00e9an","\u0078":[[]]}"#.utf8)
        let whole = decode(document)
        #expect(tensor(whole)?.data == [-1.5e-3, 2, 30, 40])
        for first in 0...document.count {
            for second in first...document.count {
                let result = decode(document, splits: [first, second])
                guard result == whole else {
                    Issue.record("splits \(first), \(second): \(result)")
                    return
                }
            }
        }
    }

    @Test func aLargeTensorFedInRandomChunksMatchesTheWholeDocument() {
        var random = SplitMix64(seed: 42)
        var text = #"{"p":["#
        var expected: [Double] = []
        for row in 0..<200 {
            text += row == 0 ? "[" : ",["
            for column in 0..<25 {
                let value = Double(Int64.random(in: -1_000_000_000...1_000_000_000, using: &random)) / 1e8
                expected.append(value)
                text += (column == 0 ? "" : ", ") + "\(value)"
            }
            text += "]"
        }
        text += "]}"
        let document = Array(text.utf8)
        for _ in 0..<50 {
            var splits = (0..<Int.random(in: 1...200, using: &random)).map { _ in Int.random(in: 0...document.count, using: &random) }
            splits.sort()
            let decoded = tensor(decode(document, splits: splits))
            #expect(decoded?.shape == [200, 25])
            #expect(decoded?.data == expected)
        }
    }

    @Test func aBodyLengthHintChangesNothingButSpeed() {
        for document in Self.documents {
            #expect(decode(document, bodyLength: document.count) == decode(document))
            #expect(decode(document, splits: [document.count / 2], bodyLength: 1) == decode(document))
        }
    }

    // MARK: After an error

    @Test func feedKeepsThrowingTheFirstMalformedError() {
        var decoder = TensorDecoder()
        let first = Array(#"{"a":x"#.utf8)
        #expect(throws: DecodeError.malformed(offset: 5, reason: "expected a value")) {
            try feed(&decoder, first)
        }
        #expect(throws: DecodeError.malformed(offset: 5, reason: "expected a value")) {
            try feed(&decoder, Array("}".utf8))
        }
        #expect(throws: DecodeError.malformed(offset: 5, reason: "expected a value")) { try decoder.finish() }
    }
}
