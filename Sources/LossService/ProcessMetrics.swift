#if canImport(Glibc)
import Glibc
#endif

/// The standard Prometheus process metrics (`process_cpu_seconds_total`,
/// `process_resident_memory_bytes`, `process_open_fds`, `process_max_fds`,
/// `process_start_time_seconds`), read from /proc at scrape time as the
/// official client libraries do. Where /proc is missing (not Linux) a metric
/// is left out rather than reported wrong.
struct ProcessMetrics: MetricFamily {
    var name: String { "process" }

    /// What one scrape read.
    struct Sample: Equatable {
        var cpuSeconds: Double?
        var residentBytes: Double?
        var openFDs: Double?
        var maxFDs: Double?
        var startTimeSeconds: Double?
    }

    func render(into out: inout String) {
        ProcessMetrics.render(ProcessMetrics.read(), into: &out)
    }

    static func render(_ sample: Sample, into out: inout String) {
        func emit(_ name: String, _ help: String, _ type: String, _ value: Double?) {
            guard let value else { return }
            PrometheusText.appendHeader(name: name, help: help, type: type, to: &out)
            PrometheusText.appendSample(name: name, labelNames: [], labelValues: [], value: value, to: &out)
        }
        emit("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
             sample.cpuSeconds)
        emit("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", sample.residentBytes)
        emit("process_open_fds", "Number of open file descriptors.", "gauge", sample.openFDs)
        emit("process_max_fds", "Maximum number of open file descriptors.", "gauge", sample.maxFDs)
        emit("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
             sample.startTimeSeconds)
    }

    /// Reads the current values from /proc.
    static func read() -> Sample {
        var sample = Sample()
        #if os(Linux)
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = readFile("/proc/self/stat"), let fields = statFields(stat), fields.count > 21, ticks > 0 {
            // Fields after "(comm)": index 0 is field 3 (state); utime is field 14,
            // stime 15, starttime 22, rss 24 (proc(5)).
            if let utime = Double(fields[11]), let stime = Double(fields[12]) {
                sample.cpuSeconds = (utime + stime) / ticks
            }
            if let rss = Double(fields[21]), pageSize > 0 { sample.residentBytes = rss * pageSize }
            if let start = Double(fields[19]), let boot = bootTime() {
                sample.startTimeSeconds = boot + start / ticks
            }
        }
        if let dir = opendir("/proc/self/fd") {
            var count = 0
            while let entry = readdir(dir) {
                let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                    name[0] == UInt8(ascii: ".") && (name[1] == 0 || (name[1] == UInt8(ascii: ".") && name[2] == 0))
                }
                if !isDot { count += 1 }
            }
            closedir(dir)
            sample.openFDs = Double(count - 1)  // the directory stream's own descriptor
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {
            sample.maxFDs = Double(limit.rlim_cur)
        }
        #endif
        return sample
    }

    /// The space-separated fields of /proc/self/stat after the `(comm)` field,
    /// which may itself hold spaces and parentheses: split after the last `)`.
    static func statFields(_ stat: String) -> [Substring]? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// Seconds since the epoch at boot (`btime` in /proc/stat).
    private static func bootTime() -> Double? {
        guard let stat = readFile("/proc/stat") else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimming(" "))
        }
        return nil
    }

    /// The whole of a small file, or nil.
    static func readFile(_ path: String) -> String? {
        #if canImport(Glibc)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue } else { return nil } }
            if n == 0 { break }
            bytes += buffer[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
        #else
        return nil
        #endif
    }
}
