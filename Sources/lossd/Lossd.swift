import ArgumentParser
import Dispatch
import HTTP
import LossService
import TensorJSON
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The `lossd` command: serves the loss API until SIGTERM or SIGINT, then
/// drains and exits 0; SIGHUP reloads the TLS certificate. Every option is also read from an environment
/// variable (for containers); a flag on the command line wins.
@main
struct Lossd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lossd",
        abstract: "Scores model predictions against targets over HTTP, exactly as PyTorch does.",
        discussion: """
            Every option can also be set with the environment variable named in its help; \
            a flag on the command line wins over the variable.
            """,
        version: BuildInfo.description,
        subcommands: [Healthcheck.self, PrintOpenAPI.self])

    @Option(help: ArgumentHelp("Address to listen on. (default: 0.0.0.0, env: LOSSD_HOST)", valueName: "address"))
    var host: String?

    @Option(help: ArgumentHelp("TCP port to listen on; 0 picks a free port. (default: 8080, env: LOSSD_PORT)", valueName: "port"))
    var port: Int?

    @Option(help: ArgumentHelp("Largest request body in bytes, on the wire and after gzip decoding; 413 past it. (default: 134217728, env: LOSSD_MAX_BODY_BYTES)", valueName: "bytes"))
    var maxBodyBytes: Int?

    @Option(help: ArgumentHelp("Most bytes one loss request's decoded tensors may take, 8 per number, all its tensors together; 413 past it, while the body streams (a small gzip body of short numbers decodes to many times its size). (default: the body limit, env: LOSSD_MAX_TENSOR_BYTES)", valueName: "bytes"))
    var maxTensorBytes: Int?

    @Option(help: ArgumentHelp("Most bytes all loss requests' decoded tensors may take together; a request that finds it spent waits up to --memory-wait seconds, then gets 503 with Retry-After (counted in lossd_rejected_requests_total{reason=\"memory\"}). Requests small enough to run on an event loop (identity body up to 64 KiB) bypass it. (default: 70% of the cgroup's memory.max when set, else 25% of physical memory, env: LOSSD_MEMORY_BUDGET)", valueName: "bytes"))
    var memoryBudget: Int?

    @Option(help: ArgumentHelp("Most seconds a loss request waits for room in the memory budget before its 503. (default: 2, env: LOSSD_MEMORY_WAIT)", valueName: "seconds"))
    var memoryWait: Double?

    @Option(help: ArgumentHelp("Longest request line in bytes, CRLF included; 414 past it. (default: 8192, env: LOSSD_MAX_REQUEST_LINE_BYTES)", valueName: "bytes"))
    var maxRequestLineBytes: Int?

    @Option(help: ArgumentHelp("Largest request header section in bytes, CRLFs included; 431 past it. (default: 32768, env: LOSSD_MAX_HEADER_BYTES)", valueName: "bytes"))
    var maxHeaderBytes: Int?

    @Option(help: ArgumentHelp("Most request header fields, Host included; 431 past it. (default: 100, env: LOSSD_MAX_HEADER_COUNT)", valueName: "count"))
    var maxHeaderCount: Int?

    @Option(help: ArgumentHelp("Seconds within which a request head must arrive after its first byte; 408 past it. (default: 10, env: LOSSD_HEAD_TIMEOUT)", valueName: "seconds"))
    var headTimeout: Double?

    @Option(help: ArgumentHelp("Seconds a request body may go without progress; 408 past it. (default: 10, env: LOSSD_BODY_TIMEOUT)", valueName: "seconds"))
    var bodyTimeout: Double?

    @Option(help: ArgumentHelp("Bytes per second a request body must average once its first --body-timeout seconds have passed; 408 below it. 0 turns it off. (default: 1024, env: LOSSD_MIN_BODY_RATE)", valueName: "bytes"))
    var minBodyRate: Int?

    @Option(help: ArgumentHelp("Most seconds a request body may take in all, however steadily it arrives; 408 past it. (default: 300, env: LOSSD_MAX_BODY_DURATION)", valueName: "seconds"))
    var maxBodyDuration: Double?

    @Option(help: ArgumentHelp("Bytes per second a client must read a response at once it has waited --write-timeout seconds; the connection is closed below it. 0 turns it off. (default: 1024, env: LOSSD_MIN_SEND_RATE)", valueName: "bytes"))
    var minSendRate: Int?

    @Option(help: ArgumentHelp("Seconds a response may wait for the client's socket to take a byte before the connection is closed; past them --min-send-rate applies too. (default: 60, env: LOSSD_WRITE_TIMEOUT)", valueName: "seconds"))
    var writeTimeout: Double?

    @Option(help: ArgumentHelp("Seconds an idle connection is kept open. (default: 60, env: LOSSD_IDLE_TIMEOUT)", valueName: "seconds"))
    var idleTimeout: Double?

    @Option(help: ArgumentHelp("Most open connections; at it a new client takes the place of the connection idle longest, else gets 503 with Retry-After. (default: 1024, env: LOSSD_MAX_CONNECTIONS)", valueName: "count"))
    var maxConnections: Int?

    @Option(help: ArgumentHelp("Connections past --max-connections still accepted to answer 503 with Retry-After (evicted ones still closing count too); past them new ones are closed at once. (default: 64, env: LOSSD_OVERFLOW_CONNECTIONS)", valueName: "count"))
    var overflowConnections: Int?

    @Option(help: ArgumentHelp("Seconds a graceful drain on SIGTERM/SIGINT may take before remaining connections are closed. (default: 20, env: LOSSD_DRAIN_TIMEOUT)", valueName: "seconds"))
    var drainTimeout: Double?

    @Option(help: ArgumentHelp("Seconds after SIGTERM/SIGINT during which new connections are still accepted (each answered with Connection: close, /readyz with 503) before the listener closes, within the drain timeout; for load balancers that notice a drain by health checks. (default: 0, env: LOSSD_DRAIN_ACCEPT_GRACE)", valueName: "seconds"))
    var drainAcceptGrace: Double?

    @Option(help: ArgumentHelp("Seconds a connection idle at SIGTERM/SIGINT is kept for a request its client may already have sent (answered with Connection: close) before it is half-closed, within the drain timeout. (default: 1, env: LOSSD_DRAIN_IDLE_GRACE)", valueName: "seconds"))
    var drainIdleGrace: Double?

    @Option(help: ArgumentHelp("Smallest response body in bytes that is gzip-compressed for clients that accept it. (default: 1024, env: LOSSD_GZIP_MIN_BYTES)", valueName: "bytes"))
    var gzipMinBytes: Int?

    @Option(help: ArgumentHelp("Event-loop threads waiting for socket readiness and answering small requests. (default: the CPUs lossd may run on, lowered to the cgroup's cpu.max quota rounded up, env: LOSSD_EVENT_LOOPS)", valueName: "count"))
    var eventLoops: Int?

    @Option(help: ArgumentHelp("Origins allowed to call from a browser: * or a comma-separated list such as https://dash.example. (default: *, env: LOSSD_CORS_ORIGINS)", valueName: "origins"))
    var corsOrigins: String?

    @Option(help: ArgumentHelp("PEM file with the TLS certificate chain (server certificate first); with --tls-key, serves HTTPS (TLS 1.2+) instead of HTTP. (default: none, env: LOSSD_TLS_CERT)", valueName: "path"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM file with the certificate's unencrypted private key; goes with --tls-cert. (default: none, env: LOSSD_TLS_KEY)", valueName: "path"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("Lowest log level written: trace, debug, info, notice, warning, error or critical. (default: info, env: LOSSD_LOG_LEVEL)", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("Log line format on standard error: text or json. (default: text, env: LOSSD_LOG_FORMAT)", valueName: "format"))
    var logFormat: String?

    @Option(help: ArgumentHelp("Most bytes of log lines waiting for standard error; while it is full (standard error read too slowly), further lines are dropped and counted in lossd_log_lines_dropped_total rather than making requests wait. (default: 1048576, env: LOSSD_LOG_BUFFER_BYTES)", valueName: "bytes"))
    var logBufferBytes: Int?

    mutating func run() throws {
        let configuration = try Configuration(flags: self, environment: Configuration.processEnvironment())
        MemoryPolicy.apply()
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
        ])
        withExtendedLifetime((shutdown, certificateReload)) { dispatchMain() }
    }
}
