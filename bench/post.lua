-- wrk script for bench/run.sh: POST one payload file, again and again, on
-- every connection, and print the figures run.sh parses.
--
--   wrk -t1 -c16 -d10s -s bench/post.lua http://127.0.0.1:PORT/loss/ce -- FILE
--   wrk ... -s bench/post.lua http://127.0.0.1:PORT/v2/models/mse/infer -- FILE HEADER_LENGTH
--
-- With HEADER_LENGTH (other than "-") the file is an Open Inference Protocol
-- body with binary tensors: it goes with Inference-Header-Content-Length,
-- as tritonclient.http sends it.
--
-- The file is read once per wrk thread (init runs in each thread's Lua state);
-- wrk builds the request bytes once and reuses them, so the load generator
-- does no per-request work beyond the socket writes.

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  local path = args[1] or os.getenv("BENCH_PAYLOAD")
  assert(path, "usage: wrk ... -s post.lua URL -- PAYLOAD_FILE")
  wrk.method = "POST"
  wrk.body = slurp(path)
  local header = args[2]
  if header and header ~= "-" then
    wrk.headers["Content-Type"] = "application/octet-stream"
    wrk.headers["Inference-Header-Content-Length"] = header
  else
    wrk.headers["Content-Type"] = "application/json"
  end
end

-- Machine-readable summary; latencies in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes_read=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f "
      .. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
