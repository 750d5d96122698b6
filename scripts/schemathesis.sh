#!/usr/bin/env bash
# Tests a running lossd against openapi.yaml with schemathesis: the examples
# in the document must score, and generated requests (valid and invalid) must
# get no server error, only documented status codes and content types, and
# response bodies and headers that conform to the document. Also checks that
# the service serves the same document at GET /openapi.yaml.
#
# Usage: scripts/schemathesis.sh [BASE_URL]     (default http://127.0.0.1:8080)
#
# Environment:
#   ST_MAX_EXAMPLES  generated cases per operation in the fuzzing phase (default 50)
#   ST_SEED          hypothesis seed (default 20261129, fixed so CI is repeatable)
#   ST_WORKERS       concurrent workers (default 2)
#   ST_REPORT_DIR    where the JUnit report goes (default: none written)
#
# Start lossd first (e.g. `.build/release/lossd --port 8080 &`). Exits 0 when
# every check passed, non-zero otherwise. Takes about 1-3 minutes. Needs
# Python 3.12 or later (scripts/python-tools.sh finds one, pyenv's too).
set -euo pipefail
cd "$(dirname "$0")/.."

url=${1:-http://127.0.0.1:8080}
url=${url%/}
max_examples=${ST_MAX_EXAMPLES:-50}
seed=${ST_SEED:-20261129}
workers=${ST_WORKERS:-2}

# shellcheck source=scripts/python-tools.sh
source scripts/python-tools.sh
python_tools schemathesis==4.32.5

# 1. The document the service serves is this file, byte for byte.
if ! python3 - "$url/openapi.yaml" openapi.yaml <<'EOF'
import sys, urllib.request
url, path = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(url, timeout=10) as response:
        served = response.read()
except Exception as error:  # connection refused, HTTP error, timeout
    sys.exit(f"FAIL: GET {url}: {error}")
if served != open(path, "rb").read():
    sys.exit(f"FAIL: GET {url} differs from {path}: rebuild lossd (Plugins/EmbedPlugin embeds the file at build time)")
print(f"PASS: GET {url} serves {path}")
EOF
then
    exit 1
fi

# 2. schemathesis. All of its checks run (scripts/schemathesis.toml lets
# positive_data_acceptance take a 422 outside the examples phase and says
# why; `--checks all` added by hand changes nothing).
report=()
if [ -n "${ST_REPORT_DIR:-}" ]; then
    report=(--report junit --report-dir "$ST_REPORT_DIR")
fi
st --config-file scripts/schemathesis.toml run openapi.yaml \
    --url "$url" \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --workers "$workers" \
    --request-timeout 10 \
    --generation-database none \
    --no-color \
    "${report[@]}"
