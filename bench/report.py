#!/usr/bin/env python3
"""Turn bench/run.sh's raw results (results.tsv) into the Markdown report.

Usage: python3 bench/report.py RESULTS.tsv

With several runs of one payload on one server (run.sh --repeat), the row is
the run with the median CPU time per request, its peak RSS the largest of
the runs' and its idle RSS the largest too.

Units: MB = 10^6 bytes everywhere (throughput and RSS alike), latency in ms,
CPU in microseconds of server CPU time (user + system) per request.
"""

import csv
import sys

# Issue 6's targets, evaluated on lossd's figures from the same run.
CE_SMALL = "ce_32x10"
SEGMENTATION = ("ce_seg_2x5x64x64", "bce_logits_4x1x128x128")
MSE_LARGE = "mse_4x3x512x512"
# Issue 10's, on the binary forms (Open Inference Protocol, binary tensors).
MSE_LARGE_BIN = MSE_LARGE + "_bin"
SEGMENTATION_BIN = "ce_seg_2x5x64x64_bin"


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        for key in ("bytes", "connections", "requests", "duration_us", "p50_us", "p99_us",
                    "cpu_ticks", "clk_tck", "idle_rss_kb", "peak_rss_kb", "end_rss_kb",
                    "non2xx", "socket_errors"):
            r[key] = int(r[key]) if r.get(key) not in (None, "", "-") else None
        ok = r["status"] == "ok" and r["requests"]
        if ok:
            seconds = r["duration_us"] / 1e6
            cpu_s = r["cpu_ticks"] / r["clk_tck"]
            r["rps"] = r["requests"] / seconds
            r["mbps"] = r["rps"] * r["bytes"] / 1e6
            r["cpu_us"] = cpu_s * 1e6 / r["requests"]
            r["mb_per_cpu_s"] = (r["bytes"] * r["requests"] / 1e6 / cpu_s) if cpu_s > 0 else None
        r["ok"] = bool(ok)
    return rows


def median_rows(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["payload"], r["server"]), []).append(r)
    out = []
    for runs in groups.values():
        good = [r for r in runs if r["ok"]]
        if not good:
            out.append(runs[0])
            continue
        good.sort(key=lambda r: r["cpu_us"])
        row = dict(good[(len(good) - 1) // 2])
        row["runs"] = len(runs)
        row["failed_runs"] = len(runs) - len(good)
        row["peak_rss_kb"] = max(r["peak_rss_kb"] or 0 for r in good)
        row["idle_rss_kb"] = max(r["idle_rss_kb"] or 0 for r in good)
        # Any wrong answer or error in any run marks the row.
        for r in good:
            if r.get("answer") not in (None, "", "-", "ok"):
                row["answer"] = r["answer"]
        row["non2xx"] = sum(r["non2xx"] or 0 for r in good)
        row["socket_errors"] = sum(r["socket_errors"] or 0 for r in good)
        out.append(row)
    return out


def mb(kb):
    return None if kb is None else kb * 1024 / 1e6


def num(x, digits=0):
    if x is None:
        return "–"
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{d}f}".format(x, d=digits)


def ms(us):
    return "–" if us is None else ("%.2f" % (us / 1000.0) if us < 100000 else "%.0f" % (us / 1000.0))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def table(rows):
    out = []
    out.append("| payload | server | conns | req/s | MB/s body | p50 ms | p99 ms | CPU µs/req "
               "| MB/s per CPU-s | idle RSS MB | peak RSS MB | ratio lossd/nginx |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    by_payload = {}
    for r in rows:
        by_payload.setdefault(r["payload"], {})[r["server"]] = r
    for payload, servers in by_payload.items():
        nginx = servers.get("nginx")
        for name in ("lossd", "nginx"):
            r = servers.get(name)
            if r is None:
                continue
            label = "%s (%s MB)" % (payload, num(r["bytes"] / 1e6, 3 if r["bytes"] < 1e6 else 1))
            if not r["ok"]:
                out.append("| %s | %s | | | | | | | | | | %s |" % (label, name, r["status"]))
                continue
            note = ""
            if name == "lossd" and nginx is not None and nginx["ok"]:
                cpu = ratio(r["cpu_us"], nginx["cpu_us"])
                rss = ratio(r["peak_rss_kb"], nginx["peak_rss_kb"])
                note = "CPU ×%s, peak RSS ×%s" % (num(cpu, 2), num(rss, 2))
            if r.get("answer") not in (None, "", "-", "ok"):
                note += " **%s**" % r["answer"]
            if r.get("failed_runs"):
                note += " **%d of %d runs failed**" % (r["failed_runs"], r["runs"])
            if r["non2xx"] or r["socket_errors"]:
                note += " **%d non-2xx, %d socket errors**" % (r["non2xx"] or 0, r["socket_errors"] or 0)
            out.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                label, name, r["connections"], num(r["rps"]), num(r["mbps"], 1), ms(r["p50_us"]),
                ms(r["p99_us"]), num(r["cpu_us"], 1 if r["cpu_us"] < 100 else 0),
                num(r["mb_per_cpu_s"]), num(mb(r["idle_rss_kb"]), 1), num(mb(r["peak_rss_kb"]), 1), note))
    return out


