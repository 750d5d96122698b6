import Losses
import Testing

@testable import TensorJSON

/// `TensorDecoder.maxTensorBytes`: the request's numbers, 8 bytes each, all
/// tensors together, may not pass it; the number that would is a 413 at its
/// own byte, wherever the chunks split and whichever path read it. And
/// `maxMembers`, which bounds what the top-level object's members cost.
@Suite struct TensorDecoderLimitTests {
    /// The byte offset of the `index`-th (0-based) occurrence of `marker` in `json`.
    static func offset(of marker: String, in json: String, occurrence index: Int = 0) -> Int {
        var rest = json[...]
        var base = 0
        for _ in 0..<index {
            let found = rest.range(of: marker)!
            base += rest.utf8.distance(from: rest.startIndex, to: found.upperBound)
            rest = rest[found.upperBound...]
        }
        return base + rest.utf8.distance(from: rest.startIndex, to: rest.range(of: marker)!.lowerBound)
    }

    /// Decodes whole, split at every offset (with and without the body-length
    /// hint) and byte by byte: all must give `expected`.
    static func expectEverywhere(
        _ json: String, maxTensorBytes: Int, _ expected: Result<[String: JSONMember], DecodeError>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let bytes = Array(json.utf8)
        #expect(decode(bytes, maxTensorBytes: maxTensorBytes) == expected, sourceLocation: sourceLocation)
        for split in stride(from: 0, through: bytes.count, by: max(1, bytes.count / 300)) {
            #expect(decode(bytes, splits: [split], maxTensorBytes: maxTensorBytes) == expected,
                    "split at \(split)", sourceLocation: sourceLocation)
            #expect(decode(bytes, splits: [split], bodyLength: bytes.count, maxTensorBytes: maxTensorBytes) == expected,
                    "split at \(split), with the body length", sourceLocation: sourceLocation)
        }
        if bytes.count <= 4096 {
            #expect(decode(bytes, splits: Array(0...bytes.count), maxTensorBytes: maxTensorBytes) == expected,
                    "byte by byte", sourceLocation: sourceLocation)
        }
    }

    static func tooLarge(_ offset: Int, _ limit: Int) -> Result<[String: JSONMember], DecodeError> {
        .failure(.tooLarge(offset: offset, limit: limit))
    }

    @Test("a tensor of exactly maxTensorBytes / 8 numbers decodes; one number more is a 413 at that number's byte")
    func oneNumberPastTheLimit() throws {
        let fits = #"{"p":[1,2,3,4]}"#
        for limit in [32, 39] {
            let p = try #require(tensor(decode(Array(fits.utf8), maxTensorBytes: limit)))
            #expect(p.data == [1, 2, 3, 4])
        }
        let over = #"{"p":[1,2,3,4,5]}"#
        Self.expectEverywhere(over, maxTensorBytes: 32, Self.tooLarge(14, 32))
        Self.expectEverywhere(over, maxTensorBytes: 39, Self.tooLarge(14, 39))
        Self.expectEverywhere(#"{"p":[[1,2],[3,4],[5,6]]}"#, maxTensorBytes: 32, Self.tooLarge(19, 32))
    }

    @Test("the limit counts every tensor of the request together, scalars, shapes and tensor objects included")
    func allTensorsTogether() {
        Self.expectEverywhere(#"{"p":[1,2,3],"t":[4,5]}"#, maxTensorBytes: 32, Self.tooLarge(20, 32))
        let scalars = #"{"p":[1,2,3],"w":4,"x":5}"#
        Self.expectEverywhere(scalars, maxTensorBytes: 32, Self.tooLarge(Self.offset(of: "5", in: scalars), 32))
        // The shape's one number and the data's three fill 32 bytes; a fourth datum passes them.
        #expect(tensor(decode(Array(#"{"p":{"shape":[3],"data":[1,2,3]}}"#.utf8), maxTensorBytes: 32))?.data == [1, 2, 3])
        let object = #"{"p":{"shape":[4],"data":[1,2,3,4]}}"#
        Self.expectEverywhere(object, maxTensorBytes: 32, Self.tooLarge(Self.offset(of: "4]}", in: object), 32))
        let scalarData = #"{"p":{"shape":[1],"data":7},"q":8}"#
        Self.expectEverywhere(scalarData, maxTensorBytes: 16, Self.tooLarge(Self.offset(of: "8", in: scalarData), 16))
    }

    @Test("long runs of short numbers (the hot path) stop at the limit's number, whatever the batch boundaries",
          arguments: [1, 127, 128, 129, 255, 256, 257, 600])
    func shortNumberRuns(limitNumbers: Int) {
        let count = 600
        let json = #"{"p":["# + Array(repeating: "0", count: count).joined(separator: ",") + "]}"
        let limit = limitNumbers * 8
        if limitNumbers >= count {
            Self.expectEverywhere(json, maxTensorBytes: limit, decode(json))
        } else {
            // `{"p":[` is 6 bytes, then each number and its comma 2.
            Self.expectEverywhere(json, maxTensorBytes: limit, Self.tooLarge(6 + 2 * limitNumbers, limit))
        }
        // Python's spelling, rows of 10 joined by `], [` (the row-joining path).
        let rows = #"{"p": ["# + Array(repeating: "[" + Array(repeating: "0.5", count: 10).joined(separator: ", ") + "]",
                                           count: count / 10).joined(separator: ", ") + "]}"
        if limitNumbers >= count {
            Self.expectEverywhere(rows, maxTensorBytes: limit, decode(rows))
        } else {
            // `{"p": [[` is 8 bytes; a row and its `, ` 52; a number and its `, ` 5.
            let row = limitNumbers / 10, column = limitNumbers % 10
            Self.expectEverywhere(rows, maxTensorBytes: limit, Self.tooLarge(8 + row * 52 + column * 5, limit))
        }
    }

    @Test("long numbers (the careful scanner's path) stop at the limit's number too")
    func longNumberRuns() {
        let number = "0.12345678901234567"
        let json = #"{"p":["# + Array(repeating: number, count: 300).joined(separator: ", ") + "]}"
        Self.expectEverywhere(json, maxTensorBytes: 200 * 8, Self.tooLarge(6 + 200 * (number.count + 2), 200 * 8))
    }

    @Test("what comes first wins: a malformed number at the limit is a 400, an out-of-range one a 422, and after a 422 nothing counts")
    func precedence() {
        Self.expectEverywhere(#"{"p":[1,2,01]}"#, maxTensorBytes: 16,
                              .failure(.malformed(offset: 11, reason: "leading zeros are not allowed")))
        Self.expectEverywhere(#"{"p":[1,2,1e999]}"#, maxTensorBytes: 16,
                              .failure(.invalid("p[2] = 1e999 is out of range for a double")))
        // The 422 drops what was read and keeps no more numbers, so none can pass the limit.
        Self.expectEverywhere(#"{"p":[1,"x",3,4,5,6,7]}"#, maxTensorBytes: 16,
                              .failure(.invalid("p[1] is a string, not a number")))
    }

    @Test("the top-level object may have 64 members; the 65th is a 422 (a kept member costs far more than its JSON)")
    func memberLimit() {
        func body(_ count: Int) -> String {
            "{" + (0..<count).map { #""m\#($0)": \#($0)"# }.joined(separator: ", ") + "}"
        }
        guard case .success(let members) = decode(body(64)) else { return #expect(Bool(false), "64 members must decode") }
        #expect(members.count == 64 && members["m63"] == .tensor(Tensor(63)))
        Self.expectEverywhere(body(65), maxTensorBytes: TensorDecoder.defaultMaxTensorBytes,
                              .failure(.invalid("the request body has more than 64 members")))
        // Members of tensor objects and skipped objects do not count.
        let nested = #"{"p": {"shape": [1], "data": [1], "parameters": {"# + (0..<100).map { #""k\#($0)": 1"# }.joined(separator: ", ") + "}}}"
        #expect(tensor(decode(nested))?.data == [1])
    }

    @Test("the default limit is the default body limit, 128 MiB")
    func defaultLimit() {
        #expect(TensorDecoder().maxTensorBytes == 128 << 20)
        #expect(TensorDecoder.defaultMaxTensorBytes == 128 << 20)
    }

    @Test("a 413's detail names the number's byte and the limit")
    func description() {
        #expect(DecodeError.tooLarge(offset: 262_160, limit: 1 << 20).description
                == "the number at byte 262160 takes the request's tensors past the limit of 1048576 bytes "
                + "(8 bytes per number, all tensors together); send the data in smaller requests")
    }

    @Test("growing a tensor never copies more than 3/4 of the limit, nor reserves past it; nor does a large first reservation")
    func growthIsBoundedByTheLimit() {
        for maxCount in [1000, 100_000, 1_000_000, 3_000_001] {
            var data: [Double] = []
            var largestCopy = 0
            while data.count < maxCount {
                if data.count == data.capacity {
                    largestCopy = max(largestCopy, data.count)
                    TensorShapeTracker.grow(&data, toHold: data.count + 1, maxCount: maxCount)
                }
                // Fill to capacity (or the limit) at once: growth happens only when full.
                let room = min(data.capacity, maxCount) - data.count
                data.append(contentsOf: repeatElement(0, count: room))
            }
            #expect(largestCopy <= maxCount - maxCount / 4 + 512, "\(maxCount): copied \(largestCopy)")
            // malloc may round an allocation up by a page (512 doubles).
            #expect(data.capacity <= maxCount + 512, "\(maxCount): capacity \(data.capacity)")
        }
        // A reserve past 3/4 of the limit (a Content-Length of short numbers) is the
        // whole limit, so that filling it never needs a copy; a smaller one stays as asked.
        var tracker = TensorShapeTracker(maxDepth: 4)
        tracker.start(path: "p", reserve: 900_000, maxCount: 1_000_000)
        #expect(tracker.data.capacity >= 1_000_000 && tracker.data.capacity <= 1_000_512)
        tracker.start(path: "p", reserve: 700_000, maxCount: 1_000_000)
        #expect(tracker.data.capacity >= 700_000 && tracker.data.capacity <= 700_512)
        tracker.start(path: "p", reserve: 5_000_000, maxCount: 1_000_000)
        #expect(tracker.data.capacity <= 1_000_512)
    }
}
