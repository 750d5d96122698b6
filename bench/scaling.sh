#!/usr/bin/env bash
# How lossd's small-request throughput scales from one event loop to two, on
# a machine where wrk has to share the same CPUs (bench/README.md, "Scaling").
#
# For each repeat, lossd is started unpinned with `--event-loops 1`, then with
# `--event-loops 2` (its defaults otherwise: access log on, to a file), and
# loaded with the small CE payload by wrk, also unpinned. Per run it prints
# requests/s, lossd's and wrk's CPU per request and the CPUs each kept busy,
# and the CPU the rest of the machine used meanwhile (a shared machine shows
# up there). The summary takes medians and gives two scaling figures:
#
#   measured   req/s with 2 loops / req/s with 1 loop. On 2 CPUs wrk takes
#              its share of the same CPUs, so this is bounded well below 2:
#              with 1 loop lossd has a whole CPU and wrk the other; with 2
#              loops they split both.
#   capacity   2 × (lossd CPU µs/req with 1 loop) / (with 2 loops): the
#              requests/s two loops would serve with both CPUs to themselves,
#              over what one loop serves with one, if per-request CPU stays
#              as measured. 2.0 means a second loop costs nothing extra per
#              request (no lock or cache-line contention between the loops).
#
# usage: bench/scaling.sh [--lossd-bin PATH] [--duration S] [--repeat N]
#                         [--connections N] [--payload NAME] [--port N]
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
LOSSD_BIN="$BENCH_DIR/../.build/release/lossd"
DURATION=10
REPEAT=3
CONNECTIONS=32
PAYLOAD=ce_32x10
PORT=28090
while [ $# -gt 0 ]; do
  case $1 in
    --lossd-bin) LOSSD_BIN=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --payload) PAYLOAD=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (--help)" >&2; exit 2 ;;
  esac
done
FILE="$BENCH_DIR/payloads/$PAYLOAD.json"
[ -x "$LOSSD_BIN" ] || { echo "no lossd at $LOSSD_BIN (swift build -c release --product lossd)" >&2; exit 1; }
[ -f "$FILE" ] || { echo "no payload $FILE (python3 bench/make_payloads.py --out bench/payloads)" >&2; exit 1; }
ROUTE=$(awk -v p="$PAYLOAD" '$1 == p {print $2}' "$BENCH_DIR/payloads/manifest.tsv")
case $ROUTE in /loss/*) ;; *) echo "$PAYLOAD is not a JSON loss payload of bench/payloads/manifest.tsv" >&2; exit 1 ;; esac
RUN_DIR="$BENCH_DIR/runs/scaling-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUN_DIR"
HZ=$(getconf CLK_TCK)
SERVER=""
trap '[ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null; true' EXIT

busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }  # user nice system irq softirq

one_run() {  # loops rep
  local loops=$1 rep=$2 log="$RUN_DIR/loops$1.$2"
  "$LOSSD_BIN" --host 127.0.0.1 --port "$PORT" --event-loops "$loops" >"$log.server.log" 2>&1 </dev/null &
  SERVER=$!
  local i
  for i in $(seq 150); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/livez" && break; sleep 0.1; done
  wrk -t2 -c"$CONNECTIONS" -d2s -s "$BENCH_DIR/post.lua" "http://127.0.0.1:$PORT$ROUTE" -- "$FILE" >/dev/null 2>&1
  local s0 m0 s1 m1
  s0=$(awk '{print $14 + $15}' "/proc/$SERVER/stat"); m0=$(busy_ticks)
  # wrk's own CPU (user + system seconds) from GNU time.
  /usr/bin/time -f "WRKCPU %U %S" -o "$log.wrktime" \
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$BENCH_DIR/post.lua" "http://127.0.0.1:$PORT$ROUTE" -- "$FILE" \
    >"$log.wrk.txt" 2>&1 </dev/null
  s1=$(awk '{print $14 + $15}' "/proc/$SERVER/stat"); m1=$(busy_ticks)
  kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  local requests wrk_cpu
  requests=$(grep -o 'requests=[0-9]*' "$log.wrk.txt" | cut -d= -f2)
  wrk_cpu=$(awk '/^WRKCPU/ {print $2 + $3}' "$log.wrktime")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$loops" "$rep" "$requests" "$((s1 - s0))" "$((m1 - m0))" "$wrk_cpu" "$DURATION" >> "$RUN_DIR/results.tsv"
}

printf 'loops\trep\trequests\tserver_ticks\tmachine_busy_ticks\twrk_cpu_s\tseconds\n' > "$RUN_DIR/results.tsv"
echo "[scaling] $LOSSD_BIN, $PAYLOAD, $CONNECTIONS connections, wrk -t2, ${DURATION}s x $REPEAT, $(nproc) CPUs, unpinned; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for rep in $(seq "$REPEAT"); do
  for loops in 1 2; do one_run "$loops" "$rep"; done
done

python3 - "$RUN_DIR/results.tsv" "$HZ" <<'PY' | tee "$RUN_DIR/report.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
hz = float(sys.argv[2])
print("| loops | rep | req/s | lossd CPU µs/req | lossd CPUs busy | wrk CPU µs/req | wrk CPUs busy | rest of machine, CPUs |")
print("|--:|--:|--:|--:|--:|--:|--:|--:|")
by = {1: [], 2: []}
for r in rows:
    n, secs = int(r["requests"]), float(r["seconds"])
    server, machine, wrk = int(r["server_ticks"]) / hz, int(r["machine_busy_ticks"]) / hz, float(r["wrk_cpu_s"])
    row = dict(rps=n / secs, us=server * 1e6 / n)
    by[int(r["loops"])].append(row)
    print(f"| {r['loops']} | {r['rep']} | {n / secs:,.0f} | {row['us']:.1f} | {server / secs:.2f} | "
          f"{wrk * 1e6 / n:.1f} | {wrk / secs:.2f} | {max(0.0, machine - server - wrk) / secs:.2f} |")
med = {k: (statistics.median(x["rps"] for x in v), statistics.median(x["us"] for x in v)) for k, v in by.items()}
measured = med[2][0] / med[1][0]
capacity = 2 * med[1][1] / med[2][1]
print()
print(f"- medians: 1 loop {med[1][0]:,.0f} req/s at {med[1][1]:.1f} µs/req; 2 loops {med[2][0]:,.0f} req/s at {med[2][1]:.1f} µs/req")
print(f"- measured scaling (wrk sharing the CPUs): x{measured:.2f}")
print(f"- capacity scaling (2 x µs/req at 1 loop / µs/req at 2 loops): x{capacity:.2f}")
PY
echo "[scaling] raw figures and logs: $RUN_DIR" >&2
