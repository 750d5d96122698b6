#!/usr/bin/env bash
# The Grafana dashboard and the Prometheus rules work against a real
# Prometheus (issue #13): `promtool check rules` and `promtool test rules`
# pass; then a Prometheus on 127.0.0.1 (temporary config and data dir, 1 s
# scrapes and rule evaluations) scrapes a live lossd under a short load (the
# three losses, 422s, 404s, the page and a burst of 503s at a small connection
# cap), and every PromQL expression in deploy/grafana/lossd.json and
# deploy/prometheus/lossd-rules.yaml is evaluated through its HTTP API and must
# return data: each panel query (with $job=lossd, $instance=.*,
# $__rate_interval=30s), each variable's label_values, each recording rule
# (its expression and the series it records) and each alert's expression with
# its threshold comparison removed (each side of an `or` alone). Every rule must be loaded with health
# "ok". Expressions over a metric this lossd does not export yet
# (lossd_rejected_requests_total, lossd_ready) are reported SKIP, not passed.
#
# Usage: scripts/check-dashboards.sh <lossd-binary>
# Takes about 25 s. Needs Debian's prometheus (prometheus, promtool).
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 <lossd-binary>" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
for tool in prometheus promtool; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (apt-get install prometheus)"; exit 1; }
done

exec python3 - "$1" <<'PY'
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request

binary = os.path.abspath(sys.argv[1])
RULES, RULE_TESTS, DASHBOARD = "deploy/prometheus/lossd-rules.yaml", "deploy/prometheus/lossd-rules.test.yaml", "deploy/grafana/lossd.json"
failures, passes, skips = [], [], []


def check(ok, what, why=""):
    (passes if ok else failures).append(what + ("" if ok else ": " + why))
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not why else " -- " + why), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


made = subprocess.run([sys.executable, "scripts/make-grafana-dashboard.py"], capture_output=True, text=True, timeout=30)
with open(DASHBOARD) as f:
    check(made.returncode == 0 and made.stdout == f.read(),
          "%s is what scripts/make-grafana-dashboard.py writes" % DASHBOARD, made.stderr[-500:] or "rerun it")
for argv in (["promtool", "check", "rules", RULES], ["promtool", "test", "rules", RULE_TESTS]):
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    check(run.returncode == 0, " ".join(argv), (run.stdout + run.stderr)[-2000:])

tmp = tempfile.mkdtemp(prefix="check-dashboards-")
processes = []


def stop_all():
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    shutil.rmtree(tmp, ignore_errors=True)


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


