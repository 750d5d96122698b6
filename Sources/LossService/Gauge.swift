import Synchronization

/// A Prometheus gauge without labels, holding an integer (e.g. requests in
/// flight). Lock-free and thread-safe.
final class Gauge: MetricFamily {
    let name: String
    let help: String
    private let current = Atomic<Int>(0)

    init(name: String, help: String) {
        self.name = name
        self.help = help
    }

    func increment() { current.add(1, ordering: .relaxed) }
    func decrement() { current.subtract(1, ordering: .relaxed) }

    /// The current value.
    var value: Int { current.load(ordering: .relaxed) }

    func render(into out: inout String) {
        PrometheusText.appendHeader(name: name, help: help, type: "gauge", to: &out)
        PrometheusText.appendSample(name: name, labelNames: [], labelValues: [], value: Double(value), to: &out)
    }
}
