/// A Prometheus counter without labels whose count is kept outside
/// LossService and read at scrape time: the log lines the lossd executable
/// dropped (`lossd_log_lines_dropped_total`). The code that counts needs no
/// metrics type, and LossService needs no import of the executable.
struct SampledCounter: MetricFamily {
    let name: String
    let help: String
    /// The count so far; it must never go down.
    let read: @Sendable () -> Int

    func render(into out: inout String) {
        PrometheusText.appendHeader(name: name, help: help, type: "counter", to: &out)
        PrometheusText.appendSample(name: name, labelNames: [], labelValues: [], value: Double(read()), to: &out)
    }
}
