import CommandLineOptions
import Dispatch
import HTTP
import LossService
import Losses
import TensorJSON
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The `lossd` command: serves the loss API until SIGTERM or SIGINT, then
/// drains and exits 0; SIGHUP reloads the TLS certificate. Every option is also read from an environment
/// variable (for containers); a flag on the command line wins.
@main
struct Lossd {
    static let command = CommandDeclaration(
        name: "lossd",
        abstract: "Scores model predictions against targets over HTTP, exactly as PyTorch does.",
        discussion: """
            Every option can also be set with the environment variable named in its help; \
            a flag on the command line wins over the variable.
            """,
        options: options,
        subcommands: [Healthcheck.command, PrintOpenAPI.command])

    /// Every option of the server, which the subcommands accept too (`lossd healthcheck --port 9000`).
    static let options: [OptionDeclaration] = [
        OptionDeclaration("host", valueName: "address", kind: .text,
                          help: "Address to listen on. (default: 0.0.0.0, env: LOSSD_HOST)"),
        OptionDeclaration("port", valueName: "port", kind: .integer,
                          help: "TCP port to listen on; 0 picks a free port. (default: 8080, env: LOSSD_PORT)"),
        OptionDeclaration("max-body-bytes", valueName: "bytes", kind: .integer,
                          help: "Largest request body in bytes, on the wire and after gzip decoding; 413 past it. (default: 134217728, env: LOSSD_MAX_BODY_BYTES)"),
        OptionDeclaration("max-tensor-bytes", valueName: "bytes", kind: .integer,
                          help: "Most bytes one loss request's decoded tensors may take, 8 per number, all its tensors together; 413 past it, while the body streams (a small gzip body of short numbers decodes to many times its size). (default: the body limit, env: LOSSD_MAX_TENSOR_BYTES)"),
        OptionDeclaration("memory-budget", valueName: "bytes", kind: .integer,
                          help: "Most bytes all loss requests' decoded tensors may take together; a request that finds it spent waits up to --memory-wait seconds, then gets 503 with Retry-After (counted in lossd_rejected_requests_total{reason=\"memory\"}). Requests small enough to run on an event loop (identity body up to 64 KiB) bypass it. (default: 70% of the cgroup's memory.max when set, else 25% of physical memory, env: LOSSD_MEMORY_BUDGET)"),
        OptionDeclaration("memory-wait", valueName: "seconds", kind: .number,
                          help: "Most seconds a loss request waits for room in the memory budget before its 503. (default: 2, env: LOSSD_MEMORY_WAIT)"),
        OptionDeclaration("max-request-line-bytes", valueName: "bytes", kind: .integer,
                          help: "Longest request line in bytes, CRLF included; 414 past it. (default: 8192, env: LOSSD_MAX_REQUEST_LINE_BYTES)"),
        OptionDeclaration("max-header-bytes", valueName: "bytes", kind: .integer,
                          help: "Largest request header section in bytes, CRLFs included; 431 past it. (default: 32768, env: LOSSD_MAX_HEADER_BYTES)"),
        OptionDeclaration("max-header-count", valueName: "count", kind: .integer,
                          help: "Most request header fields, Host included; 431 past it. (default: 100, env: LOSSD_MAX_HEADER_COUNT)"),
        OptionDeclaration("head-timeout", valueName: "seconds", kind: .number,
                          help: "Seconds within which a request head must arrive after its first byte; 408 past it. (default: 10, env: LOSSD_HEAD_TIMEOUT)"),
        OptionDeclaration("body-timeout", valueName: "seconds", kind: .number,
                          help: "Seconds a request body may go without progress; 408 past it. (default: 10, env: LOSSD_BODY_TIMEOUT)"),
        OptionDeclaration("min-body-rate", valueName: "bytes", kind: .integer,
                          help: "Bytes per second a request body must average once its first --body-timeout seconds have passed; 408 below it. 0 turns it off. (default: 1024, env: LOSSD_MIN_BODY_RATE)"),
        OptionDeclaration("max-body-duration", valueName: "seconds", kind: .number,
                          help: "Most seconds a request body may take in all, however steadily it arrives; 408 past it. (default: 300, env: LOSSD_MAX_BODY_DURATION)"),
        OptionDeclaration("min-send-rate", valueName: "bytes", kind: .integer,
                          help: "Bytes per second a client must read a response at once it has waited --write-timeout seconds; the connection is closed below it. 0 turns it off. (default: 1024, env: LOSSD_MIN_SEND_RATE)"),
        OptionDeclaration("write-timeout", valueName: "seconds", kind: .number,
                          help: "Seconds a response may wait for the client's socket to take a byte before the connection is closed; past them --min-send-rate applies too. (default: 60, env: LOSSD_WRITE_TIMEOUT)"),
        OptionDeclaration("idle-timeout", valueName: "seconds", kind: .number,
                          help: "Seconds an idle connection is kept open. (default: 60, env: LOSSD_IDLE_TIMEOUT)"),
        OptionDeclaration("max-connections", valueName: "count", kind: .integer,
                          help: "Most open connections; at it a new client takes the place of the connection idle longest, else gets 503 with Retry-After. (default: 1024, env: LOSSD_MAX_CONNECTIONS)"),
        OptionDeclaration("overflow-connections", valueName: "count", kind: .integer,
                          help: "Connections past --max-connections still accepted to answer 503 with Retry-After (evicted ones still closing count too); past them new ones are closed at once. (default: 64, env: LOSSD_OVERFLOW_CONNECTIONS)"),
        OptionDeclaration("drain-timeout", valueName: "seconds", kind: .number,
                          help: "Seconds a graceful drain on SIGTERM/SIGINT may take before remaining connections are closed. (default: 20, env: LOSSD_DRAIN_TIMEOUT)"),
        OptionDeclaration("drain-accept-grace", valueName: "seconds", kind: .number,
                          help: "Seconds after SIGTERM/SIGINT during which new connections are still accepted (each answered with Connection: close, /readyz with 503) before the listener closes, within the drain timeout; for load balancers that notice a drain by health checks. (default: 0, env: LOSSD_DRAIN_ACCEPT_GRACE)"),
        OptionDeclaration("drain-idle-grace", valueName: "seconds", kind: .number,
                          help: "Seconds a connection idle at SIGTERM/SIGINT is kept for a request its client may already have sent (answered with Connection: close) before it is half-closed, within the drain timeout. (default: 1, env: LOSSD_DRAIN_IDLE_GRACE)"),
        OptionDeclaration("gzip-min-bytes", valueName: "bytes", kind: .integer,
                          help: "Smallest response body in bytes that is gzip-compressed for clients that accept it. (default: 1024, env: LOSSD_GZIP_MIN_BYTES)"),
        OptionDeclaration("storage-pool-bytes", valueName: "bytes", kind: .integer,
                          help: "Most bytes of large tensors' arrays (4 MiB or more) kept between requests for the next ones to write into, outside --memory-budget; 0 keeps none. (default: an eighth of the memory budget, at most 268435456, env: LOSSD_STORAGE_POOL_BYTES)"),
        OptionDeclaration("kernels", valueName: "path", kind: .text,
                          help: "Build of the losses' hot loops: auto (AVX2 where the CPU has it, else baseline) or baseline (SSE2, on every x86-64 CPU); both give the same losses within the golden tolerance. (default: auto, env: LOSSD_KERNELS)"),
        OptionDeclaration("event-loops", valueName: "count", kind: .integer,
                          help: "Event-loop threads waiting for socket readiness and answering small requests. (default: the CPUs lossd may run on, lowered to the cgroup's cpu.max quota rounded up, env: LOSSD_EVENT_LOOPS)"),
        OptionDeclaration("cors-origins", valueName: "origins", kind: .text,
                          help: "Origins allowed to call from a browser: * or a comma-separated list such as https://dash.example. (default: *, env: LOSSD_CORS_ORIGINS)"),
        OptionDeclaration("tls-cert", valueName: "path", kind: .text,
                          help: "PEM file with the TLS certificate chain (server certificate first); with --tls-key, serves HTTPS (TLS 1.2+) instead of HTTP. (default: none, env: LOSSD_TLS_CERT)"),
        OptionDeclaration("tls-key", valueName: "path", kind: .text,
                          help: "PEM file with the certificate's unencrypted private key; goes with --tls-cert. (default: none, env: LOSSD_TLS_KEY)"),
        OptionDeclaration("log-level", valueName: "level", kind: .text,
                          help: "Lowest log level written: trace, debug, info, notice, warning, error or critical. (default: info, env: LOSSD_LOG_LEVEL)"),
        OptionDeclaration("log-format", valueName: "format", kind: .text,
                          help: "Log line format on standard error: text or json. (default: text, env: LOSSD_LOG_FORMAT)"),
        OptionDeclaration("log-buffer-bytes", valueName: "bytes", kind: .integer,
                          help: "Most bytes of log lines waiting for standard error; while it is full (standard error read too slowly), further lines are dropped and counted in lossd_log_lines_dropped_total rather than making requests wait. (default: 1048576, env: LOSSD_LOG_BUFFER_BYTES)"),
    ]

