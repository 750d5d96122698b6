#!/usr/bin/env bash
# Checks that the runtime image installs exactly the Debian packages its
# binaries need: `ldd` on each, every shared library mapped to the package
# that owns it (`dpkg -S`), the union compared with
# deploy/runtime-packages.txt, the list the Dockerfile's runtime stage
# installs from. Without a Docker engine this is how CI knows the image's
# binaries will find their libraries.
#
# Usage: scripts/check-runtime-deps.sh [BINARY...]
#   default: .build/release/lossd (built with `swift build -c release
#   --product lossd`: release builds link the Swift runtime statically,
#   Package.swift's -static-stdlib) and the toolchain's
#   swift-backtrace-static, the crash backtracer the image also ships.
#   RUNTIME_PACKAGES overrides the list (default deploy/runtime-packages.txt).
#
# Run it on Debian 12 (bookworm), the runtime image's distribution: package
# names are per release. Exits 0 when the sets are equal, 1 with a diff when
# they are not, 2 when it cannot check.
set -euo pipefail
cd "$(dirname "$0")/.."

list=${RUNTIME_PACKAGES:-deploy/runtime-packages.txt}
binaries=("$@")
if [ ${#binaries[@]} -eq 0 ]; then
    binaries=(.build/release/lossd)
    swift_bin=$(command -v swift || true)
    if [ -n "$swift_bin" ]; then
        backtracer=$(dirname "$(readlink -f "$swift_bin")")/../libexec/swift/linux/swift-backtrace-static
        if [ -x "$backtracer" ]; then binaries+=("$(readlink -f "$backtracer")"); fi
    fi
fi

fail() { echo "check-runtime-deps: $*" >&2; exit 2; }
[ -r "$list" ] || fail "no package list at $list"
command -v ldd >/dev/null || fail "ldd not found"
command -v dpkg >/dev/null || fail "dpkg not found: run this on Debian"

# The package owning a path. Debian 12 merges /lib into /usr/lib, and dpkg
# knows each file under the name its package shipped it, so try the path as
# ldd printed it, its resolved target, and both under the other prefix.
owner() {
    local path=$1 candidates=() p real
    real=$(readlink -f "$path")
    for p in "$path" "$real"; do
        candidates+=("$p")
        case $p in
            /usr/lib/*)   candidates+=("${p#/usr}") ;;
            /usr/lib64/*) candidates+=("${p#/usr}") ;;
            /lib/*|/lib64/*) candidates+=("/usr$p") ;;
        esac
    done
    for p in "${candidates[@]}"; do
        # "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6" → libc6
        if out=$(dpkg -S "$p" 2>/dev/null); then
            # A diverted file prints "diversion by …" lines first; skip them.
            grep -v '^diversion ' <<<"$out" | head -n1 | cut -d: -f1
            return 0
        fi
    done
    return 1
}

needed=()
unowned=()
for binary in "${binaries[@]}"; do
    [ -x "$binary" ] || fail "no executable at $binary (build it with: swift build -c release --product lossd)"
    # `ldd` prints "not found" for a library the loader cannot resolve here;
    # that is a broken build, not a list to compare.
    ldd_out=$(ldd "$binary") || fail "ldd failed on $binary (a static binary needs no list; this one should be dynamic)"
    if grep -q 'not found' <<<"$ldd_out"; then
        echo "$ldd_out" >&2
        fail "$binary needs libraries this machine does not have"
    fi
    echo "$binary:"
    while read -r path; do
        [ -n "$path" ] || continue
        if pkg=$(owner "$path"); then
            needed+=("$pkg")
            printf '  %-48s %s\n' "$path" "$pkg"
        else
            unowned+=("$path")
        fi
    done < <(
        # "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x…)" and the loader's own
        # "/lib64/ld-linux-x86-64.so.2 (0x…)"; linux-vdso lives in the kernel.
        awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$ldd_out"
    )
done

if [ ${#unowned[@]} -gt 0 ]; then
    printf '  %s: owned by no Debian package\n' "${unowned[@]}" >&2
    echo "FAIL: the libraries above come from outside Debian's packages; the runtime image cannot install them" >&2
    exit 1
fi

want=$(printf '%s\n' "${needed[@]}" | sort -u)
have=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$list" | sort -u)

if [ "$want" = "$have" ]; then
    echo "PASS: $list matches the libraries of ${binaries[*]} ($(wc -l <<<"$have" | tr -d ' ') packages)"
    exit 0
fi

echo "FAIL: $list differs from what ${binaries[*]} are linked against" >&2
echo "      (- listed but not needed, + needed but not listed)" >&2
diff -u --label "$list" --label "ldd ${binaries[*]}" <(echo "$have") <(echo "$want") >&2 || true
exit 1
