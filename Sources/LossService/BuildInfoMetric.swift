/// `lossd_build_info{version, revision} 1`: the Prometheus convention for
/// exporting what is running (a constant gauge whose labels carry the
/// information), so a dashboard can tell which build answered.
final class BuildInfoMetric: MetricFamily {
    let name = "lossd_build_info"
    private let version: String
    private let revision: String

    init(version: String = BuildInfo.version, revision: String = BuildInfo.revision) {
        self.version = version
        self.revision = revision
    }

    func render(into out: inout String) {
        PrometheusText.appendHeader(
            name: name, help: "lossd's version and the git revision it was built from; always 1.", type: "gauge",
            to: &out)
        PrometheusText.appendSample(name: name, labelNames: ["version", "revision"], labelValues: [version, revision],
                                    value: 1, to: &out)
    }
}