    var host: String?
    var port: Int?
    var maxBodyBytes: Int?
    var maxTensorBytes: Int?
    var memoryBudget: Int?
    var memoryWait: Double?
    var storagePoolBytes: Int?
    var kernels: String?
    var maxRequestLineBytes: Int?
    var maxHeaderBytes: Int?
    var maxHeaderCount: Int?
    var headTimeout: Double?
    var bodyTimeout: Double?
    var minBodyRate: Int?
    var maxBodyDuration: Double?
    var minSendRate: Int?
    var writeTimeout: Double?
    var idleTimeout: Double?
    var maxConnections: Int?
    var overflowConnections: Int?
    var drainTimeout: Double?
    var drainAcceptGrace: Double?
    var drainIdleGrace: Double?
    var gzipMinBytes: Int?
    var eventLoops: Int?
    var corsOrigins: String?
    var tlsCert: String?
    var tlsKey: String?
    var logLevel: String?
    var logFormat: String?
    var logBufferBytes: Int?

    /// The options as given; nil for each one not given (the environment or the default decides).
    init(options: ParsedOptions) {
        host = options.text("host")
        port = options.integer("port")
        maxBodyBytes = options.integer("max-body-bytes")
        maxTensorBytes = options.integer("max-tensor-bytes")
        memoryBudget = options.integer("memory-budget")
        memoryWait = options.number("memory-wait")
        storagePoolBytes = options.integer("storage-pool-bytes")
        kernels = options.text("kernels")
        maxRequestLineBytes = options.integer("max-request-line-bytes")
        maxHeaderBytes = options.integer("max-header-bytes")
        maxHeaderCount = options.integer("max-header-count")
        headTimeout = options.number("head-timeout")
        bodyTimeout = options.number("body-timeout")
        minBodyRate = options.integer("min-body-rate")
        maxBodyDuration = options.number("max-body-duration")
        minSendRate = options.integer("min-send-rate")
        writeTimeout = options.number("write-timeout")
        idleTimeout = options.number("idle-timeout")
        maxConnections = options.integer("max-connections")
        overflowConnections = options.integer("overflow-connections")
        drainTimeout = options.number("drain-timeout")
        drainAcceptGrace = options.number("drain-accept-grace")
        drainIdleGrace = options.number("drain-idle-grace")
        gzipMinBytes = options.integer("gzip-min-bytes")
        eventLoops = options.integer("event-loops")
        corsOrigins = options.text("cors-origins")
        tlsCert = options.text("tls-cert")
        tlsKey = options.text("tls-key")
        logLevel = options.text("log-level")
        logFormat = options.text("log-format")
        logBufferBytes = options.integer("log-buffer-bytes")
    }

