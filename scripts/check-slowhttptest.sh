#!/usr/bin/env bash
# Slow clients with the standard tool (issue #12): against a live lossd with
# its default connection cap (--max-connections 1024) and short timeouts
# (--head-timeout, --body-timeout, --write-timeout 4 s, --idle-timeout 10 s):
#   - 900 idle keep-alive connections (one GET /livez each, then nothing);
#   - 1.5 s later slowhttptest's three slow modes at once, 50 connections
#     each: -H slowloris (a header line a second), -B slow body (a few bytes
#     of body a second) and -X slow read (10 pipelined GET /openapi.yaml,
#     42 KB each, read 32 bytes a second through a tiny receive window);
#   - meanwhile a normal client posts /loss/ce on a keep-alive connection every
#     20 ms, and a new client connects and does the same every 100 ms.
# PASS only when the keep-alive client's p99 stays under 100 ms (a new
# connection's, connect included, under 250 ms) and every request of both is
# answered 200; every slow connection is cut within its timeout + 4 s
# (slowloris and slow body: slowhttptest's own count; slow read: lossd's
# descriptors, see below); no idle connection is closed before its idle
# timeout but for eviction past the cap; lossd's open descriptors return to the
# baseline once the clients have gone, and its RSS to within 16 MiB of the
# baseline; and SIGTERM exits 0.
# What cuts each slow mode here:
#   - slowloris: the head timeout's 408;
#   - slow body: slowhttptest sends its first body bytes at once, form data
#     ("&xx=xx") that is not JSON, so lossd answers 400 at once: this mode
#     meets the body decoder, not the body timeout (scripts/check-slow-clients.sh
#     trickles a body that parses, to the minimum body rate's 408, at the cap);
#     So the connections peak near 1000, under the cap, and none is evicted;
#     check-slow-clients.sh fills the cap.
#   - slow read: on loopback all 420 KB of responses fit in the kernel's
#     socket buffers (Send-Q 420658), so lossd has written everything and the
#     connection is idle on its side: it costs lossd a descriptor and none of
#     its memory, and the idle timeout (or eviction at the cap) closes it.
#     The kernel then keeps the unsent bytes and a FIN (FIN-WAIT-1, orphaned,
#     bounded by net.ipv4.tcp_max_orphans and tcp_orphan_retries), so
#     slowhttptest still reads on and cannot tell; the check is that lossd
#     holds no descriptor for them after the idle timeout + 4 s. Where the
#     buffers are smaller, the write timeout and --min-send-rate close it sooner.
# Takes about 25 s. Listens on 127.0.0.1 only.
#
# Usage: scripts/check-slowhttptest.sh <lossd-binary>
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 <lossd-binary>" >&2
    exit 2
fi
command -v slowhttptest >/dev/null || { echo "FAIL: slowhttptest is not installed (Debian: apt-get install slowhttptest)"; exit 1; }
# 900 idle + 150 slow + the clients' own: both lossd and the python client need descriptors.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
    ulimit -n 4096 || { echo "FAIL: ulimit -n is $(ulimit -n) and cannot be raised to 4096"; exit 1; }
fi

exec python3 - "$1" <<'PY'
import csv, os, re, signal, socket, statistics, subprocess, sys, tempfile, threading, time

binary = sys.argv[1]
TIMEOUT = 4.0          # --head-timeout, --body-timeout, --write-timeout
IDLE_TIMEOUT = 10.0    # --idle-timeout: cuts the slow readers (and the idle connections, once measured)
MARGIN = 4.0           # the sweeper (at most 1 s late), slowhttptest's 1-s resolution, a loaded machine
IDLE, SLOW_EACH = 900, 50
P99_LIMIT_MS, NEW_CONNECTION_P99_LIMIT_MS = 100.0, 250.0
RSS_SLACK_MIB = 16
BODY = b'{"predictions": [[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "targets": [0, 2]}'
REQUEST = (b"POST /loss/ce HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % len(BODY)) + BODY
work = tempfile.mkdtemp(prefix="lossd-slowhttptest-")
checks = []


def check(ok, name, figures=""):
    checks.append(ok)
    print("%s: %s%s" % ("PASS" if ok else "FAIL", name, " (%s)" % figures if figures else ""), flush=True)


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024.0


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def read_response(sock, pending=b""):
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("EOF before the response head")
        pending += chunk
    head, pending = pending.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(pending) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("EOF inside the response body")
        pending += chunk
    return int(head.split()[1]), pending[length:]


class Normal:
    """A keep-alive client (or, with fresh=True, a new connection per request) measuring latency."""
    def __init__(self, port, interval, fresh):
        self.port, self.interval, self.fresh = port, interval, fresh
        self.latencies, self.errors = [], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        sock = None
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                sock.sendall(REQUEST)
                status, _ = read_response(sock)
                self.latencies.append((time.monotonic() - began) * 1000)
                if status != 200:
                    self.errors.append("status %d" % status)
            except (OSError, EOFError) as error:
                self.errors.append(repr(error))
                if sock is not None:
                    sock.close()
                sock = None
            if self.fresh and sock is not None:
                sock.close()
                sock = None
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - began)))
        if sock is not None:
            sock.close()

    def p(self, q):
        values = sorted(self.latencies)
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("inf")


