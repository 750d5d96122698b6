#!/usr/bin/env bash
# Soak (issue #12): mixed load against a live lossd for [minutes] (default 10),
# then PASS only when
#   - no valid request failed: every one got its 200 with a loss in it (small,
#     medium and 2.6 MB requests of all three losses, flat tensors, chunked
#     bodies, gzip request bodies and gzip responses), on keep-alive connections;
#   - every malformed request got its 4xx problem document (malformed JSON 400,
#     unknown member 422, Content-Length past --max-body-bytes 413), and
#     aborted uploads (headers and part of the body, then a close, or a reset)
#     left nothing behind;
#   - RSS was flat after the warm-up (the first fifth of the run, at least
#     15 s): no sample above the warm-up's peak + RSS_SLACK_MIB (24 MiB), and
#     the last third's median no more than DRIFT_MIB (8 MiB) above the median
#     of the first third after the warm-up (a leak grows steadily, a peak
#     does not);
#   - open descriptors went back to the baseline (before the load) once the
#     clients had closed, and SIGTERM then exited 0.
# Prints an RSS/fds sample every few seconds and the figures of each check.
#
# Usage: scripts/soak.sh <lossd-binary> [minutes]   (minutes may be a fraction: 1, 0.5)
# Listens on 127.0.0.1 only. Takes minutes + about 10 s.
set -euo pipefail

