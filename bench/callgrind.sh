#!/usr/bin/env bash
# Where lossd's user-space instructions go per small request, counted by
# callgrind (repeatable to about 1 %, unlike CPU time on a shared machine).
#
# lossd (release) runs under `valgrind --tool=callgrind` from a copy with its
# debug sections stripped (valgrind 3.19 cannot read the DWARF 5 the Swift
# toolchain writes; the symbol table is enough for function names). wrk warms
# it up, the counters are zeroed, wrk loads it for --duration seconds, the
# counters are dumped, and each stage's inclusive instructions are divided by
# the number of requests begun (calls of Connection.begin). Every thread is
# counted: the access log's writer thread too.
#
# usage: bench/callgrind.sh [--lossd-bin PATH] [--duration S] [--payload NAME]
#                           [--connections N] [--port N] [--keep DIR]
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
LOSSD_BIN="$BENCH_DIR/../.build/release/lossd"
DURATION=5
PAYLOAD=ce_32x10
CONNECTIONS=16
PORT=28099
KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lossd-bin) LOSSD_BIN=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --payload) PAYLOAD=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    *) echo "usage: $0 [--lossd-bin PATH] [--duration S] [--payload NAME] [--connections N] [--port N] [--keep DIR]" >&2; exit 64 ;;
  esac
done
for tool in valgrind callgrind_control callgrind_annotate objcopy wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install valgrind binutils wrk curl python3)" >&2; exit 1; }
done
[ -x "$LOSSD_BIN" ] || { echo "no executable at $LOSSD_BIN (swift build -c release --product lossd)" >&2; exit 1; }
BODY="$BENCH_DIR/payloads/$PAYLOAD.json"
[ -f "$BODY" ] || python3 "$BENCH_DIR/make_payloads.py" --out "$BENCH_DIR/payloads" --only "$PAYLOAD" >&2
ROUTE=$(awk -F'\t' -v n="$PAYLOAD" '$1 == n {print $2}' "$BENCH_DIR/payloads/manifest.tsv")
[ -n "$ROUTE" ] && [ -f "$BODY" ] || { echo "no JSON payload $PAYLOAD" >&2; exit 1; }

WORK=${KEEP:-$(mktemp -d)}
mkdir -p "$WORK"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  [ -n "$KEEP" ] || rm -rf "$WORK"
}
trap cleanup EXIT
objcopy --strip-debug "$LOSSD_BIN" "$WORK/lossd"
valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out.%p" \
  "$WORK/lossd" --host 127.0.0.1 --port "$PORT" > "$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 60); do curl -sf -m 2 "http://127.0.0.1:$PORT/livez" >/dev/null && break; sleep 0.5; done
curl -sf -m 2 "http://127.0.0.1:$PORT/livez" >/dev/null || { echo "lossd did not answer /livez under valgrind" >&2; exit 1; }
URL="http://127.0.0.1:$PORT$ROUTE"
wrk -t1 -c"$CONNECTIONS" -d2s --timeout 60s -s "$BENCH_DIR/post.lua" "$URL" -- "$BODY" >/dev/null
callgrind_control -z "$PID" >/dev/null 2>&1
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 60s -s "$BENCH_DIR/post.lua" "$URL" -- "$BODY" > "$WORK/wrk.txt"
callgrind_control -d "$PID" >/dev/null 2>&1
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
callgrind_annotate --auto=no --threshold=100 --inclusive=yes --tree=calling "$WORK/callgrind.out.$(ls "$WORK" | sed -n 's/^callgrind\.out\.\([0-9]*\)\.1$/\1/p').1" > "$WORK/calling.txt"

python3 - "$WORK/calling.txt" "$PAYLOAD" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
blocks = text.split('\n\n')
def number(s): return int(s.replace(',', ''))
def inclusive(pattern):
    """The inclusive instructions of the first function whose name contains pattern."""
    for block in blocks:
        for line in block.split('\n'):
            if '*  ' in line and pattern in line:
                return number(re.match(r'\s*([\d,]+)', line).group(1))
    return None
calls = [number(m.group(1)) for m in re.finditer(r'>\s+\S*HTTP10ConnectionC5begin\S* \(([\d,]+)x\)', text)]
requests = sum(calls)
total = number(re.search(r'([\d,]+) \(100.0%\)\s+PROGRAM TOTALS', text).group(1))
print(f"{sys.argv[2]}: {requests} requests, {total / requests:,.0f} instructions per request (all threads)")
stages = [
    ("JSON decode (TensorDecoder.feed)", "TensorJSON0A7DecoderV4feed"),
    ("  number scan (NumberScanner.scanRun)", "NumberScannerO7scanRun"),
    ("decoder set-up (TensorDecoder.init)", "TensorJSON0A7DecoderV8maxDepth"),
    ("route and handler (LossResponder.respond)", "0A9ResponderV7respond2to"),
    ("HTTP head parse (RequestParser.scan)", "RequestParserV4scan"),
    ("body end (LossBodyHandler.finish)", "0A11BodyHandlerC6finish"),
    ("  members and loss (LossDeclaration.evaluate)", "0A11DeclarationV8evaluate"),
    ("    member checks (MemberValues.init)", "MemberValuesV_11declaration"),
    ("    the loss (CrossEntropy.callAsFunction)", "CrossEntropyV14callAsFunction"),
    ("  JSON answer (JSONWriter.lossResponse)", "JSONWriterV12lossResponse"),
    ("handler and tensors freed (LossBodyHandler.deinit)", "0A11BodyHandlerCfD"),
    ("answer (Connection.send)", "ConnectionC4send"),
    ("  head (ResponseEncoder.encode)", "ResponseEncoderV6encode"),
    ("  checks (ResponseWriter.problem)", "ResponseWriterV7problem"),
    ("  CORS (LossResponder.prepare)", "0A9ResponderV4HTTP0C0AadEP7prepare"),
    ("metrics and access line (LossResponder.completed)", "0A9ResponderV9completed"),
    ("  metrics (ServiceMetrics.record)", "MetricsC6record_5route"),
    ("  access line (AccessLog.line)", "AccessLogV4line"),
]
for name, pattern in stages:
    value = inclusive(pattern)
    print(f"  {name:<52} {'-' if value is None else f'{value / requests:>9,.0f}'}")
EOF
