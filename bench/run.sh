#!/usr/bin/env bash
# bench/run.sh — lossd against a reference nginx, same machine, same run.
#
# For every payload (bench/make_payloads.py) and each server in turn: start
# the server pinned to one CPU, check that it answers the payload with 200,
# warm up, then load it with wrk pinned to another CPU while reading the
# server's CPU time (utime + stime, /proc/PID/stat) before and after, and
# its peak RSS (VmHWM, /proc/PID/status) at the end. Each server is started
# afresh per payload so that every peak RSS belongs to that payload alone.
# Prints a Markdown table (bench/report.py) and keeps the raw figures in
# bench/runs/<UTC time>/.  See bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/run.sh [options]
  --duration SECS        load time for every payload (default: 10 small, 15 large)
  --duration-small SECS  load time for small payloads (default 10)
  --duration-large SECS  load time for large payloads (default 15)
  --warmup SECS          wrk warm-up before each measured run (default 2)
  --repeat N             measure each payload N times, lossd and nginx
                         interleaved; the report takes the median (default 1)
  --only NAME            run this payload only (repeatable, or comma-separated)
  --servers LIST         lossd,nginx (default both)
  --no-build             do not run `swift build -c release --product lossd`
  --lossd-bin PATH       lossd executable (default .build/release/lossd)
  --lossd-args "ARGS"    extra arguments for lossd (e.g. a quieter log level)
  --connections-small N  wrk connections for small payloads (default 16)
  --connections-large N  wrk connections for large payloads (default 4)
  --server-cpu N         CPU the server is pinned to (default 0)
  --client-cpu N         CPU wrk is pinned to (default 1)
  --lossd-port N         (default 28080)
  --nginx-port N         (default 28081)
  -h, --help
EOF
}

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
DURATION_SMALL=10
DURATION_LARGE=15
WARMUP=2
REPEAT=1
ONLY=""
SERVERS="lossd,nginx"
BUILD=1
LOSSD_BIN="$ROOT/.build/release/lossd"
LOSSD_ARGS=""
CONNS_SMALL=16
CONNS_LARGE=4
SERVER_CPU=0
CLIENT_CPU=1
LOSSD_PORT=28080
NGINX_PORT=28081

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION_SMALL=$2; DURATION_LARGE=$2; shift 2 ;;
    --duration-small) DURATION_SMALL=$2; shift 2 ;;
    --duration-large) DURATION_LARGE=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --only) ONLY="${ONLY:+$ONLY,}$2"; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --lossd-bin) LOSSD_BIN=$2; shift 2 ;;
    --lossd-args) LOSSD_ARGS=$2; shift 2 ;;
    --connections-small) CONNS_SMALL=$2; shift 2 ;;
    --connections-large) CONNS_LARGE=$2; shift 2 ;;
    --server-cpu) SERVER_CPU=$2; shift 2 ;;
    --client-cpu) CLIENT_CPU=$2; shift 2 ;;
    --lossd-port) LOSSD_PORT=$2; shift 2 ;;
    --nginx-port) NGINX_PORT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

say() { echo "[bench] $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }

for tool in wrk taskset curl python3 nginx; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install wrk util-linux curl nginx-light libnginx-mod-http-echo)"
done
[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ] \
  || die "nginx echo module missing: apt-get install libnginx-mod-http-echo"
CLK_TCK=$(getconf CLK_TCK)


# The processes this script has running (never more than one server and one
# wrk); each is cleared once it has been reaped, so a recycled PID is never hit.
SERVER_MAIN=""  # the process to signal (nginx's master)
SERVER_PID=""   # the process whose CPU and RSS are measured (nginx's worker)
WRK_PID=""
fail_row() {  # row-prefix status: a row without figures
  printf "$1\t%s\t\t\t\t\t\t\t\t\t\t\t\t\n" "$2" >> "$RESULTS"
}
cleanup() {
  if [ -n "$WRK_PID" ]; then kill -TERM "$WRK_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_MAIN" ]; then stop_server; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# The given port, or the next free one of the 20 after it, should something
