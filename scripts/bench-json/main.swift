// Throughput of TensorDecoder and JSONWriter, against Foundation on the same
// data in the same run. Built and run by scripts/bench-json.sh (release mode).

import CFastFloat
import Foundation
import Losses

/// A float32-looking number with 8 significant digits: 0.12345678, -1.2345678e-05, 12.345678.
func number(_ random: inout SplitMix64, into text: inout [UInt8]) {
    let r = random.next()
    if r & 1 == 1 { text.append(UInt8(ascii: "-")) }
    var digits: [UInt8] = [UInt8(ascii: "1") + UInt8((r >> 1) % 9)]
    var rest = r >> 8
    for _ in 0..<7 {
        digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
        rest /= 10
    }
    let exponent = Int((r >> 40) % 9) - 6  // 1e-6 ... 1e2
    switch exponent {
    case 0...2:
        text += digits[0...exponent]
        text.append(UInt8(ascii: "."))
        text += digits[(exponent + 1)...]
    case -1:
        text += Array("0.".utf8) + digits
    default:
        text.append(digits[0])
        text.append(UInt8(ascii: "."))
        text += digits[1...]
        text += Array("e-0\(-exponent)".utf8)
    }
}

func payload(megabytes: Int) -> [UInt8] {
    var random = SplitMix64(seed: 2026)
    var text = Array(#"{"predictions":["#.utf8)
    var row = 0
    while text.count < megabytes << 20 {
        text += Array((row == 0 ? "[" : ",[").utf8)
        for column in 0..<1000 {
            if column > 0 { text += Array(", ".utf8) }
            number(&random, into: &text)
        }
        text.append(UInt8(ascii: "]"))
        row += 1
    }
    text += Array(#"],"reduction":"mean"}"#.utf8)
    return text
}

/// CPU seconds of this thread: the machine is shared, so wall time would
/// mostly measure the neighbours.
func cpuNow() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = cpuNow()
    try body()
    return cpuNow() - start
}

let megabytes = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 70
let rounds = 5
let body = payload(megabytes: megabytes)
let size = Double(body.count) / 1e6
print("payload: \(body.count) bytes, 64 KiB chunks")

var elements = 0
var ours: [Double] = []
var oursHinted: [Double] = []
for round in 0..<(2 * rounds) {
    let time = try seconds {
        var decoder = round % 2 == 0 ? TensorDecoder() : TensorDecoder(bodyLength: body.count)
        try body.withUnsafeBytes { all in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + 65536)
                try decoder.feed(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
        let members = try decoder.finish()
        guard case .tensor(let tensor)? = members["predictions"] else { fatalError("no tensor") }
        elements = tensor.count
    }
    if round % 2 == 0 { ours.append(time) } else { oursHinted.append(time) }
}
ours.sort()
oursHinted.sort()
print(String(format: "TensorDecoder:      best %.0f MB/s, median %.0f MB/s of CPU time (%d numbers, %d rounds)",
             size / ours[0], size / ours[rounds / 2], elements, rounds))
print(String(format: "  with bodyLength:  best %.0f MB/s, median %.0f MB/s of CPU time",
             size / oursHinted[0], size / oursHinted[rounds / 2]))
if CommandLine.arguments.contains("decoder") { exit(0) }

// Conversion alone, for the choice of number parser: the same numbers, found
// by a plain scan (no JSON checks), converted by strtod and by fast_float.
func conversionOnly(_ convert: (UnsafePointer<CChar>, UnsafePointer<CChar>) -> Double) -> Double {
    var sum = 0.0
    body.withUnsafeBytes { raw in
        let p = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
        var i = 0
        let n = raw.count
        while i < n {
            let c = UInt8(bitPattern: p[i])
            if c == UInt8(ascii: "-") || c &- UInt8(ascii: "0") < 10 {
                var j = i + 1
                while j < n, UInt8(bitPattern: p[j]) != UInt8(ascii: ","), UInt8(bitPattern: p[j]) != UInt8(ascii: "]") { j += 1 }
                sum += convert(p + i, p + j)
                i = j
            } else {
                i += 1
            }
        }
    }
    return sum
}
var checksums: [Double] = []
for (name, convert) in [
    ("strtod", { (first: UnsafePointer<CChar>, _: UnsafePointer<CChar>) in strtod(first, nil) }),
    ("fast_float", { (first: UnsafePointer<CChar>, last: UnsafePointer<CChar>) in
        var value = 0.0
        _ = cff_parse_double(first, last, &value)
        return value
    }),
] as [(String, (UnsafePointer<CChar>, UnsafePointer<CChar>) -> Double)] {
    var times: [Double] = []
    for _ in 0..<3 { times.append(seconds { checksums.append(conversionOnly(convert)) }) }
    times.sort()
    print(String(format: "scan + %@ only:%@ best %.0f MB/s of CPU time", name, String(repeating: " ", count: 10 - name.count), size / times[0]))
}
precondition(Set(checksums).count == 1, "strtod and fast_float disagree")

let data = Data(body)
var foundation: [Double] = []
for _ in 0..<2 {
    foundation.append(try seconds {
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        precondition((object["predictions"] as! [[Any]]).count > 0)
    })
}
foundation.sort()
print(String(format: "JSONSerialization:  best %.0f MB/s of CPU time", size / foundation[0]))

// The writer: a `none` result of 10^6 losses.
var random = SplitMix64(seed: 7)
let losses = (0..<1_000_000).map { _ in Double(random.next() >> 11) * 0x1p-53 * 10 }
let result = LossResult(loss: try Tensor(shape: [1000, 1000], data: losses), reduction: .none, count: 1_000_000, weightSum: 1e6)
var written = 0
var writer: [Double] = []
for _ in 0..<rounds {
    writer.append(seconds { written = JSONWriter.lossResponse(result).count })
}
writer.sort()
var described: [Double] = []
for _ in 0..<rounds {
    described.append(seconds {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(written)
        for value in losses {
            bytes += value.description.utf8
            bytes.append(UInt8(ascii: ","))
        }
        precondition(bytes.count > 0)
    })
}
described.sort()
print(String(format: "JSONWriter:         %.1f ms for 10^6 doubles (%.0f MB/s); via Double.description: %.1f ms",
             writer[0] * 1e3, Double(written) / 1e6 / writer[0], described[0] * 1e3))
let check = try JSONSerialization.jsonObject(with: Data(JSONWriter.lossResponse(result))) as! [String: Any]
let back = (check["loss"] as! [[NSNumber]]).joined().map(\.doubleValue)


var misread = 0
for (a, b) in zip(back, losses) where a != b { misread += 1 }
print("JSONWriter output read back by JSONSerialization: \(misread) of \(losses.count) doubles not bit-identical (Foundation on Linux is not correctly rounded)")
let decodedBack = try {
    var decoder = TensorDecoder()
    try JSONWriter.lossResponse(result).withUnsafeBytes { try decoder.feed($0) }
    guard case .tensor(let t)? = try decoder.finish()["loss"] else { fatalError() }
    return t.data
}()
print("JSONWriter output read back by TensorDecoder: \(decodedBack == losses ? "bit-identical" : "MISMATCH")")
