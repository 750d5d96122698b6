/// A tensor datatype of the Open Inference Protocol (its "Tensor Data Types"
/// table) that lossd reads: each element converts exactly to a double, so a
/// loss of FP32 or INT64 tensors is the loss of the same values in FP64.
enum OIPDatatype: String, CaseIterable, Sendable {
    case fp64 = "FP64", fp32 = "FP32", fp16 = "FP16", bf16 = "BF16"
    case int64 = "INT64", int32 = "INT32", int16 = "INT16", int8 = "INT8", uint8 = "UINT8", bool = "BOOL"

    /// The datatypes of real values (predictions, weights).
    static let values: [OIPDatatype] = [.fp64, .fp32, .fp16, .bf16]
    /// Targets take real values, class indices and labels.
    static let targets: [OIPDatatype] = values + [.int64, .int32, .int16, .int8, .uint8, .bool]

    /// The datatypes a tensor of `role` accepts.
    static func allowed(for role: TensorRole) -> [OIPDatatype] {
        role == .values ? values : targets
    }

    /// Bytes per element in the binary tensor data extension (little-endian, BOOL one byte).
    var size: Int {
        switch self {
        case .fp64, .int64: return 8
        case .fp32, .int32: return 4
        case .fp16, .bf16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// Whether JSON data must be integral (and within the type's range).
    var isInteger: Bool {
        switch self {
        case .int64, .int32, .int16, .int8, .uint8: return true
        default: return false
        }
    }

    /// The range of an integer type as doubles (INT64's is ±2^63, which
    /// doubles hold exactly at the ends that matter).
    var integerRange: ClosedRange<Double> {
        switch self {
        case .int64: return -9_223_372_036_854_775_808.0...9_223_372_036_854_775_807.0
        case .int32: return -2_147_483_648...2_147_483_647
        case .int16: return -32768...32767
        case .int8: return -128...127
        case .uint8: return 0...255
        default: return -.infinity...(.infinity)
        }
    }

    /// Converts `count` little-endian elements at `source` (any alignment)
    /// into `destination`. Every conversion is exact: the half formats and
    /// FP32 widen without rounding, integers up to 2^53 are exact doubles
    /// (INT64 beyond that rounds to nearest, as `torch.tensor(..., dtype=float64)` does).
    ///
    /// Hot path of a binary request: one pass, no allocation, a switch per call not per element.
    func convert(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Double>) {
        switch self {
        case .fp64:
            for i in 0..<count {
                destination[i] = Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)))
            }
        case .fp32:
            for i in 0..<count {
                destination[i] = Double(Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))))
            }
        case .fp16:
            for i in 0..<count {
                destination[i] = OIPDatatype.half(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<count {
                let bits = UInt32(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))) << 16
                destination[i] = Double(Float(bitPattern: bits))
            }
        case .int64:
            for i in 0..<count {
                destination[i] = Double(Int64(littleEndian: source.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self)))
            }
        case .int32:
            for i in 0..<count {
                destination[i] = Double(Int32(littleEndian: source.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self)))
            }
        case .int16:
            for i in 0..<count {
                destination[i] = Double(Int16(littleEndian: source.loadUnaligned(fromByteOffset: i &* 2, as: Int16.self)))
            }
        case .int8:
            for i in 0..<count { destination[i] = Double(source.load(fromByteOffset: i, as: Int8.self)) }
        case .uint8:
            for i in 0..<count { destination[i] = Double(source.load(fromByteOffset: i, as: UInt8.self)) }
        case .bool:
            // NumPy writes a bool as one byte, 0 or 1; any other byte is true, as in C.
            for i in 0..<count { destination[i] = source.load(fromByteOffset: i, as: UInt8.self) == 0 ? 0 : 1 }
        }
    }

    /// An IEEE 754 binary16 value, exactly (every half is a double).
    static func half(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 == 0 ? 1 : -1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24  // subnormal: fraction · 2^-24
        case 0x1F: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction * 0x1p-10) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
