"""Checks deploy/kubernetes/servicemonitor.yaml, which kubernetes-validate
cannot (its bundled schemas have no CRD kinds, so it only warns): the fields
used are those of the Prometheus Operator's monitoring.coreos.com/v1
ServiceMonitor (an unknown one is an error, as with --strict), and the
monitor finds lossd: its selector matches the Service's labels, its endpoint
names a port of the Service, and it scrapes the path the prometheus.io
annotations name, with a timeout within the interval.
Run by scripts/check-ship.sh with the tools venv's python (PyYAML).
Usage: python check_servicemonitor.py <servicemonitor.yaml> <service.yaml>"""
import re
import sys

import yaml

monitor_path, service_path = sys.argv[1], sys.argv[2]
with open(monitor_path) as f:
    monitor = yaml.safe_load(f)
with open(service_path) as f:
    service = yaml.safe_load(f)
errors = []

# The subset of the ServiceMonitor schema lossd uses, keys as the CRD spells them.
ALLOWED = {
    "": {"apiVersion", "kind", "metadata", "spec"},
    "metadata": {"name", "namespace", "labels", "annotations"},
    "spec": {"selector", "endpoints", "jobLabel", "namespaceSelector"},
    "spec.selector": {"matchLabels", "matchExpressions"},
    "spec.endpoints[]": {"port", "path", "scheme", "interval", "scrapeTimeout", "honorLabels"},
}


def strict(node, where):
    if not isinstance(node, dict):
        errors.append("%s: expected an object" % (where or "document"))
        return
    unknown = set(node) - ALLOWED[where]
    if unknown:
        errors.append("%s: unknown field(s) %s" % (where or "document", sorted(unknown)))


def seconds(duration):
    match = re.fullmatch(r"(\d+)(s|m)", str(duration))
    if not match:
        errors.append("duration %r is not like 15s or 1m" % duration)
        return 0
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


strict(monitor, "")
if monitor.get("apiVersion") != "monitoring.coreos.com/v1" or monitor.get("kind") != "ServiceMonitor":
    errors.append("not a monitoring.coreos.com/v1 ServiceMonitor")
strict(monitor.get("metadata"), "metadata")
spec = monitor.get("spec") or {}
strict(spec, "spec")
strict(spec.get("selector"), "spec.selector")
endpoints = spec.get("endpoints") or []
if not endpoints:
    errors.append("spec.endpoints is empty")
for endpoint in endpoints:
    strict(endpoint, "spec.endpoints[]")

labels = (service.get("metadata") or {}).get("labels") or {}
wanted = (spec.get("selector") or {}).get("matchLabels") or {}
if not wanted or any(labels.get(k) != v for k, v in wanted.items()):
    errors.append("selector %s does not match the Service's labels %s" % (wanted, labels))
ports = {p.get("name") for p in (service.get("spec") or {}).get("ports", [])}
annotations = (service.get("metadata") or {}).get("annotations") or {}
for endpoint in endpoints:
    if endpoint.get("port") not in ports:
        errors.append("endpoint port %r is not a port of the Service %s" % (endpoint.get("port"), sorted(ports)))
    if endpoint.get("path", "/metrics") != annotations.get("prometheus.io/path", "/metrics"):
        errors.append("endpoint path %r is not the annotations' %r" % (endpoint.get("path"), annotations.get("prometheus.io/path")))
    if seconds(endpoint.get("scrapeTimeout", "10s")) > seconds(endpoint.get("interval", "30s")):
        errors.append("scrapeTimeout is longer than the interval")

for error in errors:
    print("%s: %s" % (monitor_path, error))
sys.exit(1 if errors else 0)
