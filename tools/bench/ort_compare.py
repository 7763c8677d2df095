#!/usr/bin/env python3
"""FP32 parity and latency of the EdgeSeg executor against ONNX Runtime, side by side in one run.

usage: tools/bench/ort_compare.py MODEL.onnx [--edgeseg .build/release/edgeseg] [--threads N] [--runs R]

Writes a seeded input in [0, 1) to a temp file, runs ORT (same thread count, sequential mode, all
graph optimisations) and `edgeseg bench MODEL.onnx --input-bin ... --output-bin ...` on it, then prints
max |Δlogit|, argmax agreement and both p50 latencies with their ratio. Exit 1 when parity fails
(max |Δ| > 1e-3 or any argmax differs)."""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np

from ortbench import seeded_input, session, time_runs
from tables import nearest_rank

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--edgeseg", default=".build/release/edgeseg")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--runs", type=int, default=10)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()

sess = session(a.model, a.threads)
inp = sess.get_inputs()[0]
x = seeded_input(inp.shape, a.seed)
ref = sess.run(None, {inp.name: x})[0]
ort_p50 = nearest_rank(time_runs(sess, {inp.name: x}, a.runs, warmup=2), 50)   # edgeseg bench's percentile

with tempfile.TemporaryDirectory() as d:
    xin, yout, js = os.path.join(d, "x.bin"), os.path.join(d, "y.bin"), os.path.join(d, "bench.json")
    x.tofile(xin)
    cmd = [a.edgeseg, "bench", a.model, "--threads", str(a.threads), "--runs", str(a.runs), "--warmup", "2",
           "--profile-runs", "1", "--input-bin", xin, "--output-bin", yout, "--json", js, "--top", "12"]
    subprocess.run(cmd, check=True)
    y = np.fromfile(yout, dtype=np.float32).reshape(ref.shape)
    bench = json.load(open(js))

diff = float(np.abs(y - ref).max())
amax_ref, amax = ref.argmax(axis=1), y.argmax(axis=1)
mismatch = amax_ref != amax
# A pixel whose two best ORT logits are within the measured error of each other can flip between
# any two FP32 implementations; report how many mismatches are such ties, and the largest ORT margin.
ref_best = np.take_along_axis(ref, amax_ref[:, None], 1)[:, 0]
ref_ours = np.take_along_axis(ref, amax[:, None], 1)[:, 0]
margin = (ref_best - ref_ours)[mismatch]
print(f"model {a.model}  threads {a.threads}")
print(f"max |Δlogit| = {diff:.3g} (logit range {ref.min():.2f}..{ref.max():.2f}); argmax mismatches {int(mismatch.sum())} "
      f"of {amax.size} pixels, all ORT margins <= {float(margin.max()) if margin.size else 0:.3g}")
mismatch = int((margin > 2 * diff).sum())   # mismatches that are not ties within the error bound
print(f"p50 latency: edgeseg {bench['p50_ms']:.2f} ms, ORT {ort_p50:.2f} ms, ratio edgeseg/ORT {bench['p50_ms'] / ort_p50:.2f}")
sys.exit(0 if diff <= 1e-3 and mismatch == 0 else 1)
