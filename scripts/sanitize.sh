#!/usr/bin/env bash
# Runs the whole test suite under ThreadSanitizer or AddressSanitizer (with
# LeakSanitizer), including every lossd the executable tests start, and fails
# on any report. First it proves the configuration still finds bugs: a canary
# program, built with the same sanitizer and the suite's own lock (HTTP's
# Locked, linked with the CThreadSanitizer object SwiftPM just built), must be
# reported for each deliberate bug and stay silent for each correct twin.
#
#   scripts/sanitize.sh thread|address
#
# Builds in its own scratch path (.build-tsan or .build-asan; SANITIZE_SCRATCH
# overrides) so .build stays as it is. The lossd the executable tests start is
# the one beside the test bundle, so the sanitizer-built one; the script
# checks it is instrumented. Reports go to files (the sanitizer's log_path),
# so a report from a lossd child, whose stderr the tests capture, is seen too.
#
# Takes longer than the ~60 s of the other scripts: a sanitizer build of the
# package (1.5 to 3 minutes on 2 cores) and a slower test run (30 to 50 s).
# Exits 0 when clean, 1 on a report or a failed test or canary, 2 on misuse.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case $mode in
    thread) short=tsan; options_var=TSAN_OPTIONS ;;
    address) short=asan; options_var=ASAN_OPTIONS ;;
    *) echo "usage: scripts/sanitize.sh thread|address" >&2; exit 2 ;;
esac
scratch=${SANITIZE_SCRATCH:-.build-$short}
logs=$scratch/sanitizer-logs
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# gold warns once per AddressSanitizer helper symbol it cannot export: noise.
quiet_gold() { grep -v "ld.gold: warning: Cannot export local symbol" || true; }

echo "== build (--sanitize=$mode, scratch path $scratch)"
swift build --build-tests --sanitize="$mode" --scratch-path "$scratch" 2>&1 | quiet_gold
bin=$(swift build --sanitize="$mode" --scratch-path "$scratch" --show-bin-path)

# The executable tests start the lossd beside the test bundle; it must be
# this build's, instrumented.
if ! nm "$bin/lossd" 2>/dev/null | grep "__${short}_init" >/dev/null; then
    fail "$bin/lossd is missing or not built with the $mode sanitizer"
fi
tsan_object=$bin/CThreadSanitizer.build/CThreadSanitizer.c.o
if [ "$mode" = thread ] && ! nm "$tsan_object" | grep "U __tsan_acquire" >/dev/null; then
    # Locked's annotations are decided where this C file is compiled.
    fail "$tsan_object was not compiled with -fsanitize=thread: Locked would not annotate"
fi

echo "== canary: deliberate bugs must be reported, their correct twins not"
canary_dir=$scratch/sanitize-canary
mkdir -p "$canary_dir"
swiftc -sanitize="$mode" -g -Onone -swift-version 6 -module-name Canary \
    -Xcc -fmodule-map-file="$bin/CThreadSanitizer.build/module.modulemap" \
    -I Sources/CThreadSanitizer/include \
    Sources/HTTP/Locked.swift scripts/sanitize-canary/main.swift "$tsan_object" \
    -o "$canary_dir/canary" 2>&1 | quiet_gold
if [ "$mode" = thread ]; then
    expected=(tsan-locked=0 tsan-unlocked=1 tsan-outside-lock=1 tsan-one-serial-queue=0
              tsan-two-serial-queues=1 tsan-atomic-release-acquire=0 tsan-atomic-relaxed=1)
    pattern="WARNING: ThreadSanitizer"
else
    expected=(asan-clean=0 asan-overflow=1 asan-use-after-free=1 asan-leak=1)
    pattern="ERROR: (Address|Leak)Sanitizer"
fi
for entry in "${expected[@]}"; do
    name=${entry%=*} want=${entry#*=}
    # Default options on purpose: the canary checks the sanitizer, not our settings.
    status=0
    env -u "$options_var" timeout 120 "$canary_dir/canary" "$name" >"$canary_dir/$name.out" 2>&1 || status=$?
    reported=0
    grep -Eq "$pattern" "$canary_dir/$name.out" && reported=1
    if [ "$reported" = "$want" ] && { [ "$want" = 1 ] || [ "$status" = 0 ]; }; then
        echo "PASS: canary $name $([ "$want" = 1 ] && echo reported || echo clean)"
    else
        fail "canary $name: expected $([ "$want" = 1 ] && echo a report || echo "no report and exit 0"), got exit $status, report $reported (see $canary_dir/$name.out)"
    fi
done
if [ "$mode" = thread ]; then
    # Why Locked exists: a bare Mutex under contention is reported (informational).
    env -u TSAN_OPTIONS timeout 120 "$canary_dir/canary" tsan-bare-mutex >"$canary_dir/tsan-bare-mutex.out" 2>&1 || true
    if grep -q "$pattern" "$canary_dir/tsan-bare-mutex.out"; then
        echo "note: a bare Synchronization.Mutex under contention is still falsely reported: keep Locked"
    else
        echo "note: a bare Synchronization.Mutex was not reported this time: Locked's annotations may be unneeded on this toolchain"
    fi
fi

echo "== the test suite under the $mode sanitizer"
rm -rf "$logs"
mkdir -p "$logs"
logs_abs=$(cd "$logs" && pwd)
# log_path: every process (the test bundle, each lossd child) writes its
# reports to $logs/report.PID. exitcode 66 (ThreadSanitizer's default, said
# here on purpose): a lossd child with a report exits 66, so a test waiting
# for its exit status fails too. halt_on_error=0 (ThreadSanitizer): all
# reports of the run, not the first. AddressSanitizer stops at its first
# error; LeakSanitizer reports at each process's exit.
if [ "$mode" = thread ]; then
    export TSAN_OPTIONS="log_path=$logs_abs/report exitcode=66 halt_on_error=0"
else
    # The suppressions: false reports, each explained in its file.
    export ASAN_OPTIONS="log_path=$logs_abs/report detect_leaks=1 exitcode=66 suppressions=$PWD/scripts/sanitizer-suppressions/asan.supp"
    export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizer-suppressions/lsan.supp print_suppressions=0"
fi
suite_status=0
timeout 900 swift test --skip-build --sanitize="$mode" --scratch-path "$scratch" >"$logs/swift-test.out" 2>&1 || suite_status=$?
tail -n 3 "$logs/swift-test.out"
if [ "$suite_status" != 0 ]; then
    grep -E "✘|error:" "$logs/swift-test.out" | head -20 || true
    fail "swift test exited $suite_status (output in $logs/swift-test.out)"
fi
reports=$(find "$logs" -name 'report.*' -size +0 | sort)
if [ -n "$reports" ]; then
    echo "sanitizer reports (one file per process, in $logs):"
    # shellcheck disable=SC2086
    grep -h "^SUMMARY" $reports | sort | uniq -c | sort -rn | head -20
    fail "$(echo "$reports" | wc -l) process(es) reported"
fi

if [ "$failed" = 0 ]; then
    echo "PASS: sanitize.sh $mode: canaries as expected, test suite clean"
else
    echo "FAIL: sanitize.sh $mode"
fi
exit "$failed"
