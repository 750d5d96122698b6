#!/usr/bin/env bash
# Issue #17: a reader of lossd's standard error that never reads, as in
#   lossd 2>&1 | sleep 45
# must not stall serving. Before the fix, every request (/livez included) hung
# after ~400 requests, once the pipe was full, until the reader went away.
#
# Starts lossd with its standard error into a FIFO whose reader (`sleep`)
# never reads: the same stalled pipe, with lossd's PID and port known. Then:
#   1. REQUESTS requests one after another on one keep-alive connection
#      (/livez, every tenth a POST /loss/ce), each must answer within 2 s;
#   2. 20 GET /livez, each on a new connection, must answer 200;
#   3. lossd_log_lines_dropped_total on /metrics must be > 0 (the default
#      1 MiB log buffer plus the 64 KiB pipe hold ~8,000 access lines);
#   4. SIGTERM, the reader still stalled: lossd must exit 0 within 5 s.
# Prints PASS/FAIL per check and exits non-zero if any failed. ~10 s.
#
# Usage: scripts/check-slow-log-reader.sh <lossd-binary>
set -euo pipefail

bin=${1:?usage: $0 <lossd-binary>}
[ -x "$bin" ] || { echo "FAIL: $bin is not an executable"; exit 2; }
requests=${REQUESTS:-12000}
exit_within=5

tmp=$(mktemp -d)
lossd_pid=
reader_pid=
cleanup() {
    if [ -n "$lossd_pid" ]; then kill -KILL "$lossd_pid" 2>/dev/null || true; fi
    if [ -n "$reader_pid" ]; then kill "$reader_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

failed=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=1; }

mkfifo "$tmp/stderr"
# The reader holds the FIFO open and never reads it (opening blocks until lossd opens the other end).
sleep 60 <"$tmp/stderr" &
reader_pid=$!
# lossd's defaults, whatever LOSSD_* the caller has set (a log level above info would log nothing).
for variable in "${!LOSSD_@}"; do unset "$variable"; done
"$bin" --host 127.0.0.1 --port 0 >"$tmp/stdout" 2>"$tmp/stderr" &
lossd_pid=$!

port=
for _ in $(seq 100); do
    port=$(sed -n 's/^lossd listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/stdout")
    [ -n "$port" ] && break
    kill -0 "$lossd_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "FAIL: lossd did not print its listening line within 10 s"
    exit 1
fi

# Steps 1-3; prints PASS/FAIL lines, exits 1 if any failed.
if ! python3 - "$port" "$requests" <<'EOF'
import http.client
import sys
import time

port, requests = int(sys.argv[1]), int(sys.argv[2])
failed = False


def report(ok, text):
    global failed
    print(("PASS: " if ok else "FAIL: ") + text)
    failed |= not ok


ce = b'{"predictions": [[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "targets": [0, 2]}'
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
slowest, started, answered = 0.0, time.monotonic(), 0
for i in range(requests):
    before = time.monotonic()
    try:
        if i % 10 == 9:
            connection.request("POST", "/loss/ce", ce, {"Content-Type": "application/json"})
        else:
            connection.request("GET", "/livez")
        response = connection.getresponse()
        response.read()
    except Exception as error:  # a timeout is the failure this script looks for
        report(False, f"request {i + 1} of {requests} got no answer within 2 s ({error!r})")
        break
    if response.status != 200:
        report(False, f"request {i + 1} of {requests} answered {response.status}")
        break
    answered += 1
    slowest = max(slowest, time.monotonic() - before)
else:
    report(True, f"{requests} requests answered in {time.monotonic() - started:.1f} s, "
                 f"slowest {slowest * 1000:.0f} ms")


def get(path):
    fresh = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        fresh.request("GET", path)
        response = fresh.getresponse()
        return response.status, response.read().decode()
    except Exception as error:
        return None, repr(error)
    finally:
        fresh.close()


# Several, each on a new connection: an answer goes out before its access line is
# logged, so before the fix each event loop still answered one before it stuck.
answered_livez, status, body = 0, 200, ""
while answered_livez < 20:
    status, body = get("/livez")
    if status != 200:
        break
    answered_livez += 1
report(answered_livez == 20, f"/livez on new connections while the reader is stalled: {answered_livez} of 20 answered 200"
                             + ("" if answered_livez == 20 else f", then {status} {body}"))

status, body = get("/metrics")
dropped = None
for line in body.splitlines() if status == 200 else []:
    if line.startswith("lossd_log_lines_dropped_total "):
        dropped = float(line.split()[1])
report(dropped is not None and dropped > 0,
       f"lossd_log_lines_dropped_total = {dropped} after {answered} requests (must be > 0)")
sys.exit(1 if failed else 0)
EOF
then
    failed=1
fi

# Step 4: SIGTERM while the reader still does not read.
started=$(date +%s%N)
kill -TERM "$lossd_pid"
for _ in $(seq $((exit_within * 20))); do
    kill -0 "$lossd_pid" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$lossd_pid" 2>/dev/null; then
    fail "lossd still running ${exit_within} s after SIGTERM (reader stalled); killed"
    kill -KILL "$lossd_pid" 2>/dev/null || true
    wait "$lossd_pid" 2>/dev/null || true
else
    status=0
    wait "$lossd_pid" || status=$?
    took_ms=$((($(date +%s%N) - started) / 1000000))
    if [ "$status" -eq 0 ]; then
        pass "SIGTERM with the reader stalled: exit 0 after ${took_ms} ms"
    else
        fail "SIGTERM with the reader stalled: exit status $status"
    fi
fi
lossd_pid=

if [ "$failed" -eq 0 ]; then
    echo "PASS: a stalled log reader does not stall lossd"
else
    echo "FAIL: a stalled log reader stalls lossd (issue #17)"
fi
exit "$failed"
