#!/usr/bin/env bash
# Start-up faults of the CLI (issue #8 item 3; the running faults are
# Tests/EdgeSegPipelineTests/FaultInjectionTests.swift): each must end `edgeseg run` at once
# with an error exit status (1 or ArgumentParser's 64; not a signal, not the 60 s timeout) and a
# message that names the file and the problem.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${EDGESEG_BIN:-}" ]; then
  swift build --product edgeseg -j 2 >/dev/null
fi
BIN="${EDGESEG_BIN:-$(swift build --show-bin-path)/edgeseg}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN" compile models/demo.onnx -o "$tmp/demo.edgeseg" >/dev/null
size=$(stat -c %s "$tmp/demo.edgeseg")
head -c $((size * 2 / 3)) "$tmp/demo.edgeseg" > "$tmp/cut.edgeseg"
head -c 100000 models/demo.onnx > "$tmp/cut.onnx"
printf '0123abcd\n' > "$tmp/short.key"

# profile NAME SED-EXPR: boards/host.toml with one change, run for at most 1 frame.
fails=0
expect_error() {
  local name=$1 sed_expr=$2 pattern=$3
  sed -e "$sed_expr" boards/host.toml > "$tmp/$name.toml"
  set +e
  timeout 60 "$BIN" run --board "$tmp/$name.toml" --frames 1 > "$tmp/$name.log" 2>&1
  local rc=$?
  set -e
  if [ "$rc" -ge 1 ] && [ "$rc" -lt 124 ] && grep -qiE "$pattern" "$tmp/$name.log"; then
    echo "ok   $name: exit $rc: $(grep -iE "$pattern" "$tmp/$name.log" | head -1)"
  else
    echo "FAIL $name: exit $rc, expected an error exit and /$pattern/ in:"; sed 's/^/    /' "$tmp/$name.log" | head -5
    fails=$((fails + 1))
  fi
}
expect_error truncated-model "s|^path = \"models/demo.onnx\"|path = \"$tmp/cut.edgeseg\"|" "cut\.edgeseg.*truncated"
expect_error truncated-onnx "s|^path = \"models/demo.onnx\"|path = \"$tmp/cut.onnx\"|" "cut\.onnx"
expect_error missing-model "s|^path = \"models/demo.onnx\"|path = \"$tmp/none.edgeseg\"|" "cannot read .*none\.edgeseg"
expect_error short-key "s|^heartbeat_ms = .*|&\nkey_file = \"$tmp/short.key\"|" "key_file .*short\.key.*need at least 16"
expect_error missing-key "s|^heartbeat_ms = .*|&\nkey_file = \"$tmp/none.key\"|" "key_file .*none\.key"
expect_error missing-clip "s|^path = \"models/demo-clip.mjpeg\"|path = \"$tmp/none.mjpeg\"|" "none\.mjpeg"
exit $((fails > 0))
