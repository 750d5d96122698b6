import Synchronization

/// A Prometheus counter with a fixed list of label names. Label values must
/// come from bounded sets (routes, methods, status codes), never from raw
/// client input, so that no client can grow the series count. Thread-safe.
final class CounterFamily: MetricFamily {
    let name: String
    let help: String
    let labelNames: [String]
    private let series = Mutex<[[String]: Double]>([:])

    init(name: String, help: String, labelNames: [String] = []) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        if labelNames.isEmpty { series.withLock { $0[[]] = 0 } }
    }

    /// Creates the series for these label values at 0, so that it is exported
    /// before its first increment (a rate() over a missing series is empty).
    func initialise(_ labelValues: [String]) {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        series.withLock { s in if s[labelValues] == nil { s[labelValues] = 0 } }
    }

    /// Adds `amount` (≥ 0: a counter never goes down) to the series with these label values.
    func increment(_ labelValues: [String] = [], by amount: Double = 1) {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        guard amount >= 0 else { return }
        series.withLock { $0[labelValues, default: 0] += amount }
    }

    /// The current value of one series (0 when it does not exist yet).
    func value(_ labelValues: [String] = []) -> Double {
        series.withLock { $0[labelValues] ?? 0 }
    }

    func render(into out: inout String) {
        let snapshot = series.withLock { $0 }
        PrometheusText.appendHeader(name: name, help: help, type: "counter", to: &out)
        for labelValues in snapshot.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            PrometheusText.appendSample(name: name, labelNames: labelNames, labelValues: labelValues,
                                        value: snapshot[labelValues]!, to: &out)
        }
    }
}
