#!/usr/bin/env bash
# The whole Swift test suite under AddressSanitizer, in its own build directory (.build-asan).
#   tools/sanitize.sh [swift test --filter pattern]
# UBSan: swiftc on Linux refuses -sanitize=undefined ("unsupported option ... for target
# x86_64-unknown-linux-gnu"); Swift code has its own overflow/bounds traps in this debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_BACKTRACE=enable=no   # the Swift backtracer hangs under ASan; ASan prints the stack
# LeakSanitizer stays on; tools/lsan.supp lists the leaks of code we do not own (TOMLKit, XCTest).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan.supp:print_suppressions=0}
start=$(date +%s)
nice -n 10 swift build --product EdgeSegPackageTests --sanitize=address --build-path .build-asan -j 2 2>&1 | tail -3
built=$(date +%s)
filter=()
[ $# -gt 0 ] && filter=(--filter "$1")
nice -n 10 swift test --skip-build --sanitize=address --build-path .build-asan "${filter[@]}"
echo "[sanitize] build $(( built - start )) s, tests $(( $(date +%s) - built )) s"
