#!/usr/bin/env bash
# The TensorDecoder libFuzzer target; kept for its old name, now a case of fuzz.sh.
#
#   scripts/fuzz-json.sh [seconds=600] [more libFuzzer flags]
#   (same as: scripts/fuzz.sh json [seconds] [flags])
set -euo pipefail
seconds="${1:-600}"
shift || true
exec "$(dirname "$0")/fuzz.sh" json "$seconds" "$@"
