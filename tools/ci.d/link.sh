#!/usr/bin/env bash
# Link checks beyond `swift test` (tools/test.sh has already built the tests):
#  1. the Python decoder's pytest suite against the golden bytes the Swift encoder wrote, and
#     `edgeseg receive` end to end (fed those bytes over UDP by a Python board);
#  2. BoardLink's zero-allocation check, which needs the malloc-counting shim preloaded.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product edgeseg -j 2 >/dev/null
swift build --product EdgeSegPackageTests -j 2 >/dev/null
bindir="$(swift build --show-bin-path)"
EDGESEG_BIN="$bindir/edgeseg" EDGESEG_REQUIRE_BIN=1 python3 -m pytest -q tools/protocol

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -shared -fPIC -O2 -o "$tmp/malloc_count.so" tools/protocol/malloc_count.c
bin="$bindir/EdgeSegPackageTests.xctest"
LD_PRELOAD="$tmp/malloc_count.so" "$bin" --testing-library swift-testing --filter AllocationTests 2>&1 | tee "$tmp/alloc.log"
# The test skips itself when the shim is missing; make sure it really measured.
grep -q '\[alloc\] hmac=false .* mallocs=0 ' "$tmp/alloc.log"
