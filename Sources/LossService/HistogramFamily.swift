import Synchronization

/// A Prometheus histogram with a fixed list of label names and fixed bucket
/// upper bounds. Label values must come from bounded sets. Thread-safe.
final class HistogramFamily: MetricFamily {
    let name: String
    let help: String
    let labelNames: [String]
    /// The finite bucket upper bounds, ascending; `+Inf` is implied.
    let bounds: [Double]

    private struct Series {
        /// Observations per bucket, not cumulative; the last slot is `+Inf`.
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    private let series = Mutex<[[String]: Series]>([:])

    /// Request latencies: 0.1 ms to 10 s, about three buckets per decade.
    static let latencyBounds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
        0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    init(name: String, help: String, labelNames: [String] = [], bounds: [Double]) {
        precondition(!bounds.isEmpty && zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 },
                     "\(name): bucket bounds must ascend")
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.bounds = bounds
    }

    /// Creates the series for these label values, empty, so it is exported before its first observation.
    func initialise(_ labelValues: [String]) {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        let empty = Series(counts: Array(repeating: 0, count: bounds.count + 1))
        series.withLock { s in if s[labelValues] == nil { s[labelValues] = empty } }
    }

    /// Records one observation.
    func observe(_ value: Double, _ labelValues: [String] = []) {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        guard !value.isNaN else { return }
        // Buckets are "less than or equal" (le): the first bound ≥ value.
        let slot = bounds.firstIndex { value <= $0 } ?? bounds.count
        let slots = bounds.count + 1
        series.withLock { s in
            s[labelValues, default: Series(counts: Array(repeating: 0, count: slots))].counts[slot] += 1
            s[labelValues]!.sum += value
            s[labelValues]!.count += 1
        }
    }

    /// The number of observations in one series.
    func count(_ labelValues: [String] = []) -> UInt64 {
        series.withLock { $0[labelValues]?.count ?? 0 }
    }

    func render(into out: inout String) {
        let snapshot = series.withLock { $0 }
        PrometheusText.appendHeader(name: name, help: help, type: "histogram", to: &out)
        for labelValues in snapshot.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let s = snapshot[labelValues]!
            var cumulative: UInt64 = 0
            for (slot, bound) in (bounds + [.infinity]).enumerated() {
                cumulative += s.counts[slot]
                PrometheusText.appendSample(name: name + "_bucket", labelNames: labelNames, labelValues: labelValues,
                                            extraLabel: ("le", PrometheusText.format(bound)),
                                            value: Double(cumulative), to: &out)
            }
            PrometheusText.appendSample(name: name + "_sum", labelNames: labelNames, labelValues: labelValues,
                                        value: s.sum, to: &out)
            PrometheusText.appendSample(name: name + "_count", labelNames: labelNames, labelValues: labelValues,
                                        value: Double(s.count), to: &out)
        }
    }
}
