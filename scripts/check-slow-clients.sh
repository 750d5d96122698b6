#!/usr/bin/env bash
# Reproduces issue #17's slow-body attack at CI scale against a live lossd and
# checks that it no longer takes the server down:
#   - lossd runs with --max-connections 128 and otherwise its defaults
#     (--body-timeout 10 s, the grace; --min-body-rate 1024 bytes/s);
#   - one normal client keeps posting small /loss/ce requests on a keep-alive
#     connection all along, and its latency (p50, p99) is measured;
#   - 128 slow clients open POST /loss/ce with Content-Length: 1000000, send
#     '{"predictions": [' and then '1.0,' every 5 s, as in the report: the
#     normal client's connection and theirs fill the cap;
#   - new clients probing during the attack must get 503 with Retry-After and
#     a problem document, not a reset;
#   - every slow client must be cut with a 408 within the grace + 3 s;
#   - afterwards a new client is served, and at the cap filled with idle
#     connections a new client takes the place of the one idle longest;
#   - the 503s and 408s show in the access log and in /metrics.
# Prints the figures and PASS/FAIL per check; exits non-zero if any failed.
# Takes about 25 s.
#
# Usage: scripts/check-slow-clients.sh path/to/lossd
set -euo pipefail
cd "$(dirname "$0")/.."

lossd=${1:?usage: scripts/check-slow-clients.sh path/to/lossd}
[ -x "$lossd" ] || { echo "check-slow-clients: $lossd is not an executable" >&2; exit 2; }

log_dir=$(mktemp -d)
"$lossd" --host 127.0.0.1 --port 0 --max-connections 128 >"$log_dir/stdout" 2>"$log_dir/stderr" &
lossd_pid=$!
cleanup() {
    kill "$lossd_pid" 2>/dev/null || true
    wait "$lossd_pid" 2>/dev/null || true
    rm -rf "$log_dir"
}
trap cleanup EXIT

