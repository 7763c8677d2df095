#!/usr/bin/env bash
# FP32 executor (fast paths and scalar reference kernels) against the stored ONNX Runtime outputs
# of every op fixture: ONNX → compile in memory → .edgeseg bytes → load → run → compare (max |Δ| <= 1e-3).
# Whole-model parity and latency vs ORT: tools/bench/ort_compare.py models/demo.onnx (release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product edgeseg -j 2 >/dev/null
python3 tools/bench/fixture_parity.py --edgeseg "$(swift build --show-bin-path)/edgeseg" --threads 2
