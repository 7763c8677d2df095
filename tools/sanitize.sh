#!/usr/bin/env bash
# The whole Swift test suite under AddressSanitizer, in its own build directory (.build-asan).
#   tools/sanitize.sh [swift test --filter pattern]
# UBSan: swiftc on Linux refuses -sanitize=undefined ("unsupported option ... for target
# x86_64-unknown-linux-gnu"); Swift code has its own overflow/bounds traps in this debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_BACKTRACE=enable=no   # the Swift backtracer hangs under ASan; ASan prints the stack
# detect_leaks=0: LSan reports the Swift runtime's and XCTest's one-off allocations at exit;
# the fuzz targets (tools/fuzz/run.sh) keep leak detection on, per input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=1}
start=$(date +%s)
nice -n 10 swift build --product EdgeSegPackageTests --sanitize=address --build-path .build-asan -j 2 2>&1 | tail -3
built=$(date +%s)
filter=()
[ $# -gt 0 ] && filter=(--filter "$1")
nice -n 10 swift test --skip-build --sanitize=address --build-path .build-asan "${filter[@]}"
echo "[sanitize] build $(( built - start )) s, tests $(( $(date +%s) - built )) s"
