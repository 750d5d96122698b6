#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Losses
import Testing
import TestSupport

/// The `lossd` executable as a user runs it: flags and their environment
/// variables, the listening line, the access log, SIGTERM, the healthcheck.
@Suite(.serialized) struct LossdExecutableTests {
    /// The built `lossd`, beside the test bundle (`swift test` builds it too).
    static let binary: String? = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lossd").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../.build/debug/lossd").standardized.path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// A started `lossd` with its output pipes.
    final class Running {
        let process = Process()
        let stdout = Pipe()
        let stderr = Pipe()

        init(_ arguments: [String], environment: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: try #require(LossdExecutableTests.binary))
            process.arguments = arguments
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LOSSD_") }
            env.merge(environment) { $1 }
            process.environment = env
            process.standardOutput = stdout
            process.standardError = stderr
            try process.run()
        }

        /// The first line on standard output (the listening address), or nil at EOF.
        func firstLine() -> String? {
            var bytes: [UInt8] = []
            while true {
                let data = stdout.fileHandleForReading.readData(ofLength: 1)
                guard let byte = data.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
                if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            }
        }

        /// Sends SIGTERM and waits (up to `seconds`) for the exit status.
        func terminate(within seconds: Double = 10) -> Int32? {
            kill(process.processIdentifier, SIGTERM)
            return waitForExit(within: seconds)
        }

        /// Waits (up to `seconds`, then kills) for the exit status.
        func waitForExit(within seconds: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            return process.terminationStatus
        }

        var standardError: String {
            String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }

        /// Standard error read as it arrives, until nothing came for `quiet` seconds or `seconds` pass.
        func readStandardError(untilQuietFor quiet: Double, within seconds: Double) -> [UInt8] {
            let fd = stderr.fileHandleForReading.fileDescriptor
            let deadline = Date().addingTimeInterval(seconds)
            var bytes: [UInt8] = []
            var lastData = Date()
            while Date() < deadline && Date().timeIntervalSince(lastData) < quiet {
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 50) >= 0 else { break }
                guard ready.revents != 0 else { continue }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let n = read(fd, &chunk, chunk.count)
                guard n > 0 else { break }
                bytes += chunk[..<n]
                lastData = Date()
            }
            return bytes
        }

        /// Standard error as it arrives, until a line holds `text` or `seconds` pass; nil then.
        func standardErrorLine(containing text: String, within seconds: Double) -> String? {
            let fd = stderr.fileHandleForReading.fileDescriptor
            let deadline = Date().addingTimeInterval(seconds)
            var bytes: [UInt8] = []
            while Date() < deadline {
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 50) >= 0 else { return nil }
                guard ready.revents != 0 else { continue }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &chunk, chunk.count)
                guard n > 0 else { return nil }
                bytes += chunk[..<n]
                if let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first(where: { $0.contains(text) }) {
                    return String(line)
                }
            }
            return nil
        }
    }

    static func port(fromListeningLine line: String?) -> Int? {
        guard let line, let colon = line.lastIndex(of: ":") else { return nil }
        return Int(line[line.index(after: colon)...])
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let running = try Running(arguments, environment: environment)
        let output = running.stdout.fileHandleForReading.readDataToEndOfFile()
        let error = running.stderr.fileHandleForReading.readDataToEndOfFile()
        running.process.waitUntilExit()
        return (running.process.terminationStatus, String(decoding: output + error, as: UTF8.self))
    }

    @Test("--help documents every option with its default and environment variable",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func help() throws {
        let (status, text) = try Self.run(["--help"])
        #expect(status == 0)
        let flat = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for (flag, variable, value) in [
            ("--host", "LOSSD_HOST", "0.0.0.0"), ("--port", "LOSSD_PORT", "8080"),
            ("--max-body-bytes", "LOSSD_MAX_BODY_BYTES", "134217728"),
            ("--max-tensor-bytes", "LOSSD_MAX_TENSOR_BYTES", "the body limit"),
            ("--max-request-line-bytes", "LOSSD_MAX_REQUEST_LINE_BYTES", "8192"),
            ("--max-header-bytes", "LOSSD_MAX_HEADER_BYTES", "32768"),
            ("--max-header-count", "LOSSD_MAX_HEADER_COUNT", "100"),
            ("--head-timeout", "LOSSD_HEAD_TIMEOUT", "10"), ("--body-timeout", "LOSSD_BODY_TIMEOUT", "10"),
            ("--idle-timeout", "LOSSD_IDLE_TIMEOUT", "60"), ("--max-connections", "LOSSD_MAX_CONNECTIONS", "1024"),
            ("--min-body-rate", "LOSSD_MIN_BODY_RATE", "1024"), ("--max-body-duration", "LOSSD_MAX_BODY_DURATION", "300"),
            ("--min-send-rate", "LOSSD_MIN_SEND_RATE", "1024"), ("--write-timeout", "LOSSD_WRITE_TIMEOUT", "60"),
            ("--overflow-connections", "LOSSD_OVERFLOW_CONNECTIONS", "64"),
            ("--drain-timeout", "LOSSD_DRAIN_TIMEOUT", "20"), ("--gzip-min-bytes", "LOSSD_GZIP_MIN_BYTES", "1024"),
            ("--cors-origins", "LOSSD_CORS_ORIGINS", "*"), ("--log-level", "LOSSD_LOG_LEVEL", "info"),
            ("--log-format", "LOSSD_LOG_FORMAT", "text"),
            ("--log-buffer-bytes", "LOSSD_LOG_BUFFER_BYTES", "1048576"),
            ("--drain-accept-grace", "LOSSD_DRAIN_ACCEPT_GRACE", "0"),
            ("--drain-idle-grace", "LOSSD_DRAIN_IDLE_GRACE", "1"),
            ("--event-loops", "LOSSD_EVENT_LOOPS", "the CPUs lossd may run on, lowered to the cgroup's cpu.max quota rounded up"),
            ("--memory-budget", "LOSSD_MEMORY_BUDGET", "70% of the cgroup's memory.max when set, else 25% of physical memory"),
            ("--memory-wait", "LOSSD_MEMORY_WAIT", "2"),
            ("--storage-pool-bytes", "LOSSD_STORAGE_POOL_BYTES", "an eighth of the memory budget, at most 268435456"),
            ("--kernels", "LOSSD_KERNELS", "auto"),
            ("--tls-cert", "LOSSD_TLS_CERT", "none"), ("--tls-key", "LOSSD_TLS_KEY", "none"),
        ] {
            #expect(flat.contains(flag), "\(flag)")
            #expect(flat.contains("(default: \(value), env: \(variable))"), "\(flag): default \(value), \(variable)")
        }
        #expect(flat.contains("healthcheck"))
    }

    @Test("serves, logs one line per request, and exits 0 on SIGTERM; the flag wins over the variable",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func servesAndDrains() throws {
        let running = try Running(["--host", "127.0.0.1", "--port", "0"],
                                  environment: ["LOSSD_PORT": "1", "LOSSD_HOST": "0.0.0.0"])
        let line = running.firstLine()
        #expect(line?.hasPrefix("lossd listening on http://127.0.0.1:") == true, "\(line ?? "nothing")")
        let port = try #require(Self.port(fromListeningLine: line))
        var client: TestClient? = try TestClient(port: port)
        #expect(try client?.get("/livez").text == #"{"status":"ok"}"#)
        let mse = try client?.post("/loss/mse", #"{"predictions": [1, 2], "targets": [0, 0]}"#)
        #expect(try TestJSON.parse(mse?.body ?? [])["loss"]?.double == 2.5)
        #expect(try Self.run(["healthcheck", "--port", "\(port)"]).status == 0)
        // SIGTERM with the keep-alive connection idle: lossd ends it with a FIN after the drain's
        // idle grace; once the client has closed it too, lossd exits 0.
        kill(running.process.processIdentifier, SIGTERM)
        #expect(client?.isClosedByPeer() == true)
        client = nil
        #expect(running.waitForExit(within: 10) == 0)
        let log = running.standardError
        #expect(log.contains("method=GET") && log.contains("path=/livez") && log.contains("status=200"), "\(log)")
        #expect(log.contains("path=/loss/mse"), "\(log)")
    }

    @Test("a signal sent as soon as the listening line appears is not lost: SIGTERM exits 0, SIGHUP is logged and lossd serves on",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func signalsAreArmedBeforeTheListeningLine() throws {
        for _ in 0..<3 {
            let running = try Running(["--host", "127.0.0.1", "--port", "0"])
            _ = running.firstLine()
            #expect(running.terminate(within: 5) == 0)
        }
        let running = try Running(["--host", "127.0.0.1", "--port", "0"])
        let port = try #require(Self.port(fromListeningLine: running.firstLine()))
        kill(running.process.processIdentifier, SIGHUP)
        let line = running.standardErrorLine(containing: "SIGHUP", within: 5)
        #expect(line?.contains("SIGHUP: serving plain HTTP, no TLS certificate to reload") == true, "\(line ?? "no line")")
        #expect(try TestClient(port: port).get("/livez").status == 200)
        #expect(running.terminate(within: 5) == 0)
    }

    @Test("a text access line is `time info lossd.access: request` then sorted key=value pairs, a value holding = quoted",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func textAccessLine() throws {
        let running = try Running(["--host", "127.0.0.1", "--port", "0"])
        let port = try #require(Self.port(fromListeningLine: running.firstLine()))
        let before = Date()
        #expect(try TestClient(port: port).get("/a=b").status == 404)
        #expect(running.terminate() == 0)
        let line = try #require(running.standardError.split(separator: "\n").first { $0.contains("lossd.access") })
        let words = line.split(separator: " ")
        #expect(words.count == 11, "\(line)")
        #expect(words.dropFirst().prefix(3) == ["info", "lossd.access:", "request"], "\(line)")
        #expect(words.dropFirst(4).map { String($0.prefix { $0 != "=" }) }
                == ["bytes", "duration_ms", "method", "path", "request_bytes", "route", "status"], "\(line)")
        #expect(line.contains(#" method=GET path="/a=b" request_bytes=0 route=unmatched status=404"#), "\(line)")
        // The timestamp is UTC with milliseconds, and it is today's (or, at midnight, the day the request began).
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let time = try #require(format.date(from: String(words[0])), "\(words[0])")
        #expect(words[0].count == 24 && words[0].hasSuffix("Z"))
        #expect(time.timeIntervalSince(before) > -1 && time.timeIntervalSince(before) < 30, "\(words[0]) vs \(before)")
    }

    @Test("an access line is written within a second of its answer while lossd keeps running, not only at exit",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func accessLineArrivesWhileRunning() throws {
        let running = try Running(["--host", "127.0.0.1", "--port", "0"])
        let port = try #require(Self.port(fromListeningLine: running.firstLine()))
        #expect(try TestClient(port: port).get("/livez?while-running").status == 200)
        let line = running.standardErrorLine(containing: "lossd.access", within: 1)
        #expect(line?.contains("path=/livez") == true, "\(line ?? "no access line within 1 s")")
        #expect(running.terminate() == 0)
    }

    /// The value of an unlabelled sample in a metrics scrape, or nil when it is missing.
    static func sample(_ name: String, in scrape: String) -> Double? {
        scrape.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    @Test("a reader of standard error that never reads does not stall serving: lines are dropped and counted, /livez answers, and lines flow again once it reads",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func stalledLogReaderDoesNotStallServing() throws {
        // A 16 KiB buffer fills after ~110 access lines, on top of the ~470 the pipe (64 KiB) holds.
        let running = try Running(["--host", "127.0.0.1", "--port", "0"], environment: ["LOSSD_LOG_BUFFER_BYTES": "16384"])
        let port = try #require(Self.port(fromListeningLine: running.firstLine()))
        // Each answer within 2 s or the test fails (not hangs): before the fix, request ~470 waited for the reader.
        let client = try TestClient(port: port, timeout: 2)
        var slowest = 0.0
        for request in 0..<3000 {
            let started = Date()
            let status: Int
            do {
                status = try client.get("/livez").status
            } catch {
                Issue.record("request \(request) got no answer within 2 s: \(error)")
                _ = running.terminate(within: 3)
                return
            }
            #expect(status == 200)
            slowest = max(slowest, Date().timeIntervalSince(started))
        }
        #expect(slowest < 1, "slowest of 3000 requests: \(slowest) s")
        // On new connections, so on every event loop (an answer goes out before its line is logged:
        // before the fix, each loop still answered one such request, then stuck).
        for _ in 0..<20 { #expect(try TestClient(port: port, timeout: 2).get("/livez").status == 200) }
        let scrape = try TestClient(port: port, timeout: 2).get("/metrics").text
        let dropped = try #require(Self.sample("lossd_log_lines_dropped_total", in: scrape), "no drop counter in \(scrape)")
        #expect(dropped > 0)
        #expect(scrape.contains("# TYPE lossd_log_lines_dropped_total counter"))

        // The reader catches up: what waited is written, and a new line gets through again.
        let backlog = running.readStandardError(untilQuietFor: 0.5, within: 5)
        #expect(backlog.count > 65536, "only \(backlog.count) bytes waited")
        // Lines were dropped whole: every line that got through is a whole line with its timestamp.
        #expect(backlog.last == 0x0A)
        for line in String(decoding: backlog, as: UTF8.self).split(separator: "\n") {
            guard line.count > 25, line.dropFirst(23).hasPrefix("Z "), line.contains(" lossd") else {
                Issue.record("not a whole log line: \(line)")
                break
            }
        }
        #expect(try client.get("/after-the-reader-caught-up").status == 404)
        let line = running.standardErrorLine(containing: "path=/after-the-reader-caught-up", within: 2)
        #expect(line?.contains("status=404") == true, "\(line ?? "no access line within 2 s of reading again")")
        #expect(running.terminate(within: 5) == 0)
    }

    @Test("SIGTERM while the reader of standard error never reads: lossd still exits 0 within a few seconds",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func stalledLogReaderDoesNotBlockExit() throws {
        let running = try Running(["--host", "127.0.0.1", "--port", "0"])
        let port = try #require(Self.port(fromListeningLine: running.firstLine()))
        // ~600 access lines: more than the pipe holds, so the log writer is stuck in write(2).
        do {
            // Closed before the SIGTERM: an idle keep-alive connection would hold the drain for its
            // idle grace and lingering close, which is not what this test measures.
            let client = try TestClient(port: port, timeout: 2)
            for request in 0..<600 {
                guard (try? client.get("/livez").status) == 200 else {
                    Issue.record("request \(request) got no answer within 2 s")
                    break
                }
            }
        }
        let started = Date()
        let status = running.terminate(within: 5)
        #expect(status == 0, "exit status \(status.map(String.init) ?? "none within 5 s (killed)")")
        #expect(Date().timeIntervalSince(started) < 4)
    }

    @Test("SIGTERM mid-request: the request still gets its answer, then lossd exits 0",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func drainsInFlightRequest() throws {
        let running = try Running(["--host", "127.0.0.1", "--port", "0", "--drain-timeout", "5"])
        let port = try #require(Self.port(fromListeningLine: running.firstLine()))
        let client = try TestClient(port: port)
        let body = #"{"predictions": [1, 2], "targets": [0, 0]}"#
        client.send("POST /loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                    + body.prefix(10))
        usleep(200_000)
        kill(running.process.processIdentifier, SIGTERM)
        usleep(200_000)
        #expect(running.process.isRunning, "lossd must wait for the request in flight")
        client.send(String(body.dropFirst(10)))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(try TestJSON.parse(response.body)["loss"]?.double == 2.5)
        #expect(response.header("Connection")?.lowercased() == "close")
        #expect(client.isClosedByPeer())
        #expect(running.waitForExit(within: 5) == 0)
        #expect(running.standardError.contains("SIGTERM"))
    }

    @Test("the environment variables apply when no flag is given; JSON logs are one object per line",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func environmentAndJSONLogs() throws {
        let running = try Running([], environment: ["LOSSD_HOST": "127.0.0.1", "LOSSD_PORT": "0",
                                                    "LOSSD_LOG_FORMAT": "json", "LOSSD_CORS_ORIGINS": "https://dash.example"])
        let line = running.firstLine()
        #expect(line?.hasPrefix("lossd listening on http://127.0.0.1:") == true, "\(line ?? "nothing")")
        let port = try #require(Self.port(fromListeningLine: line))
        let response = try TestClient(port: port).get("/readyz", headers: [("Origin", "https://dash.example")])
        #expect(response.header("Access-Control-Allow-Origin") == "https://dash.example")
        #expect(running.terminate() == 0)
        let access = try running.standardError.split(separator: "\n").map { try TestJSON.parse(String($0)) }
            .first { $0["path"]?.string == "/readyz" }
        #expect(access?["method"]?.string == "GET")
        #expect(access?["status"]?.int == 200)
        #expect(access?["duration_ms"]?.double != nil)
        #expect(access?["level"]?.string == "info")
    }

    @Test("the tensor limit follows --max-body-bytes unless --max-tensor-bytes or LOSSD_MAX_TENSOR_BYTES sets it; the flag wins",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func tensorLimit() throws {
        // 150 + 1 numbers: 1208 bytes of tensors from a body of 332 bytes.
        let body = #"{"predictions": ["# + Array(repeating: "0", count: 150).joined(separator: ",") + #"], "targets": 0}"#
        let number125 = 17 + 2 * 125  // 1000 bytes hold 125 numbers
        let target = body.utf8.count - 2  // 1200 bytes hold the 150 predictions
        for (arguments, environment, limit, offset) in [
            (["--max-body-bytes", "1000"], [:], 1000, number125),
            (["--max-body-bytes", "1000"], ["LOSSD_MAX_TENSOR_BYTES": "1200"], 1200, target),
            (["--max-body-bytes", "1000", "--max-tensor-bytes", "1208"], ["LOSSD_MAX_TENSOR_BYTES": "1200"], nil, 0),
        ] as [([String], [String: String], Int?, Int)] {
            let running = try Running(["--host", "127.0.0.1", "--port", "0"] + arguments, environment: environment)
            let port = try #require(Self.port(fromListeningLine: running.firstLine()))
            let response = try TestClient(port: port).post("/loss/mse", body)
            if let limit {
                #expect(response.status == 413, "\(arguments) \(environment): \(response.text)")
                #expect(response.text.contains("byte \(offset) takes the request's tensors past the limit of \(limit) bytes"),
                        "\(response.text)")
            } else {
                #expect(response.status == 422, "\(response.text)")  // decoded whole: the shapes differ
            }
            #expect(running.terminate() == 0)
        }
        let (status, text) = try Self.run([], environment: ["LOSSD_MAX_TENSOR_BYTES": "0"])
        #expect(status == 64)
        #expect(text.contains("LOSSD_MAX_TENSOR_BYTES"), "\(text)")
    }

    /// Waits for `running` to answer one request. Why: a SIGTERM sent the
    /// moment the listening line appears can be lost (Shutdown.install sets
    /// SIG_IGN before Dispatch has registered its signal source, which it does
    /// asynchronously), and lossd then runs on; the other tests here make a
    /// request first too.
    static func answerOnce(_ running: Running) throws {
        let port = try #require(Self.port(fromListeningLine: running.firstLine()))
        #expect(try TestClient(port: port).get("/livez").status == 200)
    }

    @Test("the start-up line logs the event loops and the memory budget with where each came from, the storage pool's limit and the loss kernels taken; each flag wins over its variable",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func startUpLogsLoopsAndBudget() throws {
        // auto: AVX2 where this CPU has it (the last supported path), whatever LOSSD_KERNELS says.
        let auto = try #require(KernelPath.supported.last).rawValue
        for (arguments, environment, budget, pool, kernels) in [
            (["--memory-budget", "268435456", "--storage-pool-bytes", "0", "--kernels", "auto"],
             ["LOSSD_MEMORY_BUDGET": "1000", "LOSSD_STORAGE_POOL_BYTES": "5", "LOSSD_KERNELS": "baseline"],
             "268435456", "0", auto),
            ([], ["LOSSD_MEMORY_BUDGET": "1000", "LOSSD_EVENT_LOOPS": "3", "LOSSD_KERNELS": "baseline"], "1000", "125", "baseline"),
            (["--kernels", "baseline", "--memory-budget", "4294967296"], ["LOSSD_STORAGE_POOL_BYTES": "4194304"],
             "4294967296", "4194304", "baseline"),
            (["--memory-budget", "4294967296"], [:], "4294967296", "268435456", auto),
        ] as [([String], [String: String], String, String, String)] {
            let running = try Running(["--host", "127.0.0.1", "--port", "0"] + arguments, environment: environment)
            try Self.answerOnce(running)
            #expect(running.terminate() == 0)
            let log = running.standardError
            #expect(log.contains("memory_budget=\(budget)") && log.contains("memory_budget_from=configured"), "\(log)")
            #expect(log.contains("event_loops="), "\(log)")
            #expect(log.contains("storage_pool_bytes=\(pool) "), "\(log)")
            #expect(log.contains("kernels=\(kernels) "), "\(log)")
        }
        let running = try Running(["--host", "127.0.0.1", "--port", "0"], environment: [:])
        try Self.answerOnce(running)
        #expect(running.terminate() == 0)
        #expect(running.standardError.contains("memory_budget_from=\""), "\(running.standardError)")
        let (status, text) = try Self.run([], environment: ["LOSSD_MEMORY_WAIT": "-1"])
        #expect(status == 64)
        #expect(text.contains("LOSSD_MEMORY_WAIT"), "\(text)")
    }

    @Test("an environment variable that does not parse is an error naming it, not a silent default",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func badVariable() throws {
        let (status, text) = try Self.run([], environment: ["LOSSD_MAX_BODY_BYTES": "lots"])
        #expect(status == 64)
        #expect(text.contains("LOSSD_MAX_BODY_BYTES"))
        #expect(try Self.run(["--log-format", "xml"]).status == 64)
        #expect(try Self.run(["--port", "70000"]).status == 64)
        let (zeroLoops, zeroText) = try Self.run([], environment: ["LOSSD_EVENT_LOOPS": "0"])
        #expect(zeroLoops == 64)
        #expect(zeroText.contains("LOSSD_EVENT_LOOPS"), "\(zeroText)")
        let (zeroBuffer, zeroBufferText) = try Self.run([], environment: ["LOSSD_LOG_BUFFER_BYTES": "0"])
        #expect(zeroBuffer == 64)
        #expect(zeroBufferText.contains("LOSSD_LOG_BUFFER_BYTES"), "\(zeroBufferText)")
        let (negativeRate, negativeText) = try Self.run([], environment: ["LOSSD_MIN_BODY_RATE": "-1"])
        #expect(negativeRate == 64)
        #expect(negativeText.contains("LOSSD_MIN_BODY_RATE (or its flag) must be 0 or positive"), "\(negativeText)")
    }

    @Test("healthcheck exits 1 when nothing answers",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func healthcheckFails() throws {
        #expect(try Self.run(["healthcheck"], environment: ["LOSSD_PORT": "\(Self.justFreedPort())"]).status == 1)
    }

    /// A loopback port that was free a moment ago (bound, then closed), so nothing answers on it.
    static func justFreedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length); return getsockname(fd, $0, &length) }
        }
        close(fd)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The HTTP tests' self-signed certificate for localhost (Tests/HTTPTests/Fixtures).
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../HTTPTests/Fixtures/\(name)").standardized.path
    }

    @Test("with --tls-cert and --tls-key it serves HTTPS, and the healthcheck speaks TLS when they are set",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func servesHTTPS() throws {
        let tls = ["LOSSD_TLS_CERT": Self.fixture("localhost-cert.pem"), "LOSSD_TLS_KEY": Self.fixture("localhost-key.pem")]
        let running = try Running(["--host", "127.0.0.1", "--port", "0"], environment: tls)
        let line = running.firstLine()
        #expect(line?.hasPrefix("lossd listening on https://127.0.0.1:") == true, "\(line ?? "nothing")")
        let port = try #require(Self.port(fromListeningLine: line))
        #expect(try Self.run(["healthcheck", "--port", "\(port)"], environment: tls).status == 0)
        // In clear, the TLS port answers 400: the plain healthcheck fails.
        #expect(try Self.run(["healthcheck", "--port", "\(port)"]).status == 1)
        #expect(running.terminate() == 0)
        let log = running.standardError  // read once: it reads the pipe to its end
        #expect(log.contains("path=/livez") && log.contains("status=200"), "\(log)")
    }

    @Test("a TLS certificate without its key (or the reverse) is an error naming both settings",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func tlsNeedsBothFiles() throws {
        let (status, text) = try Self.run(["--port", "0", "--tls-cert", Self.fixture("localhost-cert.pem")])
        #expect(status == 64)
        #expect(text.contains("--tls-key (LOSSD_TLS_KEY) is not"), "\(text)")
        let (keyStatus, keyText) = try Self.run(["--port", "0"], environment: ["LOSSD_TLS_KEY": Self.fixture("localhost-key.pem")])
        #expect(keyStatus == 64)
        #expect(keyText.contains("--tls-cert (LOSSD_TLS_CERT) is not"), "\(keyText)")
    }

    @Test("a key that does not match the certificate stops start-up with a message naming the files",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func tlsKeyMismatch() throws {
        let (status, text) = try Self.run(["--host", "127.0.0.1", "--port", "0",
                                           "--tls-cert", Self.fixture("localhost-cert.pem"),
                                           "--tls-key", Self.fixture("other-key.pem")])
        #expect(status == 1)
        #expect(text.contains("does not match the certificate"), "\(text)")
    }

    @Test("a port in use is reported once, naming the address once",
          .enabled(if: binary != nil, "lossd is not built beside the tests; run swift build first"))
    func portInUse() throws {
        let running = try Running(["--host", "127.0.0.1", "--port", "0"])
        let port = try #require(Self.port(fromListeningLine: running.firstLine()))
        let (status, text) = try Self.run(["--host", "127.0.0.1", "--port", "\(port)"])
        #expect(status == 1)
        #expect(text.contains("cannot listen on 127.0.0.1:\(port): address already in use"), "\(text)")
        #expect(text.components(separatedBy: "127.0.0.1:\(port)").count == 2, "\(text)")
        #expect(running.terminate() == 0)
    }
}
