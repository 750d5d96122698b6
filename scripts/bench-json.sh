#!/usr/bin/env bash
# Measures TensorDecoder (MB/s, 64 KiB chunks, float32-looking numbers with 8
# significant digits) and JSONWriter, each against Foundation in the same run.
#
#   scripts/bench-json.sh [payload MB]   # default 70
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/bench-json
mkdir -p "$out/include"
cat > "$out/include/module.modulemap" <<MAP
module CFastFloat {
    header "$PWD/Sources/CFastFloat/include/CFastFloat.h"
    export *
}
MAP
clang++ -std=c++17 -O2 -I Sources/CFastFloat/include -c Sources/CFastFloat/CFastFloat.cpp -o "$out/CFastFloat.o"
scripts/build-losses.sh "$out"
swiftc -O -wmo -module-name BenchJSON -I "$out" -I "$out/include" -I "$out/CCPUFeatures" \
    Sources/TensorJSON/*.swift Sources/LossService/JSONWriter.swift Tests/TestSupport/SplitMix64.swift \
    scripts/bench-json/main.swift \
    "$out"/{Losses,LossKernels,LossKernelsAVX2,CCPUFeatures}.o "$out/CFastFloat.o" -lstdc++ -o "$out/bench-json"
"$out/bench-json" "$@"