port=
for _ in $(seq 100); do
    port=$(sed -n 's/^lossd listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log_dir/stdout")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: lossd did not start"; cat "$log_dir/stderr"; exit 1; }

status=0
python3 - "$port" "$log_dir/stderr" <<'EOF' || status=$?
import json, select, socket, statistics, sys, threading, time

PORT = int(sys.argv[1])
ACCESS_LOG = sys.argv[2]
HOST = "127.0.0.1"
CAP = 128
GRACE = 10.0          # lossd's default --body-timeout
MARGIN = 3.0          # the sweeper's delay (at most 0.5 s here) and a loaded machine's
SLOW_CLIENTS = 128
SLOW_INTERVAL = 5.0   # the report's: '1.0,' every 5 s
NORMAL_BODY = b'{"predictions": [[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "targets": [0, 2]}'

failures = []
def check(ok, name, figures=""):
    print(("PASS: " if ok else "FAIL: ") + name + (f" ({figures})" if figures else ""))
    if not ok:
        failures.append(name)

def read_response(sock, timeout):
    """Reads one response: (status, headers, body), or (kind, None, None) with kind
    'reset', 'closed' (EOF before a response) or 'timeout'."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return ("closed", None, None)
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return (status, headers, body[:length])
    except ConnectionResetError:
        return ("reset", None, None)
    except socket.timeout:
        return ("timeout", None, None)

def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

# --- the normal client: small posts on one keep-alive connection, all along ---
stop_normal = threading.Event()
normal_latencies, normal_errors = [], []
def normal_client():
    sock = None
    request = (b"POST /loss/ce HTTP/1.1\r\nHost: lossd\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(NORMAL_BODY)).encode() + b"\r\n\r\n" + NORMAL_BODY)
    deadline = time.monotonic() + 50
    while not stop_normal.is_set() and time.monotonic() < deadline:
        try:
            if sock is None:
                sock = socket.create_connection((HOST, PORT), timeout=5)
            start = time.monotonic()
            sock.sendall(request)
            status, _, _ = read_response(sock, 5)
            if status != 200:
                normal_errors.append(status)
                sock.close()
                sock = None
            else:
                normal_latencies.append(time.monotonic() - start)
        except OSError as error:
            normal_errors.append(type(error).__name__)
            sock = None
        time.sleep(0.02)
    if sock:
        sock.close()

normal = threading.Thread(target=normal_client)
normal.start()
time.sleep(1.0)  # its connection is in before the attack
baseline = list(normal_latencies)

# --- the attack: 128 slow bodies, as in the report ---
slow_results = [None] * SLOW_CLIENTS   # (outcome, seconds after the head was sent, detail)
def slow_client(i):
    try:
        sock = socket.create_connection((HOST, PORT), timeout=5)
        start = time.monotonic()
        sock.sendall(b"POST /loss/ce HTTP/1.1\r\nHost: lossd\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000000\r\n\r\n{\"predictions\": [")
        while time.monotonic() - start < GRACE + 20:
            readable, _, _ = select.select([sock], [], [], SLOW_INTERVAL)
            if readable:
                status, headers, body = read_response(sock, 5)
                detail = json.loads(body).get("detail", "") if headers and body else ""
                slow_results[i] = (status, time.monotonic() - start, detail)
                sock.close()
                return
            sock.sendall(b"1.0,")
        slow_results[i] = ("held", time.monotonic() - start, "")
        sock.close()
    except OSError as error:
        slow_results[i] = (type(error).__name__, 0.0, "")

attack_start = time.monotonic()
slow = [threading.Thread(target=slow_client, args=(i,)) for i in range(SLOW_CLIENTS)]
for thread in slow:
    thread.start()
time.sleep(1.0)

# --- probes: new clients while the cap is full ---
probes = []   # (status or failure kind, headers, body)
while time.monotonic() - attack_start < GRACE - 2:
    try:
        sock = socket.create_connection((HOST, PORT), timeout=5)
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: lossd\r\n\r\n")
        probes.append(read_response(sock, 5))
        sock.close()
    except OSError as error:
        probes.append((type(error).__name__, None, None))
    time.sleep(0.2)

for thread in slow:
    thread.join(GRACE + 25)
attack_seconds = time.monotonic() - attack_start

# --- after the attack: a new client is served ---
after = None
try:
    sock = socket.create_connection((HOST, PORT), timeout=5)
    sock.sendall(b"GET /livez HTTP/1.1\r\nHost: lossd\r\n\r\n")
    after = read_response(sock, 5)[0]
    sock.close()
except OSError as error:
    after = type(error).__name__

stop_normal.set()
normal.join(10)
during = normal_latencies[len(baseline):]

# --- idle eviction: fill the cap with idle connections, then one more client ---
idle = []
for _ in range(CAP):
    try:
        idle.append(socket.create_connection((HOST, PORT), timeout=5))
    except OSError:
        break
time.sleep(1.5)   # longer than the 1 s an idle connection must wait before it may be evicted
evict_status = None
try:
    sock = socket.create_connection((HOST, PORT), timeout=5)
    sock.sendall(b"GET /livez HTTP/1.1\r\nHost: lossd\r\n\r\n")
    evict_status = read_response(sock, 5)[0]
    sock.close()
except OSError as error:
    evict_status = type(error).__name__
closed_idle = 0
for sock in idle:
    try:
        sock.setblocking(False)
        if sock.recv(1) == b"":
            closed_idle += 1
    except BlockingIOError:
        pass
    except OSError:
        pass
    sock.close()

# --- metrics ---
metrics = ""
try:
    sock = socket.create_connection((HOST, PORT), timeout=5)
    sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: lossd\r\nConnection: close\r\n\r\n")
    _, _, body = read_response(sock, 5)
    metrics = body.decode() if body else ""
    sock.close()
except OSError:
    pass
def metric_count(status):
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("lossd_http_requests_total{") and f'status="{status}"' in line)
time.sleep(0.3)  # the access log is written in batches, at most 0.1 s late
access = open(ACCESS_LOG).read()

# --- figures and checks ---
outcomes = {}
for result in slow_results:
    outcomes[result[0] if result else "none"] = outcomes.get(result[0] if result else "none", 0) + 1
cut = [r for r in slow_results if r and r[0] == 408]
overflowed = [r for r in slow_results if r and r[0] == 503]
cut_times = [r[1] for r in cut]
print(f"slow clients: {SLOW_CLIENTS}, outcomes {outcomes}")
if cut_times:
    print(f"  408 after {min(cut_times):.2f} to {max(cut_times):.2f} s (grace {GRACE:.0f} s); e.g. '{cut[0][2]}'")
probe_kinds = {}
for status, _, _ in probes:
    probe_kinds[status] = probe_kinds.get(status, 0) + 1
print(f"probes during the attack: {len(probes)}, outcomes {probe_kinds}")
for name, values in (("before the attack", baseline), ("during and after it", during)):
    if values:
        print(f"normal client {name}: {len(values)} requests, p50 {percentile(values, 50) * 1000:.1f} ms,"
              f" p99 {percentile(values, 99) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms")
print(f"normal client errors: {len(normal_errors)} {normal_errors[:5]}")
print(f"attack over after {attack_seconds:.1f} s; then a new client got {after}")
print(f"at the cap with {len(idle)} idle connections: a new client got {evict_status}; {closed_idle} idle one(s) closed")
print(f"metrics: {metric_count(503):.0f} responses 503, {metric_count(408):.0f} responses 408;"
      f" access log: {access.count('status=503')} lines status=503, {access.count('status=408')} status=408")

check(len(cut) + len(overflowed) == SLOW_CLIENTS and len(cut) >= SLOW_CLIENTS - 1,
      "every slow client was cut with 408 (any one past the cap got 503)", f"{len(cut)} x 408, {len(overflowed)} x 503")
check(bool(cut_times) and max(cut_times) <= GRACE + MARGIN,
      f"the slow ones were cut within the grace + {MARGIN:.0f} s",
      f"latest {max(cut_times):.2f} s" if cut_times else "none cut")
check(all("too slowly" in r[2] for r in cut) and bool(cut), "each 408 says the body arrived too slowly")
good_probes = [p for p in probes if p[0] == 503 and p[1] and p[1].get("retry-after") == "1"
               and p[1].get("content-type") == "application/problem+json" and b'"status":503' in p[2]]
check(len(probes) > 0 and len(good_probes) == len(probes),
      "new clients over the cap got 503 + Retry-After + a problem document, none a reset",
      f"{len(good_probes)} of {len(probes)}")
check(len(normal_errors) == 0, "the normal client got every answer", f"{len(normal_errors)} errors")
check(bool(during) and percentile(during, 99) < 0.5, "the normal client's p99 stayed under 500 ms",
      f"p99 {percentile(during, 99) * 1000:.1f} ms" if during else "no requests")
check(after == 200, "after the attack a new client is served", f"got {after}")
check(evict_status == 200 and closed_idle >= 1, "at the cap, an idle connection makes room for a new client",
      f"got {evict_status}, {closed_idle} idle closed")
check(metric_count(503) >= len(probes) and metric_count(408) >= len(cut) and access.count("status=503") >= len(probes),
      "the 503s and 408s are counted in /metrics and the access log")
sys.exit(1 if failures else 0)
EOF

if [ "$status" = 0 ]; then
    echo "check-slow-clients: PASS"
else
    echo "check-slow-clients: FAIL"
fi
exit "$status"