try:
    MAX_CONNECTIONS = 8
    lossd_log = open(os.path.join(tmp, "lossd.log"), "wb")
    lossd = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0", "--log-level", "warning",
                              "--max-connections", str(MAX_CONNECTIONS), "--overflow-connections", "8"],
                             stdout=subprocess.PIPE, stderr=lossd_log)
    processes.append(lossd)
    line = lossd.stdout.readline().decode()
    if "listening on" not in line:
        raise RuntimeError("lossd did not start: %r" % line)
    port = int(line.rsplit(":", 1)[1])
    base = "http://127.0.0.1:%d" % port
    exported = get(base + "/metrics")[1].decode()

    # The rules as shipped, less the recording group's 30 s interval, so they
    # are evaluated every second here.
    with open(RULES) as f:
        rules_text = re.sub(r"(?m)^    interval: .*\n", "", f.read())
    with open(os.path.join(tmp, "rules.yaml"), "w") as f:
        f.write(rules_text)
    prom_port = free_port()
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "rule_files: [%s]\n"
                "scrape_configs:\n  - job_name: lossd\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
                % (json.dumps(os.path.join(tmp, "rules.yaml")), port))
    prom_log = open(os.path.join(tmp, "prometheus.log"), "wb")
    prometheus = subprocess.Popen(["prometheus", "--config.file=" + os.path.join(tmp, "prometheus.yml"),
                                   "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                   "--web.listen-address=127.0.0.1:%d" % prom_port, "--log.level=warn"],
                                  stdout=prom_log, stderr=prom_log)
    processes.append(prometheus)
    prom = "http://127.0.0.1:%d" % prom_port
    deadline = time.monotonic() + 20
    while True:
        try:
            if get(prom + "/-/ready", timeout=1)[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or prometheus.poll() is not None:
            raise RuntimeError("prometheus did not become ready: " + open(os.path.join(tmp, "prometheus.log")).read()[-2000:])
        time.sleep(0.2)

    # A short load: 4 keep-alive clients for 8 s.
    REQUESTS = [
        ("POST", "/loss/ce", b'{"predictions": [[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "targets": [0, 2]}'),
        ("POST", "/loss/bce", b'{"predictions": [0.9, 0.2, 0.6], "targets": [1, 0, 1]}'),
        ("POST", "/loss/mse", b'{"predictions": [[1, 2], [3, 4]], "targets": [[1, 2], [3, 5]]}'),
        ("POST", "/loss/ce", b'{"predictions": [[2.0, -1.0]], "targets": [7]}'),
        ("POST", "/loss/bce", b'{"predictions": [0.9,, 0.2], "targets": [1, 0]}'),
        ("GET", "/", b""),
        ("GET", "/no-such-route", b""),
        ("GET", "/readyz", b""),
    ]
    counts = {}
    lock = threading.Lock()

    def client(stop_at):
        import http.client
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        i = 0
        while time.monotonic() < stop_at and i < 20000:
            method, path, body = REQUESTS[i % len(REQUESTS)]
            i += 1
            try:
                connection.request(method, path, body=body or None,
                                   headers={"Content-Type": "application/json"} if body else {})
                response = connection.getresponse()
                response.read()
                with lock:
                    counts[response.status] = counts.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.close()

    stop_at = time.monotonic() + 8
    threads = [threading.Thread(target=client, args=(stop_at,), daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)

    # 503s: hold the connection cap with requests whose heads never finish,
    # then ask for more.
    holders = []
    for _ in range(MAX_CONNECTIONS):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n")
        holders.append(s)
        time.sleep(0.05)
    for _ in range(3):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
                status = int(s.recv(4096).split()[1])
                counts[status] = counts.get(status, 0) + 1
        except (OSError, IndexError, ValueError):
            pass
    for s in holders:
        s.close()
    print("load: responses by status %s" % dict(sorted(counts.items())), flush=True)
    check(counts.get(200, 0) > 100 and counts.get(503, 0) > 0, "the load got 200s and 503s", str(counts))
    time.sleep(5)  # scrapes and rule evaluations of what the load did

    def query(expr):
        url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            body = json.loads(get(url)[1])
        except urllib.error.HTTPError as error:
            return None, error.read().decode()[:300]
        return body["data"]["result"], None

    def absent_metric(expr):
        """A metric the expression needs that this lossd does not export."""
        for name in ("lossd_rejected_requests_total", "lossd_ready"):
            if name in expr and ("\n" + name) not in exported and ("# TYPE " + name) not in exported:
                return name
        return None

    def expect_data(expr, what, allow_absent=True):
        missing = absent_metric(expr) if allow_absent else None
        result, error = query(expr)
        if missing and not result:
            skips.append(what)
            print("SKIP %s -- %s is not exported by this lossd" % (what, missing), flush=True)
            return
        sample = ""
        if result:
            first = result[0]
            sample = " (%d series, e.g. %s = %s)" % (len(result), first["metric"], first["value"][1])
        check(bool(result), what + sample, error or "no data: " + expr)

    # The rules, as Prometheus loaded them.
    groups = json.loads(get(prom + "/api/v1/rules")[1])["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    check(len(rules) >= 10, "prometheus loaded %d rules" % len(rules))
    for rule in rules:
        name = rule.get("name")
        check(rule.get("health") == "ok", "rule %s evaluates (health %s)" % (name, rule.get("health")), rule.get("lastError", ""))
        if rule["type"] == "recording":
            expect_data(rule["query"], "recording rule %s: its expression" % name)
            expect_data(name, "recording rule %s: the recorded series" % name)
        else:
            # The alert's expression less its threshold: what it compares must exist.
            # Each side of an `or` on its own, so neither hides an empty other.
            stripped = re.sub(r"\s*(==|!=|>=|<=|>|<)\s*-?[0-9.e+]+", "", rule["query"])
            for part in re.split(r"\s+or\s+", stripped):
                expect_data(part, "alert %s: %s" % (name, part.replace("\n", " ")))

    # The dashboard.
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    check(variables.get("datasource", {}).get("type") == "datasource"
          and variables["datasource"].get("query") == "prometheus", "the dashboard has a prometheus datasource variable")
    for panel in dashboard["panels"]:
        check(panel.get("datasource", {}).get("uid") == "${datasource}"
              and all(t.get("datasource", {}).get("uid") == "${datasource}" for t in panel["targets"]),
              "panel '%s' uses ${datasource}" % panel["title"])
        for target in panel["targets"]:
            expr = (target["expr"].replace("$__rate_interval", "30s")
                    .replace("$job", "lossd").replace("$instance", ".*"))
            expect_data(expr, "panel '%s' %s: %s" % (panel["title"], target["refId"], expr))
    for name in ("job", "instance"):
        q = variables[name]["query"]["query"].replace("$job", "lossd")
        m = re.fullmatch(r"label_values\((.+), (\w+)\)", q)
        url = prom + "/api/v1/label/%s/values?%s" % (m.group(2), urllib.parse.urlencode({"match[]": m.group(1)}))
        values = json.loads(get(url)[1])["data"]
        check(bool(values), "variable $%s: %s -> %s" % (name, q, values))

    # The page has its own route label, not unmatched.
    result, _ = query('lossd_http_requests_total{route="/", status="200"}')
    check(bool(result), 'GET / is counted under route="/"')
finally:
    stop_all()

print("\ncheck-dashboards: %d passed, %d failed, %d skipped" % (len(passes), len(failures), len(skips)))
for failure in failures:
    print("  FAIL " + failure)
print("FAIL" if failures else "PASS")
sys.exit(1 if failures else 0)
PY
