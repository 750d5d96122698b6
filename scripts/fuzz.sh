#!/usr/bin/env bash
# Builds a libFuzzer target and runs it for a while.
#
#   scripts/fuzz.sh <target> [seconds=60] [libFuzzer options...]
#
# Targets (add one by adding a case to `configure` below):
#   parser   RequestParser and ChunkedDecoder (Fuzz/RequestParserFuzz)
#
# Each target compiles only the sources it names, with the fuzz entry file, as
# one module (`swiftc -sanitize=fuzzer,address -parse-as-library`), so the
# server's socket and zlib code stay out of the build. Seeds are read from
# Fuzz/<Name>/corpus/ (committed, small), tokens from Fuzz/<Name>/*.dict; what the fuzzer finds grows
# .build/fuzz/<Name>/corpus/ and crashes land in .build/fuzz/<Name>/artifacts/
# (neither is committed). Exit status: 0 when the run found nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
target=$1
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))

# Sets `name` (the folder under Fuzz/) and `sources` (the library sources it needs).
configure() {
    case "$1" in
        parser)
            name=RequestParserFuzz
            sources=(Sources/HTTP/{ByteSet,ChunkedDecoder,HTTPError,Headers,Limits,Method,RequestHead,RequestParser,Status,Version}.swift)
            ;;
        *)
            echo "unknown fuzz target: $1" >&2
            usage
            ;;
    esac
}
configure "$target"

out=.build/fuzz/$name
mkdir -p "$out/corpus" "$out/artifacts"
echo "building $out/$name" >&2
swiftc -sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g \
    -module-name "$name" "${sources[@]}" Fuzz/"$name"/*.swift -o "$out/$name"

# A dictionary of the format's tokens, when the target has one.
dict=()
for d in Fuzz/"$name"/*.dict; do [ -e "$d" ] && dict=(-dict="$d"); done

# The first corpus folder is where libFuzzer writes new inputs; the seeds are only read.
exec "$out/$name" "$out/corpus" "Fuzz/$name/corpus" "${dict[@]}" \
    -max_total_time="$seconds" -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$@"