# else on the machine (a test, another run) hold it just now.
free_port() {
  local p
  for p in $(seq "$1" $(( $1 + 20 ))); do
    if port_free "$p"; then echo "$p"; return 0; fi
    say "port $p is in use, trying the next one"
  done
  return 1
}

# ---- payloads -----------------------------------------------------------
PAYLOAD_DIR="$BENCH_DIR/payloads"
MANIFEST="$PAYLOAD_DIR/manifest.tsv"
KNOWN=$(python3 "$BENCH_DIR/make_payloads.py" --list)
for name in ${ONLY//,/ }; do
  grep -qx "$name" <<<"$KNOWN" || die "unknown payload $name; known: $(echo $KNOWN)"
done
need_gen=0
[ -f "$MANIFEST" ] || need_gen=1
if [ $need_gen = 0 ] && [ -n "$ONLY" ]; then
  for name in ${ONLY//,/ }; do
    [ -f "$PAYLOAD_DIR/$name.json" ] || [ -f "$PAYLOAD_DIR/$name.bin" ] || need_gen=1
  done
elif [ $need_gen = 0 ] && [ "$(wc -l < "$MANIFEST")" -lt "$(wc -l <<<"$KNOWN")" ]; then
  need_gen=1
fi
# A manifest from before the header-length column, or older than the
# generator, is rewritten.
if [ $need_gen = 0 ] && { awk -F'\t' 'NF < 7 {bad = 1} END {exit !bad}' "$MANIFEST" \
    || [ "$BENCH_DIR/make_payloads.py" -nt "$MANIFEST" ]; }; then
  need_gen=1
fi
if [ $need_gen = 1 ]; then
  say "writing payloads to $PAYLOAD_DIR (numpy, fixed seed; about a minute)"
  python3 "$BENCH_DIR/make_payloads.py" --out "$PAYLOAD_DIR" >&2
fi

RUN_DIR="$BENCH_DIR/runs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUN_DIR"
RESULTS="$RUN_DIR/results.tsv"
printf 'payload\troute\tbytes\tconnections\tserver\tstatus\trequests\tduration_us\tp50_us\tp99_us\tcpu_ticks\tclk_tck\tidle_rss_kb\tpeak_rss_kb\tend_rss_kb\tnon2xx\tsocket_errors\tanswer\n' > "$RESULTS"

# ---- lossd --------------------------------------------------------------
want_lossd=0; want_nginx=0
case ",$SERVERS," in *,lossd,*) want_lossd=1 ;; esac
case ",$SERVERS," in *,nginx,*) want_nginx=1 ;; esac

if [ $want_lossd = 1 ] && [ $BUILD = 1 ]; then
  say "building: swift build -c release --product lossd"
  if ! (cd "$ROOT" && swift build -c release --product lossd >&2); then
    say "the release build of lossd FAILED: lossd is skipped, nginx only"
    want_lossd=0
  fi
fi
if [ $want_lossd = 1 ] && [ ! -x "$LOSSD_BIN" ]; then
  say "no lossd executable at $LOSSD_BIN: lossd is skipped, nginx only (build it or pass --lossd-bin)"
  want_lossd=0
fi

# ---- server control -----------------------------------------------------

