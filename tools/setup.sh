#!/usr/bin/env bash
# Installs what EdgeSeg needs on a fresh Debian 12 machine (run as root or with sudo).
# Swift 6.1+ must already be on PATH (see README, "Board setup").
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
PKGS=(pkg-config zlib1g-dev libopenblas-dev libv4l-dev libturbojpeg0-dev libsqlite3-dev
      qemu-system-x86 busybox-static cpio xz-utils
      qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross socat v4l-utils)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Python side (tests and PC tools only; the board needs no Python). No torch: CI uses committed ONNX files.
python3 -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/requirements-ci.txt"