    /// The command line, parsed once. A static, not a local of `main()`:
    /// lossd's main thread ends in `dispatchMain()`, which exits that thread,
    /// so what only its stack referred to (the option values) would be
    /// reported as leaked by LeakSanitizer (scripts/sanitize.sh address).
    private static let commandLine = Result { () throws(UsageError) in
        try CommandLineParser(root: command).parse(Array(CommandLine.arguments.dropFirst()))
    }

    /// Runs what the command line asks for and exits: 0 when it is done,
    /// 64 (`UsageError.exitStatus`) for a command line it cannot act on, 1 on another failure.
    static func main() {
        do {
            switch try commandLine.get() {
            case .help(let text):
                LogWriter.writeNow(text, to: 1)
            case .version:
                LogWriter.writeNow(BuildInfo.description + "\n", to: 1)
            case .run(let path, let options):
                let lossd = Lossd(options: options)
                switch path.first {
                case Healthcheck.command.name?: try Healthcheck(lossd: lossd, options: options).run()
                case PrintOpenAPI.command.name?: try PrintOpenAPI(options: options).run()
                default: try lossd.run()
                }
            }
        } catch let error as UsageError {
            LogWriter.writeNow(CommandLineParser(root: command).errorText(error), to: 2)
            exit(UsageError.exitStatus)
        } catch let failure as ExitCode {
            exit(failure.status)
        } catch {
            LogWriter.writeNow("Error: \(error)\n", to: 2)
            exit(ExitCode.failure.status)
        }
        exit(0)
    }

