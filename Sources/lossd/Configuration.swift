import CommandLineOptions
import HTTP
import LossService
import Losses
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// lossd's settings, resolved from the flags, then the `LOSSD_*` environment
/// variables, then the defaults (contract rule 13), and checked.
struct Configuration {
    /// The log line format on standard error.
    enum LogFormat: String { case text, json }

    /// `--kernels`: `auto` takes AVX2 where the CPU has it, `baseline` the SSE2 build everywhere.
    enum Kernels: String {
        case auto, baseline

        /// What `KernelPath.configure` is given (AVX2 where unsupported means baseline).
        var path: KernelPath { self == .auto ? .avx2 : .baseline }
    }

    var server: ServerConfiguration
    var cors: CORSPolicy
    /// The most bytes one loss request's decoded tensors may take (413 past
    /// it; `LossResponder.maxTensorBytes`). Default: the body limit.
    var maxTensorBytes: Int
    /// The bytes all loss requests' decoded tensors may hold together
    /// (`MemoryBudget`). Default: 70 % of the cgroup's `memory.max` when one
    /// is set, else 25 % of physical memory (`ContainerLimits`).
    var memoryBudget: Int
    /// Seconds a request waits for room in the budget before its 503. Default 2.
    var memoryWait: Double
    /// The most bytes of large tensors' arrays kept between requests
    /// (`LossResponder.storagePoolBytes`); 0 keeps none. Default: an eighth
    /// of the memory budget, at most 256 MiB.
    var storagePoolBytes: Int
    /// Which build of the losses' hot loops runs (`KernelPath`). Default `auto`.
    var kernels: Kernels
    /// Where the event-loop count and the budget came from, for the start-up log.
    var eventLoopsSource: String
    var memoryBudgetSource: String
    /// Seconds a drain may take. Default 20.
    var drainTimeout: Double
    var logLevel: Logger.Level
    var logFormat: LogFormat
    /// Most bytes of log lines waiting for standard error (`LogWriter.capacity`). Default 1 MiB.
    var logBufferBytes: Int

