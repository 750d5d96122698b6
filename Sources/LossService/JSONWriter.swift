import Losses

/// Writes response JSON, strict RFC 8259, into one reused byte buffer.
///
/// Doubles are written in the shortest form that reads back to the same bits
/// (Swift's own shortest-round-trip printer: `0.1`, `1e-05`, `1e+16`, `-0.0`;
/// all valid JSON numbers), and a non-finite value as `null`, so the body is
/// always strict JSON. Numbers go straight into the buffer with no String per
/// element, which matters for a `none` result of a million losses.
struct JSONWriter: TextOutputStream {
    /// The JSON written so far.
    private(set) var bytes: [UInt8] = []
    /// How many non-finite numbers were written as `null`.
    private(set) var nullCount = 0

    /// A writer whose buffer first holds `capacity` bytes.
    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Starts over, keeping the buffer's storage for reuse.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        nullCount = 0
    }

    /// Appends JSON text as it is (punctuation, literals, pre-built fragments).
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a string value, quoted and escaped (RFC 8259 §7).
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                // The other control characters must be escaped as \u00XX.
                raw("\\u00")
                bytes.append(UInt8(ascii: "0") + (byte >> 4))
                let low = byte & 0xF
                bytes.append(low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10)
            default:
                bytes.append(byte)  // UTF-8 passes through: a String is valid UTF-8
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `"name":`.
    mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends a number in its shortest round-trip form, or `null` when it is
    /// NaN or infinite (JSON has no such numbers).
    mutating func number(_ value: Double) {
        guard value.isFinite else {
            nullCount += 1
            return raw("null")
        }
        value.write(to: &self)
    }

    /// Appends `,"nonfinite":…` for the non-finite values of `tensor`: a
    /// kind for a 0-d tensor, else a list of kinds in row-major order. Only
    /// called when there is one (rare), so this second pass costs a normal
    /// answer nothing.
    private mutating func nonfinite(_ tensor: Tensor) {
        raw(",\"nonfinite\":")
        guard !tensor.shape.isEmpty else { return nonfiniteKind(tensor.data.first ?? .nan) }
        bytes.append(UInt8(ascii: "["))
        var first = true
        for value in tensor.data where !value.isFinite {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            nonfiniteKind(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func nonfiniteKind(_ value: Double) {
        if value.isNaN { raw("\"nan\"") } else if value > 0 { raw("\"inf\"") } else { raw("\"-inf\"") }
    }

    /// Appends an integer.
    mutating func integer(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // Digits come out least significant first: write them into a fixed
        // 20-byte tuple (UInt64.max has 20 digits), then copy in order.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = 20
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: buffer[start..<20])
        }
    }

    /// Appends `[a,b,…]` of integers (a shape).
    mutating func integers(_ values: [Int]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            integer(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Appends a tensor: a bare number when it is 0-d, else nested arrays in its shape.
    mutating func tensor(_ tensor: Tensor) {
        let shape = tensor.shape
        guard !shape.isEmpty else { return number(tensor.data.first ?? .nan) }
        bytes.reserveCapacity(bytes.count + tensor.count * 24 + 16)
        tensor.data.withUnsafeBufferPointer { data in
            var next = 0
            nested(shape, level: 0, data, &next)
        }
    }

    private mutating func nested(_ shape: [Int], level: Int, _ data: UnsafeBufferPointer<Double>, _ next: inout Int) {
        bytes.append(UInt8(ascii: "["))
        let size = shape[level]
        if level == shape.count - 1 {
            // The innermost rows: the bulk of a large tensor, written in one tight loop.
            for index in 0..<size {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                number(data[next])
                next += 1
            }
        } else {
            for index in 0..<size {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                nested(shape, level: level + 1, data, &next)
            }
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The 200 body of a loss route:
    /// `{"loss":…,"reduction":"mean","shape":[…],"count":N,"weight_sum":X}`,
    /// and `"nonfinite":…` after `loss` when any loss value is not finite
    /// (written as `null`, which alone cannot tell NaN from infinity): the
    /// kind, `"nan"`, `"inf"` or `"-inf"`, for a 0-d loss; for an array, a list
    /// with one kind per `null` in `loss`, in row-major order. `reduction`
    /// names the one the request asked for when it is not one of
    /// `result.reduction`'s (KL's `batchmean`).
    static func lossResponse(_ result: LossResult, reduction: String? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: result.loss.count * 24 + 128)
        writer.raw("{\"loss\":")
        writer.tensor(result.loss)
        if writer.nullCount > 0 { writer.nonfinite(result.loss) }
        writer.raw(",\"reduction\":")
        writer.string(reduction ?? result.reduction.rawValue)
        writer.raw(",\"shape\":")
        writer.integers(result.loss.shape)
        writer.raw(",\"count\":")
        writer.integer(result.count)
        writer.raw(",\"weight_sum\":")
        writer.number(result.weightSum)
        writer.raw("}")
        return writer.bytes
    }

    // MARK: TextOutputStream

    /// Part of `TextOutputStream`; the standard library's number printers call
    /// `_writeASCII` below instead, which is what keeps them allocation-free.
    mutating func write(_ string: String) {
        bytes.append(contentsOf: string.utf8)
    }

    /// The standard library hands its formatted digits here from a stack
    /// buffer (no String is made). Same text as `description`.
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: buffer)
    }
}
