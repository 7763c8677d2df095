#!/usr/bin/env bash
# Bench tooling checks (no torch): IoU/agreement arithmetic and the issue #4 thresholds, table/ratio/
# percentile formatting, bench-peers' schedule and summary, quant_accuracy.py end to end on a tiny ONNX
# model in ONNX Runtime (FP32 vs its own QDQ int8), and bench-peers with all four engines on that model
# (EdgeSeg FP32 and `compile --precision int8 --calib`) with the CLI built here.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product edgeseg -j 2 >/dev/null
export EDGESEG="$(swift build --show-bin-path)/edgeseg"
cd tools/bench
python3 -m pytest -q -p no:cacheprovider tests