    init(flags: Lossd, environment: [String: String], container: ContainerLimits = .current()) throws {
        let env = Environment(values: environment)
        var server = ServerConfiguration()
        server.host = try env.pick(flags.host, "LOSSD_HOST", "0.0.0.0") { $0.isEmpty ? nil : $0 }
        server.port = try env.pick(flags.port, "LOSSD_PORT", 8080, Int.init)
        guard (0...65535).contains(server.port) else { throw UsageError("port \(server.port) is not in 0...65535") }

        var limits = Limits()
        limits.maxBodyBytes = try env.positive(flags.maxBodyBytes, "LOSSD_MAX_BODY_BYTES", 134_217_728)
        limits.maxRequestLineBytes = try env.positive(flags.maxRequestLineBytes, "LOSSD_MAX_REQUEST_LINE_BYTES", 8192)
        limits.maxHeaderBytes = try env.positive(flags.maxHeaderBytes, "LOSSD_MAX_HEADER_BYTES", 32768)
        limits.maxHeaderCount = try env.positive(flags.maxHeaderCount, "LOSSD_MAX_HEADER_COUNT", 100)
        limits.headTimeout = try env.seconds(flags.headTimeout, "LOSSD_HEAD_TIMEOUT", 10)
        limits.bodyTimeout = try env.seconds(flags.bodyTimeout, "LOSSD_BODY_TIMEOUT", 10)
        limits.minBodyRate = try env.nonNegative(flags.minBodyRate, "LOSSD_MIN_BODY_RATE", 1024)
        limits.maxBodyDuration = try env.seconds(flags.maxBodyDuration, "LOSSD_MAX_BODY_DURATION", 300)
        limits.idleTimeout = try env.seconds(flags.idleTimeout, "LOSSD_IDLE_TIMEOUT", 60)
        limits.maxConnections = try env.positive(flags.maxConnections, "LOSSD_MAX_CONNECTIONS", 1024)
        server.limits = limits
        server.minSendRate = try env.nonNegative(flags.minSendRate, "LOSSD_MIN_SEND_RATE", 1024)
        server.writeTimeout = try env.seconds(flags.writeTimeout, "LOSSD_WRITE_TIMEOUT", 60)
        server.overflowConnections = try env.nonNegative(flags.overflowConnections, "LOSSD_OVERFLOW_CONNECTIONS", 64)
        maxTensorBytes = try env.positive(flags.maxTensorBytes, "LOSSD_MAX_TENSOR_BYTES", limits.maxBodyBytes)
        server.gzipMinimumBytes = try env.pick(flags.gzipMinBytes, "LOSSD_GZIP_MIN_BYTES", 1024) { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
        server.drainAcceptGrace = try env.pick(flags.drainAcceptGrace, "LOSSD_DRAIN_ACCEPT_GRACE", 0) { Double($0) }
        guard server.drainAcceptGrace >= 0, server.drainAcceptGrace.isFinite else {
            throw UsageError("LOSSD_DRAIN_ACCEPT_GRACE (or its flag) must be 0 or a positive number of seconds, got \(server.drainAcceptGrace)")
        }
        server.drainIdleGrace = try env.pick(flags.drainIdleGrace, "LOSSD_DRAIN_IDLE_GRACE", 1) { Double($0) }
        guard server.drainIdleGrace >= 0, server.drainIdleGrace.isFinite else {
            throw UsageError("LOSSD_DRAIN_IDLE_GRACE (or its flag) must be 0 or a positive number of seconds, got \(server.drainIdleGrace)")
        }
        server.eventLoops = try env.positive(flags.eventLoops, "LOSSD_EVENT_LOOPS", container.cpus)
        eventLoopsSource = flags.eventLoops != nil || !(environment["LOSSD_EVENT_LOOPS"] ?? "").isEmpty
            ? "configured" : container.cpuSource
        memoryBudget = try env.positive(flags.memoryBudget, "LOSSD_MEMORY_BUDGET", container.defaultMemoryBudget)
        memoryBudgetSource = flags.memoryBudget != nil || !(environment["LOSSD_MEMORY_BUDGET"] ?? "").isEmpty
            ? "configured" : container.memoryBudgetSource
        memoryWait = try env.pick(flags.memoryWait, "LOSSD_MEMORY_WAIT", 2) { Double($0) }
        guard memoryWait >= 0, memoryWait.isFinite else {
            throw UsageError("LOSSD_MEMORY_WAIT (or its flag) must be 0 or a positive number of seconds, got \(memoryWait)")
        }
        storagePoolBytes = try env.nonNegative(flags.storagePoolBytes, "LOSSD_STORAGE_POOL_BYTES",
                                               LossResponder.defaultStoragePoolBytes(memoryBudget: memoryBudget))
        let kernelsSetting = try env.pick(flags.kernels, "LOSSD_KERNELS", "auto") { $0 }
        guard let kernels = Kernels(rawValue: kernelsSetting.lowercased()) else {
            throw UsageError("--kernels (LOSSD_KERNELS): '\(kernelsSetting)' is not auto or baseline")
        }
        self.kernels = kernels
        server.tls = try Configuration.tls(flags: flags, env: env)
        self.server = server

        drainTimeout = try env.seconds(flags.drainTimeout, "LOSSD_DRAIN_TIMEOUT", 20)
        let corsSetting = try env.pick(flags.corsOrigins, "LOSSD_CORS_ORIGINS", "*") { $0 }
        if let problem = CORSPolicy.problem(inSetting: corsSetting) {
            throw UsageError("--cors-origins (LOSSD_CORS_ORIGINS): \(problem)")
        }
        cors = CORSPolicy(setting: corsSetting)
        let level = try env.pick(flags.logLevel, "LOSSD_LOG_LEVEL", "info") { $0 }
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw UsageError("log level '\(level)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        self.logLevel = logLevel
        let format = try env.pick(flags.logFormat, "LOSSD_LOG_FORMAT", "text") { $0 }
        guard let logFormat = LogFormat(rawValue: format.lowercased()) else {
            throw UsageError("log format '\(format)' is not text or json")
        }
        self.logFormat = logFormat
        logBufferBytes = try env.positive(flags.logBufferBytes, "LOSSD_LOG_BUFFER_BYTES", LogWriter.defaultCapacity)
    }

    /// The TLS files: both or neither of --tls-cert and --tls-key (or their variables).
    static func tls(flags: Lossd, env: Environment) throws -> TLSConfiguration? {
        let certificate = try env.pick(flags.tlsCert, "LOSSD_TLS_CERT", "") { $0 }
        let key = try env.pick(flags.tlsKey, "LOSSD_TLS_KEY", "") { $0 }
        switch (certificate.isEmpty, key.isEmpty) {
        case (true, true):
            return nil
        case (false, false):
            return TLSConfiguration(certificateChainPath: certificate, privateKeyPath: key)
        case (false, true):
            throw UsageError("--tls-cert (LOSSD_TLS_CERT) is set but --tls-key (LOSSD_TLS_KEY) is not: HTTPS needs both, plain HTTP neither")
        case (true, false):
            throw UsageError("--tls-key (LOSSD_TLS_KEY) is set but --tls-cert (LOSSD_TLS_CERT) is not: HTTPS needs both, plain HTTP neither")
        }
    }

    /// The host as written in a URL: IPv6 addresses in brackets (RFC 3986 §3.2.2).
    static func urlHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    /// The process environment.
    static func processEnvironment() -> [String: String] {
        var values: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let equals = pair.firstIndex(of: "=") {
                values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            entry += 1
        }
        return values
    }
}

/// Reads one setting: the flag if given, else the variable if set and not
/// empty, else the default. A variable that does not parse is an error that
/// names it, not a silent fallback to the default.
struct Environment {
    var values: [String: String]

    func pick<T>(_ flag: T?, _ variable: String, _ defaultValue: T, _ parse: (String) -> T?) throws -> T {
        if let flag {
            return flag
        }
        guard let raw = values[variable], !raw.isEmpty else { return defaultValue }
        guard let value = parse(raw) else { throw UsageError("\(variable)='\(raw)' is not a valid value") }
        return value
    }

    /// The flag of a setting's variable: `LOSSD_MAX_BODY_BYTES` → `--max-body-bytes`.
    static func flag(_ variable: String) -> String {
        "--" + String(variable.dropFirst("LOSSD_".count).lowercased().map { $0 == "_" ? "-" : $0 })
    }

    func positive(_ flag: Int?, _ variable: String, _ defaultValue: Int) throws -> Int {
        let value = try pick(flag, variable, defaultValue) { Int($0) }
        guard value > 0 else { throw UsageError("\(Environment.flag(variable)) (\(variable)) must be a positive whole number, got \(value)") }
        return value
    }

    func nonNegative(_ flag: Int?, _ variable: String, _ defaultValue: Int) throws -> Int {
        let value = try pick(flag, variable, defaultValue) { Int($0) }
        guard value >= 0 else { throw UsageError("\(variable) (or its flag) must be 0 or positive, got \(value)") }
        return value
    }

    func seconds(_ flag: Double?, _ variable: String, _ defaultValue: Double) throws -> Double {
        let value = try pick(flag, variable, defaultValue) { Double($0) }
        guard value > 0, value.isFinite else {
            throw UsageError("\(Environment.flag(variable)) (\(variable)) must be a positive number of seconds, got \(value)")
        }
        return value
    }
}
