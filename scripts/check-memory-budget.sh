#!/usr/bin/env bash
# Proves the memory budget (issues #12, #10): many large loss requests at
# once cannot take lossd past its budget, and each one gets a clean answer.
#
#   scripts/check-memory-budget.sh <lossd-binary> [--quick]
#
# Full: 32 concurrent 67 MB MSE bodies (about 7.4 million numbers, 59 MB of
# tensors each) with --memory-budget 268435456 (256 MiB), then the same
# bodies gzip-coded, then 32 concurrent Open Inference Protocol inferences in
# binary (POST /v2/models/mse/infer, FP32 predictions and targets of shape
# (4, 3, 512, 512): a 25 MB body, 50 MB of doubles each), then 32 concurrent
# POST /loss batches of 15 MB (two MSE requests of 830 000 numbers each).
# Quick: 16 concurrent 16 MB bodies, 16 binary inferences of shape
# (1, 3, 512, 512) and 16 batches, with a 32 MiB budget. The inferences and
# the batches are held open at once: each client sends all but the last
# 4 KiB, waits for the others to get as far (or be refused), then ends. Each phase passes when the peak resident memory
# (VmHWM in /proc/PID/status, the kernel's own high-water mark) stays under
# the budget + 64 MiB, every request gets 200 or 503 with Retry-After (a
# problem document; {"error": ...} for the protocol), and at least one gets
# 200; lossd_rejected_requests_total{reason="memory"} must count the 503s.
# Bodies are generated once into /tmp.
set -euo pipefail

binary=${1:?usage: check-memory-budget.sh <lossd-binary> [--quick]}
mode=${2:-full}
[ -x "$binary" ] || { echo "FAIL: $binary is not an executable"; exit 1; }

exec python3 - "$binary" "$mode" <<'PY'
import array, gzip, json, os, random, re, socket, subprocess, sys, threading, time

binary, mode = sys.argv[1], sys.argv[2]
quick = mode == "--quick"
clients = 16 if quick else 32
body_mb = 16 if quick else 67
budget = (32 if quick else 256) << 20
oip_shape = [1 if quick else 4, 3, 512, 512]
slack = 64 << 20
started = time.monotonic()

def body_path(gz):
    return f"/tmp/lossd-budget-mse-{body_mb}mb.json" + (".gz" if gz else "")

def oip_path():
    return "/tmp/lossd-budget-oip-mse-" + "x".join(map(str, oip_shape)) + ".bin"

def oip_header():
    count = 1
    for size in oip_shape:
        count *= size
    inputs = [{"name": name, "datatype": "FP32", "shape": oip_shape, "parameters": {"binary_data_size": 4 * count}}
              for name in ("predictions", "targets")]
    return json.dumps({"inputs": inputs, "outputs": [{"name": "loss"}]}).encode(), count

def make_oip_body():
    path = oip_path()
    if os.path.exists(path):
        return
    header, count = oip_header()
    rng = random.Random(10)
    row = array.array("f", [rng.random() for _ in range(65536)])
    reps, rest = divmod(count, len(row))
    with open(path + ".tmp", "wb") as f:
        f.write(header)
        for _ in range(2):  # predictions, then targets
            for _ in range(reps):
                f.write(row.tobytes())
            f.write(row[:rest].tobytes())
    os.replace(path + ".tmp", path)

def batch_path():
    return "/tmp/lossd-budget-batch-15mb.json"

def make_batch_body():
    path = batch_path()
    if os.path.exists(path):
        return
    # Two MSE requests of 416 666 predictions and as many targets, 9 bytes a number: 15 MB, under the 16 MiB batch limit.
    rng = random.Random(14)
    row = ",".join(f"{rng.random():.6f}" for _ in range(416_666))
    one = '{"loss":"mse","predictions":[' + row + '],"targets":[' + row + ']}'
    with open(path + ".tmp", "w") as f:
        f.write("[" + one + "," + one + "]")
    os.replace(path + ".tmp", path)

def make_bodies():
    plain = body_path(False)
    if not os.path.exists(plain):
        # Numbers of 8 characters and a comma (0.xxxxxx,): 9 bytes each, half predictions, half targets.
        count = body_mb * 1_000_000 // 18
        rng = random.Random(12)
        row = ",".join(f"{rng.random():.6f}" for _ in range(100_000))
        reps, rest = divmod(count, 100_000)
        tensor = ",".join([row] * reps + ([",".join(row.split(",")[:rest])] if rest else []))
        text = '{"predictions":[' + tensor + '],"targets":[' + tensor + '],"reduction":"mean"}'
        with open(plain + ".tmp", "w") as f:
            f.write(text)
        os.replace(plain + ".tmp", plain)
    packed = body_path(True)
    if not os.path.exists(packed):
        with open(plain, "rb") as f:
            data = gzip.compress(f.read(), compresslevel=1)
        with open(packed + ".tmp", "wb") as f:
            f.write(data)
        os.replace(packed + ".tmp", packed)

