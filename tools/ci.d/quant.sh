#!/usr/bin/env bash
# int8 / FP16 end to end on the committed demo model: calibrate on synthetic rope images
# (make_calib.py's calibration seed band), then on a held-out labelled set (evaluation band)
# check issue #4's accuracy bars with the release CLI: int8 argmax agreement with FP32 >= 99 %,
# mIoU drop <= 0.5 points, FP16 agreement >= 99.9 %. Release build: the int8 kernels at -Onone
# would take minutes per image.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product edgeseg -j 2
BIN=.build/release/edgeseg
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 tools/model/make_calib.py "$out/calib" --count 16
python3 tools/model/make_calib.py "$out/eval" --labels --count 12
"$BIN" compile models/demo.onnx -o "$out/fp32.edgeseg" > /dev/null
"$BIN" compile models/demo.onnx -o "$out/fp16.edgeseg" --precision fp16 > /dev/null
"$BIN" compile models/demo.onnx -o "$out/int8.edgeseg" --precision int8 --calib "$out/calib" | grep -E "convs int8|output vs"
"$BIN" info "$out/int8.edgeseg" > /dev/null
python3 tools/bench/quant_accuracy.py --edgeseg "$BIN" --images "$out/eval" --check \
  --models fp32="$out/fp32.edgeseg" fp16="$out/fp16.edgeseg" int8="$out/int8.edgeseg"
