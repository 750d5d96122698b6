#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import HTTP

/// `ContainerLimits`: the cgroup v2 files that set lossd's default event-loop
/// count and memory budget in a container, parsed from fixture strings.
@Suite struct ContainerLimitsTests {
    @Test("cpu.max: a quota gives its CPUs rounded up, at least 1; max (no quota) or junk gives none")
    func cpuQuota() {
        #expect(ContainerLimits.cpuQuota("200000 100000\n") == 2)
        #expect(ContainerLimits.cpuQuota("150000 100000\n") == 2)
        #expect(ContainerLimits.cpuQuota("50000 100000\n") == 1)
        #expect(ContainerLimits.cpuQuota("1000 100000") == 1)
        #expect(ContainerLimits.cpuQuota("400000 50000\n") == 8)
        #expect(ContainerLimits.cpuQuota("300000\n") == 3)  // the period defaults to 100 ms
        #expect(ContainerLimits.cpuQuota("max 100000\n") == nil)
        #expect(ContainerLimits.cpuQuota("") == nil)
        #expect(ContainerLimits.cpuQuota("lots 100000") == nil)
        #expect(ContainerLimits.cpuQuota("-1 100000") == nil)
        #expect(ContainerLimits.cpuQuota("100000 0") == nil)
    }

    @Test("memory.max: bytes, or none for max, empty or junk")
    func memoryLimit() {
        #expect(ContainerLimits.memoryLimit("536870912\n") == 536_870_912)
        #expect(ContainerLimits.memoryLimit("max\n") == nil)
        #expect(ContainerLimits.memoryLimit("") == nil)
        #expect(ContainerLimits.memoryLimit("12 34") == nil)
        #expect(ContainerLimits.memoryLimit("0\n") == nil)
    }

    @Test("the default budget is 70% of memory.max when set, else 25% of physical memory, and says which")
    func defaultBudget() {
        let limited = ContainerLimits(cpus: 2, cpuSource: "cgroup cpu.max", cgroupMemoryBytes: 1_000_000_000,
                                      physicalMemoryBytes: 64_000_000_000)
        #expect(limited.defaultMemoryBudget == 700_000_000)
        #expect(limited.memoryBudgetSource == "70% of cgroup memory.max")
        let unlimited = ContainerLimits(cpus: 8, cpuSource: "cpu affinity", cgroupMemoryBytes: nil,
                                        physicalMemoryBytes: 64_000_000_000)
        #expect(unlimited.defaultMemoryBudget == 16_000_000_000)
        #expect(unlimited.memoryBudgetSource == "25% of physical memory")
    }

    @Test("read from a cgroup directory: the CPU quota lowers the affinity count, never raises it; missing files mean no limit")
    func readsTheDirectory() throws {
        let directory = "/tmp/lossd-cgroup-test-\(getpid())"
        mkdir(directory, 0o700)
        defer {
            unlink(directory + "/cpu.max")
            unlink(directory + "/memory.max")
            rmdir(directory)
        }
        let affinity = ServerConfiguration.schedulableCPUs()
        let none = ContainerLimits.current(cgroupDirectory: directory)
        #expect(none.cpus == affinity && none.cpuSource == "cpu affinity" && none.cgroupMemoryBytes == nil)
        #expect(none.physicalMemoryBytes > 0)

        try write("100000 100000\n", to: directory + "/cpu.max")
        try write("268435456\n", to: directory + "/memory.max")
        let limited = ContainerLimits.current(cgroupDirectory: directory)
        #expect(limited.cpus == 1)
        #expect(limited.cpuSource == (affinity > 1 ? "cgroup cpu.max" : "cpu affinity"))
        #expect(limited.cgroupMemoryBytes == 268_435_456)

        try write("\(affinity * 4)00000 100000\n", to: directory + "/cpu.max")
        #expect(ContainerLimits.current(cgroupDirectory: directory).cpus == affinity)
    }

    private func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ContainerLimitsTestError.cannotWrite(path) }
        defer { close(fd) }
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
    }
}

enum ContainerLimitsTestError: Error { case cannotWrite(String) }
