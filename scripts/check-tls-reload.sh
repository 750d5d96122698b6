#!/usr/bin/env bash
# TLS certificate reload on SIGHUP (issue #12), against a live lossd serving
# HTTPS from files laid out as Kubernetes mounts a secret (cert.pem and
# key.pem are symlinks through ..data, which a rotation swaps atomically):
#   - a connection opened before the reload keeps working on its certificate;
#   - after a rotation and SIGHUP a new connection gets the new certificate
#     (the peer certificates are compared by SHA-256) and lossd logs it;
#   - a bad pair (the new certificate with the old key, a rotation caught
#     half-way) is refused with an error line naming the file, and new
#     connections still get the previous certificate;
#   - a plain-HTTP lossd logs that there is nothing to reload and keeps
#     serving (SIGHUP's default action would have ended it);
#   - SIGTERM still exits 0.
# Makes its certificates with the openssl command. Listens on 127.0.0.1 only.
# Takes about 3 s.
#
# Usage: scripts/check-tls-reload.sh <lossd-binary>
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 <lossd-binary>" >&2
    exit 2
fi

exec python3 - "$1" <<'PY'
import hashlib, os, signal, socket, ssl, subprocess, sys, tempfile, time

binary = sys.argv[1]
work = tempfile.mkdtemp(prefix="lossd-tls-reload-")
checks = []


def check(ok, name, figures=""):
    checks.append(ok)
    print("%s: %s%s" % ("PASS" if ok else "FAIL", name, " (%s)" % figures if figures else ""), flush=True)


def make_pair(name):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", os.path.join(work, name + ".key"), "-out", os.path.join(work, name + ".crt"),
                    "-days", "2", "-subj", "/CN=" + name, "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    with open(os.path.join(work, name + ".crt"), "rb") as f:
        der = ssl.PEM_cert_to_DER_cert(f.read().decode())
    return hashlib.sha256(der).hexdigest()


def mount(version, certificate, key):
    """As the kubelet does: a new timestamped directory, then ..data swapped to it by a rename."""
    directory = os.path.join(work, "secret", "..%s" % version)
    os.makedirs(directory)
    for source, target in [(certificate, "tls.crt"), (key, "tls.key")]:
        with open(os.path.join(work, source), "rb") as f, open(os.path.join(directory, target), "wb") as g:
            g.write(f.read())
    link = os.path.join(work, "secret", "..data_tmp")
    os.symlink("..%s" % version, link)
    os.rename(link, os.path.join(work, "secret", "..data"))


def connect(port):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    tls = context.wrap_socket(raw)
    return tls, hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def get(sock, path="/livez"):
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        body += sock.recv(4096)
    return int(head.split()[1])


def wait_for_log(path, text, seconds=5):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with open(path, errors="replace") as f:
            for line in f:
                if text in line:
                    return line.strip()
        time.sleep(0.05)
    return None


def start(args, log):
    process = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0"] + args,
                               stdout=subprocess.PIPE, stderr=open(log, "w"))
    line = process.stdout.readline().decode()
    if "listening on" not in line:
        process.wait(5)
        sys.exit("FAIL: lossd did not start: " + open(log).read()[-2000:])
    return process, int(line.rsplit(":", 1)[1])


processes = []
try:
    old, new = make_pair("old.lossd.test"), make_pair("new.lossd.test")
    os.makedirs(os.path.join(work, "secret"))
    mount("2026_01", "old.lossd.test.crt", "old.lossd.test.key")
    for name in ["tls.crt", "tls.key"]:
        os.symlink("..data/" + name, os.path.join(work, "secret", name))
    log = os.path.join(work, "lossd.log")
    lossd, port = start(["--tls-cert", os.path.join(work, "secret", "tls.crt"),
                         "--tls-key", os.path.join(work, "secret", "tls.key")], log)
    processes.append(lossd)

    before, seen = connect(port)
    check(seen == old and get(before) == 200, "before the reload: the first certificate, and a request is answered")

    mount("2026_02", "new.lossd.test.crt", "new.lossd.test.key")
    lossd.send_signal(signal.SIGHUP)
    line = wait_for_log(log, "SIGHUP: reloaded the TLS certificate")
    check(line is not None and "/CN=new.lossd.test" in line, "SIGHUP reloads the rotated pair and logs it", line or "no log line")
    after, seen = connect(port)
    check(seen == new, "a new connection gets the new certificate", "sha256 %s…" % seen[:16])
    check(get(after) == 200, "and is answered")
    status = get(before)
    check(status == 200 and hashlib.sha256(before.getpeercert(binary_form=True)).hexdigest() == old,
          "the connection opened before the reload is not dropped and keeps its certificate", "status %s" % status)

    mount("2026_03", "new.lossd.test.crt", "old.lossd.test.key")  # half a rotation: the key does not match
    lossd.send_signal(signal.SIGHUP)
    line = wait_for_log(log, "SIGHUP: kept the previous TLS certificate")
    check(line is not None and "does not match the certificate" in line and "tls.key" in line,
          "a bad pair is refused with an error line naming the file", line or "no log line")
    third, seen = connect(port)
    check(seen == new and get(third) == 200, "new connections still get the previous (valid) certificate")
    for sock in (before, after, third):
        sock.close()

    lossd.send_signal(signal.SIGTERM)
    code = lossd.wait(15)
    check(code == 0, "SIGTERM exits 0 after the reloads", "exit status %d" % code)

    plain_log = os.path.join(work, "plain.log")
    plain, plain_port = start([], plain_log)
    processes.append(plain)
    plain.send_signal(signal.SIGHUP)
    line = wait_for_log(plain_log, "SIGHUP")
    with socket.create_connection(("127.0.0.1", plain_port), timeout=5) as sock:
        status = get(sock)
    check(plain.poll() is None and status == 200 and line is not None and "no TLS certificate to reload" in line,
          "plain HTTP: SIGHUP logs there is nothing to reload and lossd keeps serving", line or "no log line")
    plain.send_signal(signal.SIGTERM)
    check(plain.wait(15) == 0, "plain HTTP: SIGTERM exits 0")
finally:
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    subprocess.run(["rm", "-rf", work])

print("check-tls-reload: %s (%d checks)" % ("PASS" if all(checks) else "FAIL", len(checks)))
sys.exit(0 if all(checks) else 1)
PY
