/// A Prometheus gauge without labels whose value is read at scrape time from
/// the code that keeps it: the memory budget and what requests hold of it
/// (`lossd_memory_budget_bytes`, `lossd_memory_reserved_bytes`).
struct SampledGauge: MetricFamily {
    let name: String
    let help: String
    let read: @Sendable () -> Int

    func render(into out: inout String) {
        PrometheusText.appendHeader(name: name, help: help, type: "gauge", to: &out)
        PrometheusText.appendSample(name: name, labelNames: [], labelValues: [], value: Double(read()), to: &out)
    }
}
