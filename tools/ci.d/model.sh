#!/usr/bin/env bash
# Model artefact checks: committed ONNX files, parity fixtures, demo clip, synthetic generator.
# Needs numpy, Pillow, onnx, onnxruntime, pytest (tools/requirements-ci.txt) but NOT torch:
# the torch tests (parameter counts, export) skip themselves when torch is absent.
set -euo pipefail
cd "$(dirname "$0")/../model"
python3 -m pytest -q -p no:cacheprovider tests
