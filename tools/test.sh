#!/usr/bin/env bash
# The project's test command: Swift suite, then every check in tools/ci.d (ARM qemu kernels, vivid VM, pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product EdgeSegPackageTests
swift test --skip-build
status=0
for check in tools/ci.d/*.sh; do
  [ -e "$check" ] || continue
  echo "=== $check"
  bash "$check" || { echo "FAILED: $check"; status=1; }
done
exit $status
