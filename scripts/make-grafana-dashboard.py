#!/usr/bin/env python3
"""Writes the Grafana dashboard deploy/grafana/lossd.json (stdout): edit this,
not the JSON, then `python3 scripts/make-grafana-dashboard.py > deploy/grafana/lossd.json`.
scripts/check-dashboards.sh checks the two agree and evaluates every query."""
import json
sel = 'job=~"$job", instance=~"$instance"'
ds = {"type": "prometheus", "uid": "${datasource}"}
panels = []
def panel(title, desc, targets, unit, x, y, w=12, h=8, stack=False):
    pid = len(panels) + 1
    panels.append({
        "id": pid, "type": "timeseries", "title": title, "description": desc,
        "datasource": ds, "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"fillOpacity": 10, "showPoints": "never",
                                                          "stacking": {"mode": "normal" if stack else "none"}}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [{"datasource": ds, "refId": chr(65 + i), "expr": e, "legendFormat": l, "range": True}
                    for i, (e, l) in enumerate(targets)],
    })
r = "[$__rate_interval]"
panel("Requests/s by route and status", "lossd_http_requests_total: every answered request, the server's own errors included (route `unmatched`).",
      [(f'sum by (route, status) (rate(lossd_http_requests_total{{{sel}}}{r}))', "{{route}} {{status}}")], "reqps", 0, 0, stack=True)
panel("Loss latency p50 / p95 / p99", "From lossd_http_request_duration_seconds over the /loss/* routes: first request byte to last response byte.",
      [(f'histogram_quantile({q}, sum by (le) (rate(lossd_http_request_duration_seconds_bucket{{{sel}, route=~"/loss/.+"}}{r})))', f"p{int(q*100)}")
       for q in (0.5, 0.95, 0.99)], "s", 12, 0)
panel("Requests in flight", "lossd_http_requests_in_flight, by instance.",
      [(f'sum by (instance) (lossd_http_requests_in_flight{{{sel}}})', "{{instance}}")], "short", 0, 8)
panel("Body MB/s", "Request bodies received and response bodies sent, as on the wire (compressed where gzip was used).",
      [(f'sum by (route) (rate(lossd_http_request_body_bytes_total{{{sel}}}{r}))', "in {{route}}"),
       (f'-sum by (route) (rate(lossd_http_response_body_bytes_total{{{sel}}}{r}))', "out {{route}}")], "Bps", 12, 8)
panel("Elements/s by loss", "lossd_loss_elements_total: prediction elements scored, by loss.",
      [(f'sum by (loss) (rate(lossd_loss_elements_total{{{sel}}}{r}))', "{{loss}}")], "short", 0, 16)
panel("503s by route", "Service Unavailable answers: the connection cap (--max-connections; route `unmatched`) and drains.",
      [(f'sum by (route) (rate(lossd_http_requests_total{{{sel}, status="503"}}{r}))', "{{route}}")], "reqps", 12, 16)
panel("Resident memory", "process_resident_memory_bytes, by instance.",
      [(f'process_resident_memory_bytes{{{sel}}}', "{{instance}}")], "bytes", 0, 24, w=8)
panel("CPU", "process_cpu_seconds_total as cores in use, by instance.",
      [(f'rate(process_cpu_seconds_total{{{sel}}}{r})', "{{instance}}")], "short", 8, 24, w=8)
panel("Open file descriptors", "process_open_fds against process_max_fds, by instance.",
      [(f'process_open_fds{{{sel}}}', "open {{instance}}"), (f'process_max_fds{{{sel}}}', "max {{instance}}")], "short", 16, 24, w=8)
panel("Rejected requests by reason", "lossd_rejected_requests_total: requests turned away, such as by the memory budget.",
      [(f'sum by (reason) (rate(lossd_rejected_requests_total{{{sel}}}{r}))', "{{reason}}")], "reqps", 0, 32)
panel("Instances scraped and ready", "up: instances answering scrapes; lossd_ready: those whose /readyz says ready (0 once a drain begins).",
      [(f'sum(up{{{sel}}})', "up"), (f'sum(lossd_ready{{{sel}}})', "ready")], "short", 12, 32)

def query_var(name, label, query):
    return {"name": name, "label": label, "type": "query", "datasource": ds,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "sort": 1}

dashboard = {
    "title": "lossd", "uid": "lossd", "tags": ["lossd"], "timezone": "utc",
    "description": "lossd: traffic, latency, losses and the process (deploy/grafana/lossd.json; checked by scripts/check-dashboards.sh).",
    "editable": True, "graphTooltip": 1, "refresh": "30s", "schemaVersion": 39, "version": 1,
    "time": {"from": "now-1h", "to": "now"},
    "__inputs": [],
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1, "regex": ""},
        query_var("job", "Job", "label_values(lossd_http_requests_total, job)"),
        query_var("instance", "Instance", 'label_values(lossd_http_requests_total{job=~"$job"}, instance)'),
    ]},
    "annotations": {"list": []},
    "panels": panels,
}
print(json.dumps(dashboard, indent=2))