if [[ $# -lt 1 || ! -x "$1" ]]; then
    echo "usage: $0 <lossd-binary> [minutes]" >&2
    exit 2
fi

exec python3 - "$@" <<'PY'
import gzip, json, os, random, signal, socket, statistics, subprocess, sys, tempfile, threading, time

binary = sys.argv[1]
minutes = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
DURATION = minutes * 60
WARMUP = max(15.0, DURATION / 5)
INTERVAL = max(2.0, min(15.0, DURATION / 40))
WORKERS = 6
MAX_BODY = 8 << 20
RSS_SLACK_MIB, DRIFT_MIB = 24, 8
rng = random.Random(12)


def j(value):
    return json.dumps(value, separators=(",", ":")).encode()


def ce(n, c):
    return j({"predictions": [[round(rng.uniform(-4, 4), 4) for _ in range(c)] for _ in range(n)],
              "targets": [rng.randrange(c) for _ in range(n)]})


def segmentation(n, c, h, w):
    count = n * c * h * w
    return j({"predictions": {"shape": [n, c, h, w], "data": [round(rng.uniform(-4, 4), 3) for _ in range(count)]},
              "targets": {"shape": [n, h, w], "data": [rng.randrange(c) for _ in range(n * h * w)], "datatype": "INT64"}})


def mse(n):
    return j({"predictions": [rng.uniform(-1, 1) for _ in range(n)], "targets": [rng.uniform(-1, 1) for _ in range(n)],
              "reduction": "none"})


def bce(n):
    return j({"predictions": [round(rng.uniform(0.01, 0.99), 4) for _ in range(n)],
              "targets": [rng.randrange(2) for _ in range(n)]})


# (name, path, body, body is gzip, chunked, ask for a gzip response, weight)
VALID = [
    ("small ce", "/loss/ce", ce(2, 3), False, False, False, 30),
    ("small bce", "/loss/bce", bce(3), False, False, False, 10),
    ("small mse", "/loss/mse", mse(4), False, False, False, 10),
    ("medium ce 256x100", "/loss/ce", ce(256, 100), False, False, False, 8),
    ("medium mse none, gzip response", "/loss/mse", mse(20000), False, False, True, 6),
    ("medium ce, gzip body", "/loss/ce", ce(256, 100), True, False, False, 6),
    ("medium bce, chunked", "/loss/bce", bce(30000), False, True, False, 5),
    ("large segmentation 1x4x256x256", "/loss/ce", segmentation(1, 4, 256, 256), False, False, False, 2),
    ("large segmentation, gzip body", "/loss/ce", segmentation(1, 4, 256, 256), True, False, True, 1),
]
VALID = [(name, path, gzip.compress(body, 6) if gz else body, gz, chunked, accept, weight)
         for (name, path, body, gz, chunked, accept, weight) in VALID]
# (name, path, body, expected status, weight): each on a new connection.
MALFORMED = [
    ("malformed JSON", "/loss/ce", b'{"predictions": [[1.0, 2.0]], "targets": [1,]}', 400, 4),
    ("unknown member", "/loss/mse", b'{"predictions": [1.0], "targets": [1.0], "reduce": "sum"}', 422, 2),
    ("truncated gzip", "/loss/ce", gzip.compress(ce(64, 10))[:-40], 400, 1),
    ("past --max-body-bytes", "/loss/ce", None, 413, 1),
]
ABORTED_WEIGHT = 3
MIX = [("valid", v, v[-1]) for v in VALID] + [("bad", m, m[-1]) for m in MALFORMED] + [("abort", None, ABORTED_WEIGHT)]


def request_bytes(path, body, gz, chunked, accept):
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" % path
    if gz:
        head += "Content-Encoding: gzip\r\n"
    if accept:
        head += "Accept-Encoding: gzip\r\n"
    if chunked:
        pieces = [body[i:i + 50000] for i in range(0, len(body), 50000)]
        data = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + data
    return (head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body


def read_response(sock, pending):
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(262144)
        if not chunk:
            raise EOFError("EOF before the response head")
        pending += chunk
    head, pending = pending.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    length = int(headers.get(b"content-length", b"0"))
    while len(pending) < length:
        chunk = sock.recv(262144)
        if not chunk:
            raise EOFError("EOF inside the response body")
        pending += chunk
    body = pending[:length]
    if headers.get(b"content-encoding") == b"gzip":
        body = gzip.decompress(body)
    return status, headers, body, pending[length:]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def fail(self, text):
        with self.lock:
            self.counts["failures"] = self.counts.get("failures", 0) + 1
            if len(self.failures) < 10:
                self.failures.append(text)


def worker(port, tally, stop_at, seed):
    r = random.Random(seed)
    weights = [w for (_, _, w) in MIX]
    sock, pending = None, b""
    while time.monotonic() < stop_at:
        kind, item, _ = r.choices(MIX, weights)[0]
        try:
            if kind == "valid":
                name, path, body, gz, chunked, accept, _ = item
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                    pending = b""
                sock.sendall(request_bytes(path, body, gz, chunked, accept))
                try:
                    status, headers, answer, pending = read_response(sock, pending)
                except (OSError, EOFError) as error:
                    tally.fail("%s: %r" % (name, error))
                    sock.close()
                    sock = None
                    continue
                if status != 200 or b'"loss"' not in answer[:20]:
                    tally.fail("%s: %d %s" % (name, status, answer[:200]))
                else:
                    tally.add("valid 200")
                if headers.get(b"connection") == b"close":
                    sock.close()
                    sock = None
            elif kind == "bad":
                name, path, body, expected, _ = item
                with socket.create_connection(("127.0.0.1", port), timeout=30) as bad:
                    if body is None:  # announced past the limit: the 413 comes before the body
                        bad.sendall(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                    b"Content-Length: %d\r\n\r\n{" % (path.encode(), MAX_BODY + 1))
                    else:
                        bad.sendall(request_bytes(path, body, name == "truncated gzip", False, False))
                    status, headers, answer, _ = read_response(bad, b"")
                    if status != expected or headers.get(b"content-type") != b"application/problem+json":
                        tally.fail("%s: %d instead of %d: %s" % (name, status, expected, answer[:200]))
                    else:
                        tally.add("malformed answered %d" % expected)
            else:
                with socket.create_connection(("127.0.0.1", port), timeout=30) as aborted:
                    body = VALID[r.randrange(len(VALID))][2]
                    data = request_bytes("/loss/ce", body, False, False, False)
                    aborted.sendall(data[:r.randrange(20, max(21, len(data) - 1))])
                    if r.random() < 0.5:  # a reset rather than a FIN
                        aborted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                tally.add("aborted uploads")
        except (OSError, EOFError) as error:
            if kind == "valid":
                tally.fail("%s: %r" % (item[0], error))
                if sock is not None:
                    sock.close()
                sock = None
            elif kind == "bad":
                tally.fail("%s: %r" % (item[0], error))
    if sock is not None:
        sock.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def mib(kib):
    return kib / 1024.0


log = tempfile.TemporaryFile()
lossd = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0", "--max-body-bytes", str(MAX_BODY)],
                         stdout=subprocess.PIPE, stderr=log)
checks = []
def check(ok, name, figures):
    checks.append(ok)
    print("%s: %s (%s)" % ("PASS" if ok else "FAIL", name, figures), flush=True)

try:
    line = lossd.stdout.readline().decode()
    port = int(line.rsplit(":", 1)[1])
    time.sleep(0.3)
    base_rss, base_fds = rss_kib(lossd.pid), fds(lossd.pid)
    print("soak: %.1f min against %s on port %d, %d workers; warm-up %.0f s; baseline RSS %.1f MiB, %d fds"
          % (minutes, binary, port, WORKERS, WARMUP, mib(base_rss), base_fds), flush=True)
    print("valid requests: " + ", ".join("%s (%d B)" % (v[0], len(v[2])) for v in VALID), flush=True)
    tally = Tally()
    start = time.monotonic()
    stop_at = start + DURATION
    threads = [threading.Thread(target=worker, args=(port, tally, stop_at, 100 + i), daemon=True) for i in range(WORKERS)]
    for t in threads:
        t.start()
    samples = []  # (seconds, rss KiB, fds)
    last_total = 0
    while time.monotonic() < stop_at:
        time.sleep(min(INTERVAL, max(0.0, stop_at - time.monotonic())))
        t = time.monotonic() - start
        rss, n = rss_kib(lossd.pid), fds(lossd.pid)
        samples.append((t, rss, n))
        with tally.lock:
            total = sum(v for k, v in tally.counts.items() if k != "failures")
            failures = tally.counts.get("failures", 0)
        print("t=%5.0fs rss=%6.1f MiB fds=%3d requests=%7d (+%5d) failures=%d%s"
              % (t, mib(rss), n, total, total - last_total, failures, "  (warm-up)" if t <= WARMUP else ""), flush=True)
        last_total = total
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - start

    # Descriptors back to the baseline once the server has seen every close.
    settle_end = time.monotonic() + 10
    while fds(lossd.pid) > base_fds and time.monotonic() < settle_end:
        time.sleep(0.2)
    end_rss, end_fds = rss_kib(lossd.pid), fds(lossd.pid)

    counts = dict(tally.counts)
    print("counts after %.0f s: %s" % (elapsed, ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    for text in tally.failures:
        print("  failure: " + text)
    check(counts.get("failures", 0) == 0 and counts.get("valid 200", 0) > 0, "no valid request failed, every malformed one got its 4xx",
          "%d valid answered 200, %d failures" % (counts.get("valid 200", 0), counts.get("failures", 0)))

    warm = [s for s in samples if s[0] <= WARMUP]
    after = [s for s in samples if s[0] > WARMUP]
    if warm and len(after) >= 3:
        peak_warm = max(s[1] for s in warm)
        peak_after = max(s[1] for s in after)
        third = max(1, len(after) // 3)
        first = statistics.median(s[1] for s in after[:third])
        last = statistics.median(s[1] for s in after[-third:])
        check(peak_after <= peak_warm + RSS_SLACK_MIB * 1024, "RSS after the warm-up within the warm-up's peak + %d MiB" % RSS_SLACK_MIB,
              "warm-up peak %.1f MiB, peak after %.1f MiB" % (mib(peak_warm), mib(peak_after)))
        check(last <= first + DRIFT_MIB * 1024, "no RSS drift: last third's median within %d MiB of the first third's" % DRIFT_MIB,
              "first third %.1f MiB, last third %.1f MiB, %+.1f MiB" % (mib(first), mib(last), mib(last - first)))
    else:
        check(False, "RSS flat after the warm-up", "too few samples: %d after the warm-up" % len(after))
    check(end_fds <= base_fds, "open descriptors back to the baseline after the load",
          "baseline %d, after %d; peak during the load %d" % (base_fds, end_fds, max(s[2] for s in samples)))
    print("RSS: baseline %.1f MiB, after the load %.1f MiB" % (mib(base_rss), mib(end_rss)))

    lossd.send_signal(signal.SIGTERM)
    try:
        code = lossd.wait(30)
    except subprocess.TimeoutExpired:
        code = None
    check(code == 0, "SIGTERM exits 0", "exit status %s" % code)
finally:
    if lossd.poll() is None:
        lossd.kill()
        lossd.wait()

if all(checks):
    print("soak: PASS")
    sys.exit(0)
log.seek(0)
tail = log.read()[-3000:].decode(errors="replace")
print("lossd's log ends:\n" + tail)
print("soak: FAIL")
sys.exit(1)
PY
