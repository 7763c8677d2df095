#!/usr/bin/env bash
# Soak, CI length (issue #8 item 4): the release `edgeseg run` on boards/host.toml (bundled demo
# model on the looping replay clip) for 2 minutes against an `edgeseg receive` on loopback;
# tools/soak samples RSS, fds and threads every second and fails on > 1 MiB RSS growth after
# the 20 s warm-up or on any change of the fd or thread count. The 30-minute run:
# `tools/soak --duration 1800` (figures in docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product edgeseg -j 2 >/dev/null
tools/soak --duration "${EDGESEG_SOAK_SECONDS:-120}" --bin "$(swift build -c release --show-bin-path)/edgeseg"
