// The kernels live in LossKernels; every file of this module uses its vector maths and sums.
@_exported import LossKernels
import CCPUFeatures
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LossKernelsAVX2

/// Which build of the losses' hot loops runs: the same source (LossKernels) compiled for
/// baseline x86-64 or for AVX2. Chosen once, at first use, from what the CPU supports;
/// both give the same losses bit for bit (LossesTests runs the golden fixtures through each).
public enum KernelPath: String, Sendable, CaseIterable {
    /// SSE2, two doubles per instruction: runs on every x86-64 CPU (and every other target).
    case baseline
    /// AVX2 (x86-64-v3), four doubles per instruction: only where the CPU has it.
    case avx2

    /// The environment variable that forces a path: `LOSSD_KERNELS=baseline` makes every loss
    /// take the baseline kernels even on an AVX2 CPU (`avx2` is honoured only where supported).
    public static let environmentVariable = "LOSSD_KERNELS"

    /// Whether this CPU can run the path.
    public var isSupported: Bool {
        switch self {
        case .baseline: true
        case .avx2: Self.cpuHasAVX2
        }
    }

    /// The paths this CPU can run, baseline first.
    public static var supported: [KernelPath] { allCases.filter(\.isSupported) }

    /// The path taken when nothing forces one: `avx2` where the CPU supports it, unless
    /// `LOSSD_KERNELS` names `baseline`.
    public static let detected: KernelPath = {
        if let forced = getenv(environmentVariable).map({ String(cString: $0) }),
           let path = KernelPath(rawValue: forced), path.isSupported {
            return path
        }
        return cpuHasAVX2 ? .avx2 : .baseline
    }()

    /// A path forced for the current task and its children (tests run the fixtures through each):
    /// `KernelPath.$forced.withValue(.baseline) { ... }`. Ignored where unsupported.
    @TaskLocal public static var forced: KernelPath?

    /// The path the losses take now.
    public static var current: KernelPath {
        if let forced, forced.isSupported { return forced }
        return detected
    }

    private static let cpuHasAVX2 = ccpufeatures_has_x86_64_v3()
}
