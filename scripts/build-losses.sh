#!/usr/bin/env bash
# Builds the Losses module outside SwiftPM, for the scripts that compile a few
# targets by hand with swiftc (fuzz.sh, bench-json.sh): Losses.o and its
# dependencies' objects (LossKernels.o, LossKernelsAVX2.o, CCPUFeatures.o) and
# the .swiftmodule files a client finds with `-I <out>`. Link all four objects.
#
#   scripts/build-losses.sh <out> [sanitizers, e.g. fuzzer,address]
#
# LossKernelsAVX2 is compiled for AVX2 (-target-cpu haswell) as Package.swift does;
# Losses runs it only on a CPU that has it. Every module gets Package.swift's package
# name, so `package` declarations are visible across them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$1
sanitizers=${2:-}
swift_flags=(-O -g -wmo -parse-as-library -package-name lossd -I "$out")
clang_flags=(-O2 -g)
if [ -n "$sanitizers" ]; then
    swift_flags+=(-sanitize="$sanitizers")
    clang_flags+=(-fsanitize="${sanitizers/fuzzer/fuzzer-no-link}")
fi
avx2_flags=()
[ "$(uname -m)" = x86_64 ] && avx2_flags=(-target-cpu haswell)

mkdir -p "$out/CCPUFeatures"
cat > "$out/CCPUFeatures/module.modulemap" <<MAP
module CCPUFeatures {
    header "$root/Sources/CCPUFeatures/include/CCPUFeatures.h"
    export *
}
MAP
clang "${clang_flags[@]}" -I "$root/Sources/CCPUFeatures/include" \
    -c "$root/Sources/CCPUFeatures/CCPUFeatures.c" -o "$out/CCPUFeatures.o"
swiftc "${swift_flags[@]}" -module-name LossKernels -emit-module -emit-module-path "$out/LossKernels.swiftmodule" \
    -c "$root"/Sources/LossKernels/*.swift -o "$out/LossKernels.o"
swiftc "${swift_flags[@]}" "${avx2_flags[@]}" -module-name LossKernelsAVX2 \
    -emit-module -emit-module-path "$out/LossKernelsAVX2.swiftmodule" \
    -c "$root"/Sources/LossKernelsAVX2/*.swift -o "$out/LossKernelsAVX2.o"
swiftc "${swift_flags[@]}" -I "$out/CCPUFeatures" -module-name Losses \
    -emit-module -emit-module-path "$out/Losses.swiftmodule" -c "$root"/Sources/Losses/*.swift -o "$out/Losses.o"
