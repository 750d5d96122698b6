/// One Prometheus metric family: a name, its help and type, and the samples it
/// renders at scrape time.
protocol MetricFamily: Sendable {
    /// The family's metric name, e.g. `lossd_http_requests_total`.
    var name: String { get }
    /// Appends the family's HELP and TYPE lines and its samples, in text format 0.0.4.
    func render(into out: inout String)
}
