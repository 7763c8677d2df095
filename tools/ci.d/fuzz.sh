#!/usr/bin/env bash
# libFuzzer + ASan on the four hostile-input surfaces (.edgeseg loader, ONNX importer, link
# receiver, JPEG frame path), 20 s each from the committed seeds. Fails on any crash, leak,
# timeout or OOM (reproducer under out/fuzz/<target>/). Longer runs: tools/fuzz/run.sh 600.
# Cost: the sanitizer build (.build-fuzz, separate from .build) plus 4 x 30 s; see docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/fuzz/run.sh "${EDGESEG_FUZZ_SECONDS:-20}"
