#!/usr/bin/env bash
# The page at GET / in a real browser (issue #13): Playwright drives Debian's
# chromium (never a browser Playwright downloads). PASS when
#   - the page loads with no console error and no Content-Security-Policy
#     violation, and its YAML reader reads /openapi.yaml exactly as PyYAML does;
#   - each loss's members in the page are its request schema's properties;
#   - a cross entropy request sent from the form, with the keyboard alone,
#     shows the same loss as curl;
#   - a malformed request shows its problem with the offending byte marked;
#   - the metrics panel draws (two polls, ink on the canvas);
#   - on a phone-sized screen nothing overflows sideways;
#   - a page served from another origin (python3 http.server on another port)
#     calls /loss/bce with fetch (CORS) and reads a result and a 422 problem.
# Screenshots go to artifacts/page/ (git-ignored).
#
# Usage: scripts/check-page.sh <lossd-binary>
# Takes about 20 s once the tools are installed (chromium from apt, playwright
# and PyYAML into the tools venv of scripts/python-tools.sh).
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 <lossd-binary>" >&2
    exit 2
fi
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
    else
        echo "FAIL: chromium not found (apt-get install chromium)"; exit 1
    fi
fi
# shellcheck source=scripts/python-tools.sh
source scripts/python-tools.sh
python_tools playwright==1.65.2 pyyaml==6.0.3
exec python scripts/check_page.py "$binary" "$(command -v chromium)"
