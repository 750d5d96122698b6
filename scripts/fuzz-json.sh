#!/usr/bin/env bash
# The TensorDecoder libFuzzer target; kept for its old name, now a case of fuzz.sh.
#
#   scripts/fuzz-json.sh [seconds=600] [more libFuzzer flags]
#   (same as: scripts/fuzz.sh json [seconds] [flags])
set -euo pipefail
seconds="${1:-600}"
shift || true
<<<<<<< HEAD
out=Fuzz/build/json
mkdir -p "$out/include" "$out/crashes" Fuzz/corpus-json

cat > "$out/include/module.modulemap" <<MAP
module CFastFloat {
    header "$PWD/Sources/CFastFloat/include/CFastFloat.h"
    export *
}
MAP

clang++ -std=c++17 -O2 -g -fsanitize=fuzzer-no-link,address \
    -I Sources/CFastFloat/include -c Sources/CFastFloat/CFastFloat.cpp -o "$out/CFastFloat.o"

swiftc -O -g -wmo -parse-as-library -sanitize=fuzzer,address -module-name Losses \
    -emit-module -emit-module-path "$out/Losses.swiftmodule" -c Sources/Losses/*.swift -o "$out/Losses.o"

# From inside $out, so the debug module swiftc leaves behind stays there too.
root="$PWD"
(cd "$out" && swiftc -O -g -wmo -parse-as-library -sanitize=fuzzer,address -module-name TensorDecoderFuzz \
    -I . -I include \
    "$root/Sources/LossService/TensorDecoder.swift" "$root/Sources/LossService/TensorShapeTracker.swift" \
    "$root/Sources/LossService/NumberGrammar.swift" "$root/Sources/LossService/NumberScanner.swift" \
    "$root/Sources/LossService/DecodeError.swift" "$root/Sources/LossService/HugePages.swift" \
    "$root/Sources/LossService/MemoryBudget.swift" \
    "$root/Sources/LossService/JSONMember.swift" "$root/Fuzz/TensorDecoderFuzz/main.swift" \
    Losses.o CFastFloat.o -lstdc++ -o tensor-decoder-fuzz)

exec "$out/tensor-decoder-fuzz" Fuzz/corpus-json Fuzz/TensorDecoderFuzz/seeds \
    -dict=Fuzz/TensorDecoderFuzz/json.dict -max_total_time="$seconds" -max_len=4096 \
    -artifact_prefix="$out/crashes/" -print_final_stats=1 "$@"
=======
exec "$(dirname "$0")/fuzz.sh" json "$seconds" "$@"
>>>>>>> fuzz
