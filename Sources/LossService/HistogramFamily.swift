import HTTP

/// A Prometheus histogram with a fixed list of label names and fixed bucket
/// upper bounds. Label values must come from bounded sets. Thread-safe.
final class HistogramFamily: MetricFamily {
    let name: String
    let help: String
    let labelNames: [String]
    /// The finite bucket upper bounds, ascending; `+Inf` is implied.
    let bounds: [Double]

    fileprivate struct Series {
        /// Observations per bucket, not cumulative; the last slot is `+Inf`.
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    /// One series, with its own lock: a hot path keeps its cell and observes
    /// into it without the family's lock or a dictionary lookup (ServiceMetrics).
    final class Cell: Sendable {
        fileprivate let series: Locked<Series>
        private let bounds: [Double]

        fileprivate init(bounds: [Double]) {
            self.bounds = bounds
            series = Locked(Series(counts: Array(repeating: 0, count: bounds.count + 1)))
        }

        /// Records one observation.
        func observe(_ value: Double) {
            guard !value.isNaN else { return }
            // Buckets are "less than or equal" (le): the first bound ≥ value.
            let slot = bounds.firstIndex { value <= $0 } ?? bounds.count
            series.withLock { s in
                s.counts[slot] += 1
                s.sum += value
                s.count += 1
            }
        }
    }

    private let series = Locked<[[String]: Cell]>([:])

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
        _ = cell(labelValues)
    }

    /// The series with these label values, created empty when new.
    func cell(_ labelValues: [String]) -> Cell {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        return series.withLock { s in
            if let cell = s[labelValues] { return cell }
            let cell = Cell(bounds: bounds)
            s[labelValues] = cell
            return cell
        }
    }

    /// Records one observation.
    func observe(_ value: Double, _ labelValues: [String] = []) {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        guard !value.isNaN else { return }
        cell(labelValues).observe(value)
    }

    /// The number of observations in one series.
    func count(_ labelValues: [String] = []) -> UInt64 {
        series.withLock { $0[labelValues] }?.series.withLock { $0.count } ?? 0
    }

    func render(into out: inout String) {
        let snapshot = series.withLock { $0 }
        PrometheusText.appendHeader(name: name, help: help, type: "histogram", to: &out)
        for labelValues in snapshot.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let s = snapshot[labelValues]!.series.withLock { $0 }
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