def slowhttptest(mode, port, name):
    common = ["-c", str(SLOW_EACH), "-r", str(SLOW_EACH), "-l", "40", "-p", "3", "-g", "-o", os.path.join(work, name)]
    url = "http://127.0.0.1:%d" % port
    args = {
        "-H": ["-H", "-i", "1", "-x", "10", "-u", url + "/livez"],
        "-B": ["-B", "-i", "1", "-x", "10", "-s", "100000", "-f", "application/json", "-u", url + "/loss/ce"],
        "-X": ["-X", "-k", "10", "-n", "1", "-w", "1", "-y", "64", "-z", "32", "-u", url + "/openapi.yaml"],
    }[mode]
    return subprocess.Popen(["slowhttptest"] + args + common, stdout=open(os.path.join(work, name + ".out"), "w"),
                            stderr=subprocess.STDOUT)


def report(name):
    """From slowhttptest's output: the most connections it had open at once, and the
    second of its run by which lossd had closed them all (None if some were left open)."""
    opened = 0
    try:
        with open(os.path.join(work, name + ".csv")) as f:
            for row in csv.DictReader(f):
                opened = max(opened, int(row["Connected"]) + int(row["Closed"]))
        output = open(os.path.join(work, name + ".out"), errors="replace").read()
    except OSError:
        return opened, None
    ended = re.search(r"Test ended on (\d+)th second", output)
    if ended and "No open connections left" in output:
        return opened, int(ended.group(1))
    return opened, None


def closed_idle(sockets):
    """How many of these connections lossd has ended."""
    closed = 0
    for sock in sockets:
        try:
            sock.setblocking(False)
            if sock.recv(1, socket.MSG_PEEK) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


log_path = os.path.join(work, "lossd.log")
lossd = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0", "--head-timeout", str(TIMEOUT),
                          "--body-timeout", str(TIMEOUT), "--write-timeout", str(TIMEOUT),
                          "--idle-timeout", str(IDLE_TIMEOUT)],
                         stdout=subprocess.PIPE, stderr=open(log_path, "w"))
