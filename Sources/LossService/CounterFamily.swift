import HTTP
import Synchronization

/// A Prometheus counter with a fixed list of label names. Label values must
/// come from bounded sets (routes, methods, status codes), never from raw
/// client input, so that no client can grow the series count. Thread-safe.
final class CounterFamily: MetricFamily {
    let name: String
    let help: String
    let labelNames: [String]
    /// One series' value, lock-free: a hot path keeps its cell and adds to
    /// it without the family's lock or a dictionary lookup (ServiceMetrics).
    final class Cell: Sendable {
        /// The value's bit pattern, so that it can be an atomic.
        private let bits = Atomic<UInt64>(0)

        /// Adds `amount`; the caller has checked it is ≥ 0.
        func add(_ amount: Double) {
            var old = bits.load(ordering: .relaxed)
            while true {
                let new = (Double(bitPattern: old) + amount).bitPattern
                let (exchanged, original) = bits.compareExchange(expected: old, desired: new, ordering: .relaxed)
                if exchanged { return }
                old = original
            }
        }

        var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
    }

    private let series = Locked<[[String]: Cell]>([:])

    init(name: String, help: String, labelNames: [String] = []) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        if labelNames.isEmpty { _ = cell([]) }
    }

    /// Creates the series for these label values at 0, so that it is exported
    /// before its first increment (a rate() over a missing series is empty).
    func initialise(_ labelValues: [String]) {
        _ = cell(labelValues)
    }

    /// The series with these label values, created at 0 when new.
    func cell(_ labelValues: [String]) -> Cell {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        return series.withLock { s in
            if let cell = s[labelValues] { return cell }
            let cell = Cell()
            s[labelValues] = cell
            return cell
        }
    }

    /// Adds `amount` (≥ 0: a counter never goes down) to the series with these label values.
    func increment(_ labelValues: [String] = [], by amount: Double = 1) {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        guard amount >= 0 else { return }
        cell(labelValues).add(amount)
    }

    /// The current value of one series (0 when it does not exist yet).
    func value(_ labelValues: [String] = []) -> Double {
        series.withLock { $0[labelValues] }?.value ?? 0
    }

    func render(into out: inout String) {
        let snapshot = series.withLock { $0 }
        PrometheusText.appendHeader(name: name, help: help, type: "counter", to: &out)
        for labelValues in snapshot.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            PrometheusText.appendSample(name: name, labelNames: labelNames, labelValues: labelValues,
                                        value: snapshot[labelValues]!.value, to: &out)
        }
    }
}
