// The kernels live in LossKernels; every file of this module uses its vector maths and sums.
@_exported import LossKernels
import CCPUFeatures
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LossKernelsAVX2
import Synchronization

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

    /// The program's own choice, made once at start-up before any loss runs (lossd's
    /// `--kernels`): `.baseline` makes every loss take the baseline kernels, `.avx2` the AVX2
    /// ones where the CPU has them (else baseline), nil (the default) leaves it to `detected`
    /// and so to `LOSSD_KERNELS`. An atomic, not a variable, so safe from any thread; meant
    /// for start-up only (a loss running meanwhile may take both paths for its parts).
    public static func configure(_ path: KernelPath?) {
        configured.store(path.map { $0.isSupported ? $0.code : KernelPath.baseline.code } ?? 0, ordering: .relaxed)
    }

    /// What `configure` was given, as `code`; 0 for nothing.
    private static let configured = Atomic<UInt8>(0)

    private var code: UInt8 {
        switch self {
        case .baseline: 1
        case .avx2: 2
        }
    }

    /// A path forced for the current task and its children (tests run the fixtures through each):
    /// `KernelPath.$forced.withValue(.baseline) { ... }`. Ignored where unsupported.
    @TaskLocal public static var forced: KernelPath?

    /// The path the losses take now: `forced`, else what `configure` chose, else `detected`.
    public static var current: KernelPath {
        if let forced, forced.isSupported { return forced }
        switch configured.load(ordering: .relaxed) {
        case KernelPath.baseline.code: return .baseline
        case KernelPath.avx2.code: return .avx2
        default: return detected
        }
    }

    private static let cpuHasAVX2 = ccpufeatures_has_x86_64_v3()
}
