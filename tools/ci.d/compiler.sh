#!/usr/bin/env bash
# Compiler checks beyond `swift test`:
#  1. the committed op-fixture references still match ONNX Runtime (they are the parity oracle);
#  2. the `edgeseg compile` CLI end to end: a fixture compiles to a .edgeseg that `edgeseg info`
#     loads, and a corrupt ONNX file fails with a clear message and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 - <<'PY'
import json, numpy as np, onnxruntime as ort
d = "tools/op-fixtures/data/"
for f in json.load(open(d + "manifest.json")):
    s = ort.InferenceSession(d + f["name"] + ".onnx", providers=["CPUExecutionProvider"])
    flat = np.fromfile(d + f["name"] + ".in.bin", "<f4"); feeds = {}
    for i, shape in zip(s.get_inputs(), f["inputs"]):
        n = int(np.prod(shape)); feeds[i.name] = flat[:n].reshape(shape); flat = flat[n:]
    got = np.concatenate([y.ravel() for y in s.run(None, feeds)])
    want = np.fromfile(d + f["name"] + ".out.bin", "<f4")
    assert got.shape == want.shape and np.abs(got - want).max() <= 1e-5, f["name"]
print("op fixtures: ORT references reproduce")
PY
swift build --product edgeseg >/dev/null
bin=.build/debug/edgeseg
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
$bin compile tools/op-fixtures/data/mbv2_block.onnx -o "$tmp/m.edgeseg" | grep -q "wrote"
$bin info "$tmp/m.edgeseg" >/dev/null
head -c 3000 tools/op-fixtures/data/attention.onnx > "$tmp/cut.onnx"
if $bin compile "$tmp/cut.onnx" -o "$tmp/bad.edgeseg" 2>"$tmp/err"; then echo "truncated ONNX compiled"; exit 1; fi
grep -q "malformed ONNX model" "$tmp/err"
test ! -e "$tmp/bad.edgeseg"
echo "edgeseg compile: CLI checks passed"
