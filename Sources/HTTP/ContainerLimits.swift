#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the machine, or the container lossd runs in, gives it: CPUs and
/// memory, for the defaults of the event-loop count and the memory budget.
///
/// In a container the host's CPU count and memory are not what the process
/// may use: its cgroup (v2) says so in `cpu.max` (`quota period` in
/// microseconds, or `max period` for no limit) and `memory.max` (bytes, or
/// `max`). Event loops follow the CPU quota (two loops on a 2-CPU quota, not
/// one per host core), and the budget follows the memory limit, so that
/// lossd fits the container it is given rather than being OOM-killed.
public struct ContainerLimits: Equatable, Sendable {
    /// CPUs the process may use: the affinity mask's count, lowered to the
    /// cgroup CPU quota rounded up when that is smaller.
    public var cpus: Int
    /// Where `cpus` came from, for the start-up log: `cgroup cpu.max` or `cpu affinity`.
    public var cpuSource: String
    /// The cgroup's memory limit in bytes, or nil for none.
    public var cgroupMemoryBytes: Int?
    /// The machine's physical memory in bytes.
    public var physicalMemoryBytes: Int

    /// The default memory budget: 70 % of the cgroup's `memory.max` when one
    /// is set (the rest for the read buffers, the heap, the responses and the
    /// runtime), else 25 % of physical memory (lossd shares the machine).
    public var defaultMemoryBudget: Int {
        if let cgroupMemoryBytes { return max(1, cgroupMemoryBytes / 10 * 7) }
        return max(1, physicalMemoryBytes / 4)
    }

    /// Where `defaultMemoryBudget` came from, for the start-up log.
    public var memoryBudgetSource: String {
        cgroupMemoryBytes == nil ? "25% of physical memory" : "70% of cgroup memory.max"
    }

    public init(cpus: Int, cpuSource: String, cgroupMemoryBytes: Int?, physicalMemoryBytes: Int) {
        self.cpus = cpus
        self.cpuSource = cpuSource
        self.cgroupMemoryBytes = cgroupMemoryBytes
        self.physicalMemoryBytes = physicalMemoryBytes
    }

    /// This process's limits, read from `cgroupDirectory` (cgroup v2's
    /// unified hierarchy, where a container sees its own cgroup), the
    /// affinity mask and `sysconf`.
    public static func current(cgroupDirectory: String = "/sys/fs/cgroup") -> ContainerLimits {
        let affinity = ServerConfiguration.schedulableCPUs()
        let quota = readFile(cgroupDirectory + "/cpu.max").flatMap(cpuQuota)
        let memory = readFile(cgroupDirectory + "/memory.max").flatMap(memoryLimit)
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        let physical = pages > 0 && pageSize > 0 ? pages * pageSize : 1 << 30
        if let quota, quota < affinity {
            return ContainerLimits(cpus: quota, cpuSource: "cgroup cpu.max", cgroupMemoryBytes: memory,
                                   physicalMemoryBytes: physical)
        }
        return ContainerLimits(cpus: affinity, cpuSource: "cpu affinity", cgroupMemoryBytes: memory,
                               physicalMemoryBytes: physical)
    }

    /// The CPUs a cgroup v2 `cpu.max` allows, rounded up (`150000 100000` is
    /// 2), at least 1; nil for `max …` (no quota) or text that does not parse.
    public static func cpuQuota(_ text: String) -> Int? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard let first = fields.first, first != "max", let quota = Int(first), quota > 0 else { return nil }
        // The period is optional in what the kernel accepts; it reads back with one, default 100 ms.
        let period = fields.count > 1 ? Int(fields[1]) ?? 100_000 : 100_000
        guard period > 0 else { return nil }
        return max(1, (quota + period - 1) / period)
    }

    /// The bytes a cgroup v2 `memory.max` allows; nil for `max` (no limit)
    /// or text that does not parse.
    public static func memoryLimit(_ text: String) -> Int? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard fields.count == 1, fields[0] != "max", let bytes = Int(fields[0]), bytes > 0 else { return nil }
        return bytes
    }

    private static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)  // both files hold one short line
        let count = read(fd, &bytes, bytes.count)
        guard count > 0 else { return nil }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }
}
