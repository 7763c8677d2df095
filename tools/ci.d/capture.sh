#!/usr/bin/env bash
# Capture checks that need more than `swift test`:
#  1. malloc counting around the steady-state frame loop (replay sources → slot → preprocess),
#  2. a real V4L2 device: the vivid driver in a throw-away VM (tools/vivid/vivid-vm), where
#     edgeseg-capture-check captures YUYV 640x480 at 25 fps, stalls and unplugs the camera,
#  3. the preprocessing benchmark (figures only, never fails on speed).
# Release build: emulated (TCG) guests are too slow for a debug build to keep up with 25 fps.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product edgeseg-capture-check -j 2
BIN=.build/release/edgeseg-capture-check
echo "--- allocation check"
"$BIN" alloc
echo "--- vivid VM device check"
start=$(date +%s)
tools/vivid/vivid-vm --timeout 90 --no-osd -- "$BIN" vm --frames 50 --fps 25
echo "VM check took $(( $(date +%s) - start )) s"
echo "--- benchmark"
"$BIN" bench --iterations 30
