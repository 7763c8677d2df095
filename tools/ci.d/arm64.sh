#!/usr/bin/env bash
# CI: the int8 / FP16 / FP32 kernels built as Embedded Swift for aarch64 and run under qemu-aarch64 on
# Cortex-A72/A53 (baseline NEON), Cortex-A76/Neoverse-N1 and max (sdot + FP16). ~40 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec timeout 300 tools/arm64-check.sh