    func run() throws {
        let configuration = try Configuration(flags: self, environment: Configuration.processEnvironment())
        MemoryPolicy.apply()
        // Before any loss runs: the path every loss takes from here on.
        KernelPath.configure(configuration.kernels.path)
        let level = configuration.logLevel
        let format = configuration.logFormat
        // Every log line, from here to the exit, goes through the writer's thread (issue #17).
        let log = try LogWriter(capacity: configuration.logBufferBytes)
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format, logLevel: level, writer: log) }
        let logger = Logger(label: "lossd")
        let accessLog = AccessLog(format: format, level: level, writer: log)

        var serverConfiguration = configuration.server
        let serverLogger = Logger(label: "lossd.http")
        serverConfiguration.log = { message in serverLogger.warning("\(message)") }

        let readiness = Readiness()
        // Dispatch's pool is as wide as the online CPUs: half of it may wait for memory.
        let budget = MemoryBudget(limit: configuration.memoryBudget, maxWait: configuration.memoryWait,
                                  maxWaiters: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)) / 2))
        let metrics = ServiceMetrics(logLinesDropped: { log.droppedLines }, memoryBudget: budget)
        let responder = LossResponder(cors: configuration.cors, readiness: readiness, metrics: metrics,
                                      maxTensorBytes: configuration.maxTensorBytes,
                                      memoryBudget: budget, budgetExemptBytes: configuration.server.inlineBodyBytes,
                                      storagePoolBytes: configuration.storagePoolBytes,
                                      onCompleted: { exchange, route in accessLog.record(exchange, route: route) })
        let server = Server(configuration: serverConfiguration, responder: responder)
        signal(SIGPIPE, SIG_IGN)
        do {
            try server.start()
        } catch {
            // The error names the address (or the TLS file) itself.
            logger.critical("cannot start: \(error)")
            log.flush(within: LogWriter.exitFlushTimeout)
            throw ExitCode.failure
        }
        let shutdown = Shutdown(server: server, readiness: readiness, drainTimeout: configuration.drainTimeout,
                                logger: logger, log: log)
        shutdown.install()
        let certificateReload = CertificateReload(server: server, certificatePath: configuration.server.tls?.certificateChainPath,
                                                  logger: logger)
        certificateReload.install()
        let scheme = configuration.server.tls == nil ? "http" : "https"
        // On standard output, at once, for whoever waits for it; on the main thread, never a serving one.
        LogWriter.writeNow("lossd listening on \(scheme)://\(Configuration.urlHost(configuration.server.host)):\(server.port)\n",
                           to: 1)
        logger.info("ready", metadata: [
            "host": "\(configuration.server.host)", "port": "\(server.port)",
            "version": "\(BuildInfo.version)", "revision": "\(BuildInfo.revision)",
            "event_loops": "\(configuration.server.eventLoops)", "event_loops_from": "\(configuration.eventLoopsSource)",
            "memory_budget": "\(configuration.memoryBudget)", "memory_budget_from": "\(configuration.memoryBudgetSource)",
            "storage_pool_bytes": "\(responder.storagePoolBytes)",
            "kernels": "\(KernelPath.current.rawValue)",  // avx2, or baseline (the CPU lacks it, or --kernels baseline)
        ])
        withExtendedLifetime((shutdown, certificateReload)) { dispatchMain() }
    }
}
