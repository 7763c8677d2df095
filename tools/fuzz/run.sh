#!/usr/bin/env bash
# Builds the libFuzzer targets (libFuzzer + AddressSanitizer, debug so Swift's overflow and
# bounds traps stay on) and runs each for a bounded time. Fails on the first crash, leak,
# timeout or OOM; the reproducer is left in out/fuzz/<target>/ and printed as base64.
#
#   tools/fuzz/run.sh [seconds per target, default 60] [target ...]
#   targets: model onnx link jpeg (default: all)
#
# The fuzz binary (Sources/edgeseg-fuzz, one binary, EDGESEG_FUZZ_TARGET picks the target) exists
# only when EDGESEG_FUZZ is set (see the end of Package.swift); it is built in .build-fuzz so the
# normal .build is untouched. Each run starts from the committed
# seeds (tools/fuzz/corpus/<target>) plus what earlier runs found (.build-fuzz/corpus/<target>).
# Reproduce one input: EDGESEG_FUZZ=1 EDGESEG_FUZZ_TARGET=<target> SWIFT_BACKTRACE=enable=no \
#   .build-fuzz/debug/edgeseg-fuzz path/to/crash-file
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(model onnx link jpeg)

export EDGESEG_FUZZ=1
# The Swift backtracer does not get along with ASan's signal handling (it hangs): libFuzzer and
# ASan print the stack themselves.
export SWIFT_BACKTRACE=enable=no
# LSan: Swift's runtime caches (metadata, conformances) are reachable, real leaks are reported.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
build=(swift build --build-path .build-fuzz -j 2 --sanitize=fuzzer --sanitize=address
       -Xswiftc -sanitize=fuzzer,address)

start=$(date +%s)
nice -n 10 "${build[@]}" --product edgeseg-fuzz 2>&1 | grep -v "Cannot export local symbol" | tail -3
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "[fuzz] build failed"; exit 1; }
echo "[fuzz] built edgeseg-fuzz in $(( $(date +%s) - start )) s"
bin=.build-fuzz/debug/edgeseg-fuzz

# EDGESEG_FUZZ_RUNS=N: a reproducible run (fixed seed, N inputs) instead of a timed one, what CI
# uses: the same inputs on every machine, so CI cannot turn red on a lucky mutation; long timed
# runs are for finding new bugs.
if [ -n "${EDGESEG_FUZZ_RUNS:-}" ]; then bound="-seed=1 -runs=$EDGESEG_FUZZ_RUNS"; else bound="-max_total_time=$seconds"; fi
status=0
for t in "${targets[@]}"; do
  corpus=.build-fuzz/corpus/$t
  artifacts=out/fuzz/$t
  mkdir -p "$corpus" "$artifacts"
  log=$artifacts/fuzz.log
  echo "[fuzz] $t: $bound"
  set +e
  EDGESEG_FUZZ_TARGET=$t nice -n 10 "$bin" "$corpus" tools/fuzz/corpus/"$t" \
    $bound -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  grep -v "Cannot export local symbol" "$log" | grep -E "^#[0-9]+ +DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)" || true
  if [ $rc -ne 0 ]; then
    status=1
    echo "[fuzz] $t FAILED (exit $rc); log: $log"
    grep -v "Cannot export local symbol" "$log" | grep -E -A40 "ERROR: |Fatal error|deadly signal|SUMMARY" | head -60
    for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [ -f "$f" ] && { echo "[fuzz] reproducer $f:"; base64 -w0 "$f"; echo; }
    done
  fi
done
exit $status
