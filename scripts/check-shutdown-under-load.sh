#!/usr/bin/env bash
# Shutdown under load (issue #12): SIGTERM during a wrk run, 3 times. Each
# run: wrk (2 threads, 64 keep-alive connections, POST /loss/ce) for 3 s,
# SIGTERM 1 s in, with --drain-accept-grace 3; a prober opens a new
# connection every 20 ms for GET /readyz. PASS only when, in every run:
#   - every request wrk wrote got its normal answer: no non-2xx response and
#     no connect, read, write or timeout error (counted by a Lua script and by
#     wrk), while each answer during the drain says Connection: close and wrk
#     reconnects for the next;
#   - /readyz answered 200 until the SIGTERM and 503 to every probe sent from
#     5 ms after it (a probe in flight at the signal may get either), until
#     the listener closed and probes were refused;
#   - lossd exited 0 within --drain-timeout (10 s).
# Why --drain-accept-grace: without it the listener closes at once, so a
# prober's new connection (a kubelet opens one per probe) is refused rather
# than answered 503; either fails the readiness probe, but only an answer
# shows that readiness flipped at once. It is 3 s, longer than wrk's rest
# of the run, because wrk counts a refused reconnect as a write error, like
# a write that failed on a connection it had: with the listener open until
# wrk stops, any error is a real one. The listener closing under load, with
# requests in flight and in the backlog, is scripts/check-drain.sh's part
# (request by request, with and without the grace); this check puts wrk's
# full load on the drain.
# Takes about 20 s. Listens on 127.0.0.1 only.
#
# Usage: scripts/check-shutdown-under-load.sh <lossd-binary>
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 <lossd-binary>" >&2
    exit 2
fi
command -v wrk >/dev/null || { echo "FAIL: wrk is not installed (Debian: apt-get install wrk)"; exit 1; }

exec python3 - "$1" <<'PY'
import os, re, signal, socket, subprocess, sys, tempfile, threading, time

binary = sys.argv[1]
RUNS, DRAIN_TIMEOUT, ACCEPT_GRACE = 3, 10, 3
WRK_SECONDS, SIGTERM_AFTER = 3, 1.0
work = tempfile.mkdtemp(prefix="lossd-shutdown-")
LUA = r'''
wrk.method = "POST"
wrk.body = '{"predictions": [[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "targets": [0, 2]}'
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) responses = 0; non2xx = 0; example = "" end
function response(status, headers, body)
    responses = responses + 1
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
        if example == "" then example = status .. " " .. string.sub(body, 1, 160) end
    end
end
function done(summary, latency, requests)
    local r, n, e = 0, 0, ""
    for _, t in ipairs(threads) do
        r = r + t:get("responses"); n = n + t:get("non2xx")
        if e == "" then e = t:get("example") end
    end
    io.write(string.format("RESULT responses=%d non2xx=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
        r, n, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
        summary.errors.timeout))
    if e ~= "" then io.write("EXAMPLE " .. e .. "\n") end
end
'''
lua = os.path.join(work, "count.lua")
with open(lua, "w") as f:
    f.write(LUA)
checks = []


def check(ok, name, figures=""):
    checks.append(ok)
    print("%s: %s%s" % ("PASS" if ok else "FAIL", name, " (%s)" % figures if figures else ""), flush=True)


def probe(port):
    """GET /readyz on a new connection: the status, or 'refused'/'error'."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    return "eof"
                data += chunk
            return int(data.split()[1])
    except ConnectionRefusedError:
        return "refused"
    except OSError as error:
        return "error %r" % error


def prober(port, stop, results):
    while not stop.is_set():
        sent = time.monotonic()
        status = probe(port)
        results.append((sent, time.monotonic(), status))
        if status == "refused":
            return
        stop.wait(0.02)


def run(number):
    log = open(os.path.join(work, "lossd-%d.log" % number), "w")
    lossd = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0", "--drain-timeout", str(DRAIN_TIMEOUT),
                              "--drain-accept-grace", str(ACCEPT_GRACE), "--log-level", "notice"],
                             stdout=subprocess.PIPE, stderr=log)
    try:
        port = int(lossd.stdout.readline().decode().rsplit(":", 1)[1])
        wrk = subprocess.Popen(["wrk", "-t2", "-c64", "-d%ds" % WRK_SECONDS, "--timeout", "5s", "-s", lua,
                                "http://127.0.0.1:%d/loss/ce" % port], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        stop, probes = threading.Event(), []
        thread = threading.Thread(target=prober, args=(port, stop, probes), daemon=True)
        time.sleep(0.3)
        thread.start()
        time.sleep(SIGTERM_AFTER - 0.3)
        signalled = time.monotonic()
        lossd.send_signal(signal.SIGTERM)
        try:
            code = lossd.wait(DRAIN_TIMEOUT + 5)
        except subprocess.TimeoutExpired:
            code = None
        exit_seconds = time.monotonic() - signalled
        stop.set()
        thread.join(5)
        output = wrk.communicate(timeout=WRK_SECONDS + 15)[0].decode(errors="replace")
    finally:
        if lossd.poll() is None:
            lossd.kill()
            lossd.wait()

    result = re.search(r"RESULT (.*)", output)
    counts = dict((k, int(v)) for k, v in (kv.split("=") for kv in result.group(1).split())) if result else {}
    example = re.search(r"EXAMPLE (.*)", output)
    requests = re.search(r"(\d+) requests in", output)
    lost = sum(counts.get(k, 1) for k in ("non2xx", "connect", "read", "write", "timeout"))
    check(bool(counts) and lost == 0 and counts["responses"] > 100,
          "run %d: every request wrk wrote got its 200" % number,
          "%s responses, %s non-2xx, errors: connect %s, read %s, write %s, timeout %s%s" %
          (counts.get("responses"), counts.get("non2xx"), counts.get("connect"), counts.get("read"), counts.get("write"),
           counts.get("timeout"), "; e.g. " + example.group(1) if example else "") if counts else output[-800:])

    before = [status for sent, done, status in probes if done < signalled]
    after = [(sent - signalled, status) for sent, done, status in probes if sent >= signalled + 0.005]
    answered = [(t, s) for t, s in after if s != "refused"]
    first_503 = next((t for t, s in after if s == 503), None)
    check(bool(before) and all(s == 200 for s in before) and answered and all(s == 503 for _, s in answered),
          "run %d: /readyz 200 before SIGTERM, 503 from then on" % number,
          "%d probes answered before (%s), %d sent after, all %s, the first sent %.1f ms after the signal; then %s" %
          (len(before), "all 200" if all(s == 200 for s in before) else before, len(answered),
           sorted(set(s for _, s in answered)), (first_503 or 0) * 1000,
           "refused" if after and after[-1][1] == "refused" else "no refusal seen"))
    check(code == 0 and exit_seconds <= DRAIN_TIMEOUT, "run %d: exit 0 within the %d s drain timeout" % (number, DRAIN_TIMEOUT),
          "exit status %s after %.2f s" % (code, exit_seconds))


try:
    for number in range(1, RUNS + 1):
        run(number)
finally:
    subprocess.run(["rm", "-rf", work])
print("check-shutdown-under-load: %s (%d checks)" % ("PASS" if all(checks) else "FAIL", len(checks)))
sys.exit(0 if all(checks) else 1)
PY
