import Testing
@testable import LossService

@Suite struct OIPDatatypeTests {
    private func convert(_ datatype: OIPDatatype, _ bytes: [UInt8]) -> [Double] {
        let count = bytes.count / datatype.size
        var out = [Double](repeating: -1, count: count)
        bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { datatype.convert(raw.baseAddress!, count: count, into: $0.baseAddress!) }
        }
        return out
    }

    private func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    @Test("FP32 and FP64 widen exactly, whatever the alignment")
    func floats() {
        let singles: [Float] = [0.1, -3.5, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        var bytes: [UInt8] = [0xAA]  // misaligned on purpose
        bytes += littleEndian(singles.map(\.bitPattern))
        #expect(convert(.fp32, Array(bytes.dropFirst())) == singles.map(Double.init))
        let doubles = [0.1, -1e-310, 1e308]
        #expect(convert(.fp64, littleEndian(doubles.map(\.bitPattern))) == doubles)
    }

    @Test("FP16 and BF16 are read exactly: normal, subnormal, infinite")
    func halves() {
        // 1.0, -2.0, 65504 (largest half), 2^-24 (least subnormal), +inf
        #expect(convert(.fp16, littleEndian([UInt16(0x3C00), 0xC000, 0x7BFF, 0x0001, 0x7C00])) == [1, -2, 65504, 0x1p-24, .infinity])
        #expect(convert(.fp16, littleEndian([UInt16(0x7E00)]))[0].isNaN)
        // BF16 is the top half of an FP32: 1.0, -0.5, 3.140625
        #expect(convert(.bf16, littleEndian([UInt16(0x3F80), 0xBF00, 0x4049])) == [1, -0.5, 3.140625])
    }

    @Test("integers and BOOL become their values")
    func integers() {
        #expect(convert(.int64, littleEndian([Int64(-100), 1 << 40])) == [-100, 0x1p40])
        #expect(convert(.int32, littleEndian([Int32(-7), 2_147_483_647])) == [-7, 2_147_483_647])
        #expect(convert(.int16, littleEndian([Int16(-32768)])) == [-32768])
        #expect(convert(.int8, [0xFF, 0x7F]) == [-1, 127])
        #expect(convert(.uint8, [0xFF, 0x00]) == [255, 0])
        #expect(convert(.bool, [0, 1, 2]) == [0, 1, 1])
    }

    @Test("values take the FP types; targets take the integers and BOOL too")
    func roles() {
        #expect(OIPDatatype.allowed(for: .values) == [.fp64, .fp32, .fp16, .bf16])
        #expect(OIPDatatype.allowed(for: .targets).count == OIPDatatype.allCases.count)
    }
}