def targets(rows):
    # A figure counts only if the server gave the right answer (nginx: "-").
    get = {(r["payload"], r["server"]): r for r in rows
           if r["ok"] and r.get("answer") in (None, "", "-", "ok")}
    wrong = any(r["ok"] and r.get("answer") not in (None, "", "-", "ok") for r in rows)
    checks = []

    def verdict(value, limit, stretch=None, lower_is_better=True):
        if value is None:
            return "not measured" + (" (or a wrong answer)" if wrong else "")
        good = value <= limit if lower_is_better else value >= limit
        text = "PASS" if good else "FAIL"
        if stretch is not None and good:
            better = value <= stretch if lower_is_better else value >= stretch
            text += " (stretch %s)" % ("met" if better else "not met")
        return text

    lossd, nginx = get.get((CE_SMALL, "lossd")), get.get((CE_SMALL, "nginx"))
    r = ratio(lossd and lossd["cpu_us"], nginx and nginx["cpu_us"])
    checks.append(("CE 32×10: CPU/req ≤ 3× nginx (stretch ≤ 1.5×)",
                   "×" + num(r, 2) if r is not None else "–", verdict(r, 3.0, 1.5)))
    for payload in SEGMENTATION:
        lossd = get.get((payload, "lossd"))
        v = lossd and lossd["mb_per_cpu_s"]
        checks.append(("%s: ≥ 300 MB/s of body per CPU-s" % payload, num(v),
                       verdict(v, 300, lower_is_better=False)))
    lossd = get.get((MSE_LARGE, "lossd"))
    v = lossd and lossd["mb_per_cpu_s"]
    checks.append(("%s: ≥ 400 MB/s of body per CPU-s (stretch ≥ 700)" % MSE_LARGE, num(v),
                   verdict(v, 400, 700, lower_is_better=False)))
    idle = [mb(r["idle_rss_kb"]) for (p, s), r in get.items() if s == "lossd" and r["idle_rss_kb"]]
    v = max(idle) if idle else None
    checks.append(("lossd idle RSS ≤ 12 MB (largest of its starts)", num(v, 1), verdict(v, 12.0)))
    lossd, nginx = get.get((MSE_LARGE, "lossd")), get.get((MSE_LARGE, "nginx"))
    r = ratio(lossd and lossd["peak_rss_kb"], nginx and nginx["peak_rss_kb"])
    checks.append(("%s: lossd peak RSS ≤ 0.8× nginx's" % MSE_LARGE,
                   "×" + num(r, 2) if r is not None else "–", verdict(r, 0.8)))


    lossd, nginx = get.get((MSE_LARGE_BIN, "lossd")), get.get((MSE_LARGE_BIN, "nginx"))
    v = lossd and lossd["mb_per_cpu_s"]
    checks.append(("%s: ≥ 1,500 MB/s of body per CPU-s" % MSE_LARGE_BIN, num(v),
                   verdict(v, 1500, lower_is_better=False)))
    r = ratio(lossd and lossd["cpu_us"], nginx and nginx["cpu_us"])
    checks.append(("%s: CPU/req ≤ 1.5× nginx" % MSE_LARGE_BIN,
                   "×" + num(r, 2) if r is not None else "–", verdict(r, 1.5)))
    lossd, nginx = get.get((SEGMENTATION_BIN, "lossd")), get.get((SEGMENTATION_BIN, "nginx"))
    r = ratio(lossd and lossd["cpu_us"], nginx and nginx["cpu_us"])
    checks.append(("%s: CPU/req ≤ 3× nginx" % SEGMENTATION_BIN,
                   "×" + num(r, 2) if r is not None else "–", verdict(r, 3.0)))
    # The same tensors as JSON (the loss route) over binary: server CPU per request.
    json_run, binary_run = get.get((MSE_LARGE, "lossd")), get.get((MSE_LARGE_BIN, "lossd"))
    r = ratio(json_run and json_run["cpu_us"], binary_run and binary_run["cpu_us"])
    checks.append(("%s: lossd CPU/req ≥ 10× less than %s (JSON)" % (MSE_LARGE_BIN, MSE_LARGE),
                   "×" + num(r, 1) if r is not None else "–", verdict(r, 10.0, lower_is_better=False)))

    out = ["| target | measured | verdict |", "|---|--:|---|"]
    out += ["| %s | %s | %s |" % c for c in checks]
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = median_rows(load(sys.argv[1]))
    print("\n".join(table(rows)))
    print()
    print("\n".join(targets(rows)))


if __name__ == "__main__":
    main()
