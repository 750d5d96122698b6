import Foundation
import HTTP
import Synchronization
import Testing
@testable import LossService

@Suite struct PrometheusTextTests {
    @Test("values are written as Prometheus writes them", arguments: [
        (0.0, "0"), (3.0, "3"), (-2.0, "-2"), (2.5, "2.5"), (0.0001, "0.0001"), (0.00025, "0.00025"),
        (1e20, "1e+20"), (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (Double.nan, "NaN"),
    ])
    func format(value: Double, text: String) {
        #expect(PrometheusText.format(value) == text)
    }

    @Test("label values escape backslash, double quote and line feed")
    func labelEscaping() {
        var out = ""
        PrometheusText.appendSample(name: "m", labelNames: ["a"], labelValues: ["x\\y\"z\nw"], value: 1, to: &out)
        #expect(out == "m{a=\"x\\\\y\\\"z\\nw\"} 1\n")
    }

    @Test("HELP text escapes backslash and line feed")
    func helpEscaping() {
        var out = ""
        PrometheusText.appendHeader(name: "m", help: "a\\b\nc", type: "gauge", to: &out)
        #expect(out == "# HELP m a\\\\b\\nc\n# TYPE m gauge\n")
    }
}

@Suite struct MetricFamilyTests {
    @Test("a counter renders HELP, TYPE and its series sorted by label values")
    func counter() {
        let counter = CounterFamily(name: "c_total", help: "Things.", labelNames: ["k"])
        counter.increment(["b"])
        counter.increment(["a"], by: 2)
        counter.increment(["b"], by: 0.5)
        counter.increment(["a"], by: -1)  // ignored: counters never go down
        var out = ""
        counter.render(into: &out)
        #expect(out == """
            # HELP c_total Things.
            # TYPE c_total counter
            c_total{k="a"} 2
            c_total{k="b"} 1.5

            """)
    }

    @Test("a counter without labels starts at 0")
    func unlabelledCounter() {
        var out = ""
        CounterFamily(name: "c_total", help: "H.").render(into: &out)
        #expect(out.hasSuffix("\nc_total 0\n"))
    }

    @Test("a histogram renders cumulative le buckets, +Inf, _sum and _count")
    func histogram() {
        let histogram = HistogramFamily(name: "h_seconds", help: "Latency.", labelNames: ["route"], bounds: [0.1, 1])
        histogram.observe(0.05, ["/x"])
        histogram.observe(0.1, ["/x"])  // le is inclusive
        histogram.observe(0.5, ["/x"])
        histogram.observe(7, ["/x"])
        var out = ""
        histogram.render(into: &out)
        #expect(out == """
            # HELP h_seconds Latency.
            # TYPE h_seconds histogram
            h_seconds_bucket{route="/x",le="0.1"} 2
            h_seconds_bucket{route="/x",le="1"} 3
            h_seconds_bucket{route="/x",le="+Inf"} 4
            h_seconds_sum{route="/x"} 7.65
            h_seconds_count{route="/x"} 4

            """)
    }

    @Test("the latency buckets span 0.1 ms to 10 s")
    func latencyBounds() {
        #expect(HistogramFamily.latencyBounds.first == 0.0001)
        #expect(HistogramFamily.latencyBounds.last == 10)
    }

    @Test("a gauge goes up and down")
    func gauge() {
        let gauge = Gauge(name: "g", help: "G.")
        gauge.increment(); gauge.increment(); gauge.decrement()
        var out = ""
        gauge.render(into: &out)
        #expect(out == "# HELP g G.\n# TYPE g gauge\ng 1\n")
    }

    @Test("concurrent increments are all counted")
    func concurrency() async {
        let counter = CounterFamily(name: "c_total", help: "H.", labelNames: ["k"])
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask { for _ in 0..<1000 { counter.increment(["\(task % 2)"]) } }
            }
        }
        #expect(counter.value(["0"]) == 4000)
        #expect(counter.value(["1"]) == 4000)
    }
}

@Suite struct ServiceMetricsTests {
    static func exchange(_ method: Method?, _ path: String, status: Status, routed: Bool = true,
                         requestBytes: Int = 0, responseBytes: Int = 0, duration: Double = 0.002) -> Exchange {
        let head = method.map { RequestHead(method: $0, target: path, version: .http1_1, headers: [:]) }
        return Exchange(head: head, wasRouted: routed, status: status, requestBodyBytes: requestBytes,
                        responseBodyBytes: responseBytes, duration: duration)
    }

    @Test("method labels are the five the contract names", arguments: [
        (Method.get, "GET"), (.head, "HEAD"), (.post, "POST"), (.options, "OPTIONS"), (.put, "OTHER"),
        (.delete, "OTHER"), (.patch, "OTHER"), (.trace, "OTHER"), (.connect, "OTHER"), (.query, "OTHER"),
    ])
    func methodLabels(method: Method, label: String) {
        #expect(ServiceMetrics.methodLabel(method) == label)
    }

    @Test("an exchange lands in every per-request family with exact lines")
    func recordsExchange() {
        let metrics = ServiceMetrics(includeProcessMetrics: false)
        metrics.record(Self.exchange(.post, "/loss/mse", status: .ok, requestBytes: 120, responseBytes: 80,
                                     duration: 0.003), route: "/loss/mse")
        metrics.record(Self.exchange(nil, "", status: .badRequest, routed: false, responseBytes: 99), route: "unmatched")
        metrics.recordScored(.meanSquaredError, elements: 6)
        let lines = Set(metrics.render().split(separator: "\n").map(String.init))
        for expected in [
            #"lossd_http_requests_total{method="POST",route="/loss/mse",status="200"} 1"#,
            #"lossd_http_requests_total{method="OTHER",route="unmatched",status="400"} 1"#,
            #"lossd_http_request_duration_seconds_bucket{route="/loss/mse",le="0.0025"} 0"#,
            #"lossd_http_request_duration_seconds_bucket{route="/loss/mse",le="0.005"} 1"#,
            #"lossd_http_request_duration_seconds_bucket{route="/loss/mse",le="+Inf"} 1"#,
            #"lossd_http_request_duration_seconds_count{route="/loss/mse"} 1"#,
            #"lossd_http_request_duration_seconds_sum{route="/loss/mse"} 0.003"#,
            #"lossd_http_request_body_bytes_total{route="/loss/mse"} 120"#,
            #"lossd_http_response_body_bytes_total{route="/loss/mse"} 80"#,
            #"lossd_http_response_body_bytes_total{route="unmatched"} 99"#,
            #"lossd_loss_elements_total{loss="mse"} 6"#,
            #"lossd_loss_elements_total{loss="ce"} 0"#,
            "lossd_http_requests_in_flight 0",
            "# TYPE lossd_http_requests_total counter",
            "# TYPE lossd_http_request_duration_seconds histogram",
            "# TYPE lossd_http_requests_in_flight gauge",
            "# TYPE lossd_http_request_body_bytes_total counter",
            "# TYPE lossd_http_response_body_bytes_total counter",
            "# TYPE lossd_loss_elements_total counter",
            "# TYPE lossd_log_lines_dropped_total counter",
            "lossd_log_lines_dropped_total 0",
        ] {
            #expect(lines.contains(expected), "missing line: \(expected)")
        }
    }

    @Test("the executable's dropped log lines are read at each scrape")
    func logLinesDropped() {
        final class Dropped: Sendable { let count = Atomic<Int>(0) }
        let dropped = Dropped()
        let metrics = ServiceMetrics(includeProcessMetrics: false, logLinesDropped: { dropped.count.load(ordering: .relaxed) })
        #expect(metrics.render().contains("\nlossd_log_lines_dropped_total 0\n"))
        dropped.count.add(42, ordering: .relaxed)
        let text = metrics.render()
        #expect(text.contains("# HELP lossd_log_lines_dropped_total Log lines not written"), "\(text)")
        #expect(text.contains("\nlossd_log_lines_dropped_total 42\n"), "\(text)")
    }

    @Test("process metrics are read from /proc")
    func processMetrics() throws {
        let text = ServiceMetrics().render()
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                     "process_max_fds", "process_start_time_seconds"] {
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(name + " ") })
            let value = try #require(Double(line.split(separator: " ")[1]))
            #expect(value > 0, "\(name) = \(value)")
        }
        let start = try #require(ProcessMetrics.read().startTimeSeconds)
        // Started within the last day, not in the future.
        #expect(abs(Date().timeIntervalSince1970 - start) < 86_400)
        let rss = try #require(ProcessMetrics.read().residentBytes)
        #expect(rss > 1_048_576)
    }

    @Test("/proc/self/stat fields are split after the last parenthesis, whatever comm holds")
    func statFields() throws {
        let fields = try #require(ProcessMetrics.statFields("42 (a) b (c) S 1 2 3"))
        #expect(fields == ["S", "1", "2", "3"])
    }
}

/// `promtool check metrics` on the real scrape output.
@Suite struct PromtoolTests {
    static let promtool: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/promtool" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    @Test("the metrics text passes promtool check metrics",
          .enabled(if: promtool != nil, "promtool is not installed (Debian package prometheus); skipping"))
    func promtoolAcceptsScrape() throws {
        let metrics = ServiceMetrics()
        for (method, path, status) in [(Method.post, "/loss/ce", Status.ok), (.get, "/readyz", .serviceUnavailable),
                                       (.put, "/loss/ce", .methodNotAllowed), (.get, "/nope", .notFound)] {
            let route = Router().route(forPath: path)?.path ?? ServiceMetrics.unmatchedRoute
            metrics.record(ServiceMetricsTests.exchange(method, path, status: status, requestBytes: 10,
                                                        responseBytes: 20), route: route)
        }
        metrics.recordScored(.crossEntropy, elements: 12)
        let text = metrics.render()

        let (status, report) = try Self.check(Array(text.utf8))
        #expect(status == 0, "promtool: \(report)")
        #expect(report.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool lint: \(report)")
    }

    /// Runs `promtool check metrics` on `exposition`: its exit status and what it printed.
    static func check(_ exposition: [UInt8]) throws -> (status: Int32, report: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(promtool))
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(exposition))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, report)
    }
}
