#!/usr/bin/env bash
# arm64-check.sh — build the int8 / FP16 kernels of EdgeSegKernels as Embedded Swift for aarch64,
# one compile per ISA tier (an intrinsic without its feature flag crashes the compiler, and a
# baseline unit must not pick up ARMv8.2 instructions by auto-vectorisation), link with the cross
# gcc, and run tools/arm64/Main.swift under qemu-aarch64-static on several CPU models: int8 paths
# byte-identical with the scalar reference, FP16 paths within fp16Tolerance.
#
# Needs: Swift (SWIFTC, default /opt/swift/usr/bin/swiftc), gcc-aarch64-linux-gnu,
#        libc6-dev-arm64-cross, qemu-user-static.  About 20 s.
# Compiles Sources/EdgeSegKernels/{Int8,FP16,CPU,FP32} plus the two ARM tier modules; the FP32
# fast kernels are checked in their portable form (depthwise, small GEMM, exp lanes, resize).
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFTC=${SWIFTC:-/opt/swift/usr/bin/swiftc}
B=${BUILD:-.build/arm64-check}
mkdir -p "$B"
EMB=(-target aarch64-none-none-elf -enable-experimental-feature Embedded
     -enable-experimental-feature Extern -wmo -parse-as-library -O -I "$B")

tier() {  # tier MODULE MARCH
  "$SWIFTC" "${EMB[@]}" -module-name "$1" -Xcc -march="$2" \
    -c Sources/"$1"/*.swift -o "$B/$1.o"
}
echo "== compile: EdgeSegQuantDot (armv8.2-a+dotprod), EdgeSegQuantFP16 (armv8.2-a+fp16), kernels (armv8-a)"
tier EdgeSegQuantDot armv8.2-a+dotprod
tier EdgeSegQuantFP16 armv8.2-a+fp16
"$SWIFTC" "${EMB[@]}" -module-name EdgeSegKernels -Xcc -march=armv8-a \
  -emit-module -emit-module-path "$B/EdgeSegKernels.swiftmodule" \
  -c Sources/EdgeSegKernels/Int8/*.swift Sources/EdgeSegKernels/FP16/*.swift Sources/EdgeSegKernels/CPU/*.swift \
     Sources/EdgeSegKernels/FP32/*.swift \
  -o "$B/kernels.o"
"$SWIFTC" "${EMB[@]}" -module-name ARM64Check -Xcc -march=armv8-a -c tools/arm64/Main.swift -o "$B/main.o"
aarch64-linux-gnu-gcc -static-pie "$B/main.o" "$B/kernels.o" "$B/EdgeSegQuantDot.o" "$B/EdgeSegQuantFP16.o" \
  -lm -o "$B/arm64-check"

# The instructions each tier exists for must really be there, and nowhere else.
OBJDUMP=aarch64-linux-gnu-objdump
count() { "$OBJDUMP" -d "$1" | grep -cE "$2" || true; }
FP16_RE='\bf(mla|add|mul|max|min)\s+v[0-9]+\.8h'
sdot=$(count "$B/EdgeSegQuantDot.o" '\bsdot\b'); fmla=$(count "$B/EdgeSegQuantFP16.o" "$FP16_RE")
smull=$(count "$B/kernels.o" '\bsmull\b'); smlal=$(count "$B/kernels.o" '\bsmlal2\b'); sadalp=$(count "$B/kernels.o" '\bsadalp\b')
bad=$(count "$B/kernels.o" "\bsdot\b|$FP16_RE")
echo "== objdump: dot tier sdot=$sdot, fp16 tier fp16-vector-ops=$fmla, baseline smull=$smull smlal2=$smlal sadalp=$sadalp, baseline v8.2 ops=$bad"
rc=0
[ "$sdot" -ge 8 ] || { echo "FAIL: sdot missing from the dot tier"; rc=1; }
[ "$fmla" -ge 8 ] || { echo "FAIL: fmla .8h missing from the fp16 tier"; rc=1; }
[ "$smull" -ge 1 ] && [ "$smlal" -ge 1 ] && [ "$sadalp" -ge 1 ] || { echo "FAIL: smull/smlal2/sadalp missing from the baseline"; rc=1; }
[ "$bad" -eq 0 ] || { echo "FAIL: baseline unit contains ARMv8.2 instructions"; rc=1; }

for cpu in cortex-a72 cortex-a53 cortex-a76 neoverse-n1 max; do
  echo "== qemu-aarch64-static -cpu $cpu"
  qemu-aarch64-static -cpu "$cpu" "$B/arm64-check" || rc=1
done
[ $rc = 0 ] && echo "ARM64 CHECK: ALL PASS" || echo "ARM64 CHECK: FAILED"
exit $rc
