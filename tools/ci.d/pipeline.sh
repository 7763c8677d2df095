#!/usr/bin/env bash
# The CLI end to end on committed models: `infer` must reproduce ONNX Runtime's argmax on a
# fixture image, and `demo` (the README's main job) must deliver every alarm to its receiver.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product edgeseg -j 2
BIN=.build/debug/edgeseg
out=$(mktemp -d)
"$BIN" infer models/demo.onnx models/fixtures/rope-1.png -o "$out/mask.png" --overlay "$out/overlay.png"
python3 - "$out/mask.png" models/fixtures/demo/rope-1.argmax.png <<'PY'
import sys, numpy as np
from PIL import Image
a, b = (np.array(Image.open(p)) for p in sys.argv[1:3])
diff = int((a != b).sum())
print(f"infer vs ORT argmax: {diff} of {a.size} pixels differ")
sys.exit(1 if diff else 0)
PY
"$BIN" demo --seconds 8 --report "$out/report.json" | tee "$out/demo.log" | tail -15
python3 - "$out/report.json" "$out/demo.log" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1])); log = open(sys.argv[2]).read()
m = re.search(r"receiver: (\d+) messages accepted, (\d+) rejected, (\d+) alarm events stored .*?(\d+) gaps", log)
assert r["framesProcessed"] > 0, "no frame processed"
assert m and int(m.group(2)) == 0 and int(m.group(4)) == 0, "receiver rejected messages or saw gaps"
assert int(m.group(3)) == r["alarmsRaised"] + r["alarmsUpdated"] + r["alarmsCleared"], "alarm events lost"
print(f"demo: {r['framesProcessed']} frames, {m.group(3)} alarm events delivered, 0 gaps")
PY
# A board run stops cleanly on SIGINT: exit 0, final report written.
"$BIN" run --board boards/host.toml --duration 120 --report "$out/run.json" > "$out/run.log" 2>&1 &
pid=$!
sleep 15
kill -INT $pid
wait $pid
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['seconds'] < 100, r['seconds']; print('run: SIGINT after', round(r['seconds'],1), 's →', r['framesProcessed'], 'frames, exit 0, report written')" "$out/run.json"
rm -rf "$out"