wait_ready() {  # url pid seconds
  local i
  for i in $(seq $(( $3 * 10 ))); do
    kill -0 "$2" 2>/dev/null || return 1
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

start_lossd() {  # log
  LOSSD_PORT=$(free_port "$LOSSD_PORT") || die "no free port from $LOSSD_PORT on (--lossd-port)"
  # shellcheck disable=SC2086
  taskset -c "$SERVER_CPU" "$LOSSD_BIN" --host 127.0.0.1 --port "$LOSSD_PORT" $LOSSD_ARGS >"$1" 2>&1 </dev/null &
  SERVER_MAIN=$!; SERVER_PID=$SERVER_MAIN
  wait_ready "http://127.0.0.1:$LOSSD_PORT/livez" "$SERVER_MAIN" 15
}

start_nginx() {  # log
  NGINX_PORT=$(free_port "$NGINX_PORT") || die "no free port from $NGINX_PORT on (--nginx-port)"
  local dir="$RUN_DIR/nginx"
  mkdir -p "$dir/client_body"
  sed -e "s#@PORT@#$NGINX_PORT#g" -e "s#@RUNDIR@#$dir#g" "$BENCH_DIR/nginx.conf" > "$dir/nginx.conf"
  taskset -c "$SERVER_CPU" nginx -p "$dir" -c "$dir/nginx.conf" >"$1" 2>&1 </dev/null &
  SERVER_MAIN=$!
  wait_ready "http://127.0.0.1:$NGINX_PORT/livez" "$SERVER_MAIN" 10 || return 1
  # One worker (worker_processes 1): it does all the work, the master none.
  SERVER_PID=$(pgrep -P "$SERVER_MAIN" | head -n1)
  [ -n "$SERVER_PID" ]
}

stop_server() {
  [ -n "$SERVER_MAIN" ] || return 0
  kill -TERM "$SERVER_MAIN" 2>/dev/null || true
  local i
  for i in $(seq 100); do kill -0 "$SERVER_MAIN" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SERVER_MAIN" 2>/dev/null && kill -KILL "$SERVER_MAIN" 2>/dev/null || true
  wait "$SERVER_MAIN" 2>/dev/null || true
  SERVER_MAIN=""; SERVER_PID=""
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, whole process
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

run_wrk() {  # url file header-length conns seconds out
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$4" -d"${5}s" --timeout 60s \
    -s "$BENCH_DIR/post.lua" "$1" -- "$2" "$3" >"$6" 2>&1 </dev/null &
  WRK_PID=$!
  wait "$WRK_PID" || true
  WRK_PID=""
}

# Does the JSON answer in file $1 carry "loss" within 1e-9 (relative) of $2?
# (A loss route's {"loss": x}, or an inference answer's output "loss",
# asked for as JSON: {"outputs": [{"name": "loss", "data": [x]}, ...]}.)
check_loss() {
  python3 - "$1" "$2" <<'PY'
import json, math, sys
try:
    answer = json.load(open(sys.argv[1]))
    if "outputs" in answer:
        (got,) = [o["data"][0] for o in answer["outputs"] if o["name"] == "loss"]
    else:
        got = answer["loss"]
    want = float(sys.argv[2])
    ok = isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-15)
    print("ok" if ok else "WRONG loss %r, expected %r" % (got, want))
except Exception as e:
    print("WRONG answer (%s)" % e)
PY
}

bench_one() {  # server payload route bytes size expected header-length repeat
  local server=$1 payload=$2 route=$3 bytes=$4 size=$5 expected=$6 header=$7 rep=$8
  local file="$PAYLOAD_DIR/$payload.json" port conns duration log
  # A binary Open Inference Protocol body: its JSON header's length goes in
  # Inference-Header-Content-Length, as tritonclient sends it.
  local -a kind=(-H 'Content-Type: application/json')
  if [ "$header" != - ]; then
    file="$PAYLOAD_DIR/$payload.bin"
    kind=(-H 'Content-Type: application/octet-stream' -H "Inference-Header-Content-Length: $header")
  fi
  if [ "$size" = large ]; then conns=$CONNS_LARGE; duration=$DURATION_LARGE
  else conns=$CONNS_SMALL; duration=$DURATION_SMALL; fi
  log="$RUN_DIR/$server-$payload"
  [ "$REPEAT" -gt 1 ] && log="$log.$rep"
  local row="$payload\t$route\t$bytes\t$conns\t$server"

  if ! "start_$server" "$log.server.log"; then
    say "$server did not answer /livez: skipped (see $log.server.log)"
    stop_server
    fail_row "$row" "did not start"
    [ "$server" = lossd ] && want_lossd=0
    return 0
  fi
  # start_* may have moved to the next free port.
  [ "$server" = lossd ] && port=$LOSSD_PORT || port=$NGINX_PORT
  local idle_kb
  idle_kb=$(status_kb "$SERVER_PID" VmRSS)

  # The figures mean something only if the server accepts the payload.
  local code
  code=$(curl -s -o "$log.response.json" -w '%{http_code}' --max-time 120 -X POST \
    "${kind[@]}" -H 'Expect:' --data-binary "@$file" \
    "http://127.0.0.1:$port$route" || echo "curl-failed")
  if [ "$code" != 200 ]; then
    say "$server answered $payload with $code: $(head -c 300 "$log.response.json" 2>/dev/null)"
    stop_server
    fail_row "$row" "answered $code"
    return 0
  fi

  # nginx answers a fixed body; lossd must give PyTorch's loss.
  local answer="-"
  if [ "$server" = lossd ]; then
    answer=$(check_loss "$log.response.json" "$expected")
    [ "$answer" = ok ] || say "lossd answered $payload with a $answer"
  fi

  say "$server  $payload: warm-up ${WARMUP}s, then ${duration}s with $conns connections"
  run_wrk "http://127.0.0.1:$port$route" "$file" "$header" "$conns" "$WARMUP" "$log.warmup.txt"
  local t0 t1
  t0=$(cpu_ticks "$SERVER_PID")
  run_wrk "http://127.0.0.1:$port$route" "$file" "$header" "$conns" "$duration" "$log.wrk.txt"
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    say "$server DIED during the $payload run (see $log.server.log)"
    stop_server
    fail_row "$row" "died under load"
    return 0
  fi
  t1=$(cpu_ticks "$SERVER_PID")
  local peak_kb end_kb
  peak_kb=$(status_kb "$SERVER_PID" VmHWM)
  end_kb=$(status_kb "$SERVER_PID" VmRSS)
  stop_server

  local line
  line=$(grep '^BENCH ' "$log.wrk.txt" || true)
  if [ -z "$line" ]; then
    say "wrk printed no summary for $server $payload (see $log.wrk.txt)"
    fail_row "$row" "wrk failed"
    return 0
  fi
  field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
  local sockerr=$(( $(field err_connect) + $(field err_read) + $(field err_write) + $(field err_timeout) ))
  printf "$row\tok\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" \
    "$(field requests)" "$(field duration_us)" "$(field p50_us)" "$(field p99_us)" \
    "$((t1 - t0))" "$CLK_TCK" "$idle_kb" "$peak_kb" "$end_kb" "$(field err_status)" "$sockerr" \
    "$answer" >> "$RESULTS"
}

# ---- the run --------------------------------------------------------------
{
  echo "# lossd benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1); kernel $(uname -r)"
  echo "- server pinned to CPU $SERVER_CPU, wrk (1 thread) pinned to CPU $CLIENT_CPU, loopback"
  echo "- nginx $(nginx -v 2>&1 | sed 's/.*\///'), one worker, echo_read_request_body; wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
  echo "- lossd: $( [ $want_lossd = 1 ] && echo "$LOSSD_BIN $LOSSD_ARGS (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))" || echo 'not run')"
  echo "- durations: ${DURATION_SMALL}s small / ${DURATION_LARGE}s large after ${WARMUP}s warm-up, $REPEAT run(s) each (median shown); connections: $CONNS_SMALL small / $CONNS_LARGE large"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
} > "$RUN_DIR/header.md"

while IFS=$'\t' read -r -u 3 payload route size bytes expected header _description; do
  [ -n "$payload" ] || continue
  if [ -n "$ONLY" ]; then
    case ",$ONLY," in *",$payload,"*) ;; *) continue ;; esac
  fi
  # Interleaved, so that a busy neighbour hurts both servers alike.
  for rep in $(seq "$REPEAT"); do
    if [ $want_lossd = 1 ]; then bench_one lossd "$payload" "$route" "$bytes" "$size" "$expected" "$header" "$rep"; fi
    if [ $want_nginx = 1 ]; then bench_one nginx "$payload" "$route" "$bytes" "$size" "$expected" "$header" "$rep"; fi
  done
done 3< "$MANIFEST"

python3 "$BENCH_DIR/report.py" "$RESULTS" > "$RUN_DIR/table.md"
cat "$RUN_DIR/header.md" "$RUN_DIR/table.md" > "$RUN_DIR/report.md"
cat "$RUN_DIR/report.md"
say "raw figures and logs: $RUN_DIR"
