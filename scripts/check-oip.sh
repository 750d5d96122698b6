#!/usr/bin/env bash
# The Open Inference Protocol v2 routes (#10) against the real clients from
# PyPI: starts lossd on 127.0.0.1, installs tritonclient[http] and the kserve
# SDK at pinned versions into .build/oip-venv (about 35 s the first time),
# and runs scripts/check_oip.py: every golden case over the protocol, binary
# and JSON tensors, FP64/FP32/FP16 and BF16 (binary), gzip, every model, equal to PyTorch's
# float64 values within the golden tolerance and to the JSON routes.
#
# Usage: scripts/check-oip.sh <lossd-binary>      Exits 0 when every check passed.
set -euo pipefail
if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 <lossd-binary>" >&2
    exit 2
fi
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.."

venv=.build/oip-venv
pins=("tritonclient[http]==2.73.0" "kserve==0.21.0" "numpy")
if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "${pins[*]}" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian's python3 ships venv separately.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
            rm -rf "$venv"
            python3 -m venv "$venv"
        else
            echo "check-oip: python3 -m venv failed; install python3-venv" >&2
            exit 1
        fi
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "${pins[@]}"
    echo "${pins[*]}" > "$venv/.installed"
fi

log=$(mktemp)
"$binary" --host 127.0.0.1 --port 0 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
url=
for _ in $(seq 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -n 1 || true)
    [ -n "$url" ] && break
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "check-oip: lossd did not start:" >&2
    cat "$log" >&2
    exit 1
fi
"$venv/bin/python" scripts/check_oip.py "$url"
