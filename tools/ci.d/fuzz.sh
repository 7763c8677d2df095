#!/usr/bin/env bash
# libFuzzer + ASan on the four hostile-input surfaces (.edgeseg loader, ONNX importer, link
# receiver, JPEG frame path), a fixed seed and 20 000 inputs each from the committed seeds. Fails on any crash, leak,
# timeout or OOM (reproducer under out/fuzz/<target>/). Longer runs: tools/fuzz/run.sh 600.
# Cost: the sanitizer build (.build-fuzz, separate from .build, ~2.5 min here) plus ~10 s per target.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Reproducible in CI: fixed seed and input count (the committed seeds, regression inputs included,
# then mutations). Timed exploratory runs: tools/fuzz/run.sh 600.
EDGESEG_FUZZ_RUNS="${EDGESEG_FUZZ_RUNS:-20000}" tools/fuzz/run.sh