def vm_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    return 0

def post(port, body, kind, results, index, barrier):
    if kind == "batch":
        head = (f"POST /loss HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    elif kind == "oip":
        head = (f"POST /v2/models/mse/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                f"Inference-Header-Content-Length: {len(oip_header()[0])}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    else:
        head = (f"POST /loss/mse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n"
                + ("Content-Encoding: gzip\r\n" if kind == "gzip" else "") + "\r\n").encode()
    answer = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            try:
                s.sendall(head)
                if barrier is None:
                    s.sendall(body)
                else:
                    # All of the body but its last bytes, then wait for every other client to get
                    # as far (or be refused): lossd holds every request's tensors at once.
                    s.sendall(body[:-4096])
            except OSError:
                pass  # an early answer (503) may close the sending side; read what was said
            if barrier is not None:
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    pass
                try:
                    s.sendall(body[-4096:])
                except OSError:
                    pass
            s.settimeout(60)
            while True:
                try:
                    piece = s.recv(65536)
                except OSError:
                    break
                if not piece:
                    break
                answer += piece
    except OSError as error:
        results[index] = ("error", str(error))
        return
    results[index] = ("ok", answer)

def metric(port, name, labels):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            data += piece
    for line in data.decode().splitlines():
        if line.startswith(name + labels + " "):
            return float(line.split()[-1])
    return -1

def phase(kind):
    path = {"oip": oip_path(), "batch": batch_path()}.get(kind) or body_path(kind == "gzip")
    body = open(path, "rb").read()
    proc = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0", "--memory-budget", str(budget),
                             "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r":(\d+)\s*$", line)
        if not match:
            return [f"lossd did not say where it listens: {line!r}"]
        port = int(match.group(1))
        results = [None] * clients
        t0 = time.monotonic()
        # Inferences and batches are held open at once (lossd reads two at a time otherwise, on two
        # CPUs, and the rest wait in the kernel's socket buffers, where no budget is needed).
        barrier = threading.Barrier(clients, timeout=60) if kind in ("oip", "batch") else None
        threads = [threading.Thread(target=post, args=(port, body, kind, results, i, barrier)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        elapsed = time.monotonic() - t0
        peak = vm_field(proc.pid, "VmHWM")
        rejected = metric(port, "lossd_rejected_requests_total", '{reason="memory"}')
        problems, ok, refused, other = [], 0, 0, []
        for i, result in enumerate(results):
            if result is None or result[0] != "ok":
                other.append(f"request {i}: {result}")
                continue
            answer = result[1]
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
            head, _, content = answer.partition(b"\r\n\r\n")
            head = head.decode("latin-1").lower()
            # The protocol answers {"error": ...} in application/json; the loss routes a problem document.
            refusal = (b'{"error":' in content and "content-type: application/json" in head) if kind == "oip" \
                else "application/problem+json" in head
            if status == 200 and not (kind == "batch" and b'"title":' in content):  # a batch's 200 holds no problem
                ok += 1
            elif status == 503 and "\r\nretry-after: " in head and refusal:
                refused += 1
            else:
                other.append(f"request {i}: {answer[:300]!r}")
        name = {"oip": "OIP binary", "batch": "batch"}.get(kind, kind)
        print(f"{name}: {clients} x {len(body) / 1e6:.1f} MB bodies in {elapsed:.1f} s: {ok} x 200, {refused} x 503, "
              f"{len(other)} other; peak RSS {peak / 2**20:.1f} MiB (limit {(budget + slack) / 2**20:.0f} MiB); "
              f"rejected{{reason=memory}} {rejected:.0f}")
        if peak >= budget + slack:
            problems.append(f"{name}: peak RSS {peak / 2**20:.1f} MiB is not under budget + 64 MiB")
        if other:
            problems.append(f"{name}: {len(other)} requests got neither 200 nor 503 with Retry-After: " + "; ".join(other[:3]))
        if ok == 0:
            problems.append(f"{name}: no request got 200")
        if rejected != refused:
            problems.append(f"{name}: lossd_rejected_requests_total{{reason=\"memory\"}} is {rejected}, not the {refused} 503s")
        return problems
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

make_bodies()
make_oip_body()
make_batch_body()
problems = phase("identity") + phase("gzip") + phase("oip") + phase("batch")
print(f"ran in {time.monotonic() - started:.0f} s")
if problems:
    for problem in problems:
        print("FAIL:", problem)
    sys.exit(1)
print("PASS: peak RSS stayed under budget + 64 MiB in every phase (JSON, gzip, OIP binary, batch); every request got 200 or 503 with Retry-After; some got 200")
PY
