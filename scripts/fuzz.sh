#!/usr/bin/env bash
# Builds libFuzzer targets and runs them for a while.
#
#   scripts/fuzz.sh <target> [seconds=60] [libFuzzer options...]
#   scripts/fuzz.sh all [seconds=60]       # every target in turn, then PASS/FAIL
#
# Targets (add one by adding a case to `configure` below):
#   parser   RequestParser and ChunkedDecoder (Fuzz/RequestParserFuzz)
#   gzip     Inflater and its output limit, Deflater round trips (Fuzz/GzipFuzz)
#   json     TensorDecoder (the TensorJSON target) at fuzzer-chosen split points (Fuzz/TensorDecoderFuzz)
#   oip      the Open Inference Protocol's binary tensor framing: OIPBinaryReader, OIPJSONParser,
#            OIPDatatype (header length, binary_data_size, truncation, split points; Fuzz/OIPBinaryFuzz)
#
# Each target compiles only the sources it names, with the fuzz entry file, as
# one module (`swiftc -sanitize=fuzzer,address -parse-as-library`), so the
# server's socket code stays out of the build (json also builds Losses and the
# fast_float shim, oip those and TensorJSON). Seeds are read from Fuzz/<Name>/corpus/ (committed, small),
# tokens from Fuzz/<Name>/*.dict; what the fuzzer finds grows
# .build/fuzz/<Name>/corpus/ and crashes land in .build/fuzz/<Name>/artifacts/
# (neither is committed; FUZZ_OUT=<dir> puts builds and findings there instead
# of .build/fuzz). Exit status: 0 when the run found nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz_out=${FUZZ_OUT:-$root/.build/fuzz}

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
target=$1
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
all_targets=(parser gzip json oip)

# Sets `name` (the folder under Fuzz/), `sources` (the library sources it
# needs), `flags` (more swiftc flags), `links` (objects built by `prebuild`),
# `options` (more libFuzzer options) and `prebuild` (a function or `:`).
configure() {
    flags=() links=() options=() prebuild=:
    case "$1" in
        parser)
            name=RequestParserFuzz
            sources=(Sources/HTTP/{ByteSet,ChunkedDecoder,HTTPError,Headers,Limits,Method,RequestHead,RequestParser,Status,Version}.swift)
            ;;
        gzip)
            name=GzipFuzz
            sources=(Sources/HTTP/{Gzip,HTTPError,Status}.swift Tests/TestSupport/SplitMix64.swift)
            flags=(-I "$root/Sources/CZlib")  # CZlib's module map; it links -lz itself
            ;;
        json)
            name=TensorDecoderFuzz
            sources=(Sources/TensorJSON/*.swift Tests/TestSupport/SplitMix64.swift)  # the whole target: a new file needs no edit here
            flags=(-wmo -I . -I include -I CCPUFeatures)
            links=(Losses.o LossKernels.o LossKernelsAVX2.o CCPUFeatures.o CFastFloat.o -lstdc++)
            options=(-max_len=4096)
            prebuild=build_losses_and_fast_float
            ;;
        oip)
            name=OIPBinaryFuzz
            sources=(Sources/LossService/OIP/{OIPBinaryReader,OIPDatatype,OIPJSON}.swift Sources/LossService/TensorRole.swift)
            flags=(-wmo -I . -I include -I CCPUFeatures)
            links=(TensorJSON.o Losses.o LossKernels.o LossKernelsAVX2.o CCPUFeatures.o CFastFloat.o -lstdc++)
            options=(-max_len=4096)
            prebuild=build_tensor_json
            ;;
        *)
            echo "unknown fuzz target: $1" >&2
            usage
            ;;
    esac
}

# The json target's dependencies, in its build folder: Losses as a module of
# its own (with the modules it imports: scripts/build-losses.sh) and the fast_float shim, all instrumented.
build_losses_and_fast_float() {
    mkdir -p include
    cat > include/module.modulemap <<MAP
module CFastFloat {
    header "$root/Sources/CFastFloat/include/CFastFloat.h"
    export *
}
MAP
    clang++ -std=c++17 -O2 -g -fsanitize=fuzzer-no-link,address \
        -I "$root/Sources/CFastFloat/include" -c "$root/Sources/CFastFloat/CFastFloat.cpp" -o CFastFloat.o
    "$root"/scripts/build-losses.sh . fuzzer,address
}

# The oip target's dependency: TensorJSON (OIPJSON reads numbers with it) as a
# module of its own, with Losses and the fast_float shim, all instrumented.
build_tensor_json() {
    build_losses_and_fast_float
    swiftc -O -g -wmo -parse-as-library -sanitize=fuzzer,address -module-name TensorJSON -I . -I include -I CCPUFeatures \
        -emit-module -emit-module-path TensorJSON.swiftmodule -c "$root"/Sources/TensorJSON/*.swift -o TensorJSON.o
}

# Builds target $1 into $fuzz_out/<Name>/<Name>.
build() {
    configure "$1"
    out=$fuzz_out/$name
    mkdir -p "$out/corpus" "$out/artifacts"
    echo "building $out/$name" >&2
    # From inside $out, so whatever swiftc leaves behind stays there too.
    (cd "$out" && $prebuild && swiftc -sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g \
        -module-name "$name" "${flags[@]}" "${sources[@]/#/$root/}" "$root"/Fuzz/"$name"/*.swift \
        "${links[@]}" -o "$name")
}

# Runs the built target $1 for `seconds`; extra arguments go to libFuzzer.
run() {
    configure "$1"
    shift
    out=$fuzz_out/$name
    # A dictionary of the format's tokens, when the target has one.
    local dict=()
    for d in Fuzz/"$name"/*.dict; do [ -e "$d" ] && dict=(-dict="$d"); done
    # The first corpus folder is where libFuzzer writes new inputs; the seeds are only read.
    "$out/$name" "$out/corpus" "Fuzz/$name/corpus" "${dict[@]}" "${options[@]}" \
        -max_total_time="$seconds" -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$@"
}

if [ "$target" != all ]; then
    build "$target"
    run "$target" "$@"
    exit
fi

started=$SECONDS
failed=()
for t in "${all_targets[@]}"; do
    echo "=== fuzz $t for ${seconds}s" >&2
    if build "$t" && run "$t" "$@"; then
        echo "=== $t: no crash" >&2
    else
        echo "=== $t: FAILED (see $fuzz_out/$name/artifacts/)" >&2
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -eq 0 ]; then
    echo "PASS: ${all_targets[*]} fuzzed ${seconds}s each, no crash ($((SECONDS - started))s with builds)"
else
    echo "FAIL: ${failed[*]} (of ${all_targets[*]}; $((SECONDS - started))s with builds)"
    exit 1
fi
