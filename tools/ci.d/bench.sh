#!/usr/bin/env bash
# Bench tooling checks (no torch, no Swift build): IoU/agreement arithmetic and the issue #4 thresholds,
# table/ratio/percentile formatting, bench-peers' schedule and summary, and quant_accuracy.py end to end
# on a tiny ONNX model in ONNX Runtime (FP32 vs its own QDQ int8).
set -euo pipefail
cd "$(dirname "$0")/../bench"
python3 -m pytest -q -p no:cacheprovider tests