idle = []
try:
    port = int(lossd.stdout.readline().decode().rsplit(":", 1)[1])
    time.sleep(0.3)
    base_rss, base_fds = rss_mib(lossd.pid), fds(lossd.pid)
    print("lossd on port %d: baseline RSS %.1f MiB, %d fds; ulimit -n %s" %
          (port, base_rss, base_fds, os.popen("ulimit -n").read().strip()), flush=True)

    for _ in range(IDLE):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        idle.append(sock)
    idle_opened = time.monotonic()
    idle_ok = 0
    for sock in idle:
        try:
            idle_ok += read_response(sock)[0] == 200
        except (OSError, EOFError):
            pass
    print("%d idle keep-alive connections open (%d answered 200); lossd: %d fds, %.1f MiB" %
          (len(idle), idle_ok, fds(lossd.pid), rss_mib(lossd.pid)), flush=True)

    keepalive, fresh = Normal(port, 0.02, False), Normal(port, 0.1, True)
    keepalive.thread.start()
    fresh.thread.start()
    time.sleep(1.5)  # idle connections idle past the 1 s eviction minimum; a latency baseline
    attack_start = time.monotonic()
    tools = {name: slowhttptest(mode, port, name) for mode, name in [("-H", "slowloris"), ("-B", "slowbody"), ("-X", "slowread")]}
    peak_fds, peak_rss = 0, 0.0
    evicted = None
    slow_read_deadline = attack_start + 1 + IDLE_TIMEOUT + MARGIN  # slowhttptest opens them within 1 s
    end = time.monotonic() + 45
    while time.monotonic() < end and (time.monotonic() < slow_read_deadline
                                      or any(tools[n].poll() is None for n in ("slowloris", "slowbody"))):
        peak_fds, peak_rss = max(peak_fds, fds(lossd.pid)), max(peak_rss, rss_mib(lossd.pid))
        if evicted is None and time.monotonic() >= idle_opened + IDLE_TIMEOUT - 2:
            evicted = closed_idle(idle)  # before the idle timeout: only eviction closed them
        time.sleep(0.25)
    attack_seconds = time.monotonic() - attack_start
    # The slow readers' connections as lossd sees them (its descriptors), and as the kernel does.
    held_fds = fds(lossd.pid)
    try:  # ss (iproute2) only for the report
        states = subprocess.run(["ss", "-tnH", "sport = :%d" % port], capture_output=True, text=True).stdout.split("\n")
        orphans = str(sum(1 for line in states if line.startswith("FIN-WAIT-1")))
    except OSError:
        orphans = "(no ss to count)"
    slow_read_open = tools["slowread"].poll() is None
    for tool in tools.values():
        if tool.poll() is None:
            tool.kill()
            tool.wait()
    time.sleep(1)
    keepalive.stop.set()
    fresh.stop.set()
    keepalive.thread.join(10)
    fresh.thread.join(10)
    print("attack over after %.1f s; lossd peaked at %d fds, %.1f MiB" % (attack_seconds, peak_fds, peak_rss), flush=True)

    opened, _ = report("slowread")
    check(opened >= SLOW_EACH * 0.9 and held_fds <= base_fds + 3,
          "slowhttptest slowread: lossd closed every connection within the %g s idle timeout + %g s" % (IDLE_TIMEOUT, MARGIN),
          "%d connected; lossd holds %d descriptors (baseline %d, + the 2 normal clients); slowhttptest %s, as the "
          "kernel still sends what lossd wrote: %s orphaned FIN-WAIT-1 sockets" %
          (opened, held_fds, base_fds, "still reading" if slow_read_open else "done", orphans))
    # slowhttptest's first count comes after a second, when the slow bodies may all be answered:
    # lossd's access log counts them (the 408s are the slowloris heads, the 400s the slow bodies).
    log = open(log_path, errors="replace").read()
    for name, limit, what, answers in [("slowloris", TIMEOUT, "head timeout", log.count("status=408")),
                                       ("slowbody", TIMEOUT, "body timeout", log.count("status=400"))]:
        opened, cut_by = report(name)
        check(max(opened, answers) >= SLOW_EACH * 0.9 and cut_by is not None and cut_by <= limit + MARGIN,
              "slowhttptest %s: every connection cut within the %g s %s + %g s" % (name, limit, what, MARGIN),
              "%d connected, %d answered %s, all closed by second %s of its run" %
              (opened, answers, "408" if name == "slowloris" else "400", cut_by))

    print("lossd's access log: %d x 408, %d x 400; %s of %d idle connections were closed before the idle timeout" %
          (log.count("status=408"), log.count("status=400"), evicted, IDLE), flush=True)
    past_cap = max(0, peak_fds - base_fds - 1024)
    check(evicted is not None and evicted <= past_cap,
          "no idle connection closed before its idle timeout but to make room past the cap",
          "%s closed; at most %d connections open at once, %d past the cap of 1024" %
          (evicted, peak_fds - base_fds, past_cap))

    for client, name, limit in [(keepalive, "keep-alive client every 20 ms", P99_LIMIT_MS),
                                (fresh, "new connection every 100 ms", NEW_CONNECTION_P99_LIMIT_MS)]:
        check(not client.errors and len(client.latencies) > 10 and client.p(0.99) < limit,
              "normal %s: all answered 200, p99 under %g ms" % (name, limit),
              "%d requests, p50 %.1f ms, p99 %.1f ms, max %.1f ms, errors %d %s" %
              (len(client.latencies), client.p(0.5), client.p(0.99), max(client.latencies or [0]), len(client.errors),
               client.errors[:3]))

    for sock in idle:
        sock.close()
    idle = []
    settle = time.monotonic() + 10
    while fds(lossd.pid) > base_fds and time.monotonic() < settle:
        time.sleep(0.2)
    time.sleep(0.5)
    end_fds, end_rss = fds(lossd.pid), rss_mib(lossd.pid)
    check(end_fds <= base_fds, "open descriptors back to the baseline", "baseline %d, peak %d, after %d" % (base_fds, peak_fds, end_fds))
    check(end_rss <= base_rss + RSS_SLACK_MIB, "RSS back within %d MiB of the baseline" % RSS_SLACK_MIB,
          "baseline %.1f MiB, peak %.1f MiB, after %.1f MiB" % (base_rss, peak_rss, end_rss))

    lossd.send_signal(signal.SIGTERM)
    try:
        code = lossd.wait(30)
    except subprocess.TimeoutExpired:
        code = None
    check(code == 0, "SIGTERM exits 0", "exit status %s" % code)
finally:
    for sock in idle:
        sock.close()
    if lossd.poll() is None:
        lossd.kill()
        lossd.wait()
    if all(checks) and checks:
        subprocess.run(["rm", "-rf", work])
    else:
        print("slowhttptest's reports and lossd's log are kept in " + work)

print("check-slowhttptest: %s (%d checks)" % ("PASS" if all(checks) and checks else "FAIL", len(checks)))
sys.exit(0 if all(checks) and checks else 1)
PY
