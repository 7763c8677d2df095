#!/usr/bin/env python3
"""ONNX Runtime parity of the EdgeSeg FP32 executor on the op fixtures (tools/op-fixtures/data):
each fixture's ONNX is compiled in memory by `edgeseg bench`, run on the stored input, and its outputs
are compared with the stored ORT outputs. Pass: max |Δ| <= 1e-3 (and identical channel argmax where
the manifest asks for it).

usage: tools/bench/fixture_parity.py [--edgeseg .build/debug/edgeseg] [--threads 2]"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "op-fixtures", "data")
ap = argparse.ArgumentParser()
ap.add_argument("--edgeseg", default=".build/debug/edgeseg")
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()

failed = 0
for f in json.load(open(os.path.join(root, "manifest.json"))):
    name = f["name"]
    want = np.fromfile(os.path.join(root, name + ".out.bin"), dtype=np.float32)
    with tempfile.TemporaryDirectory() as d:
        got_path = os.path.join(d, "out.bin")
        for ref_mode in ([], ["--reference"]):
            r = subprocess.run([a.edgeseg, "bench", os.path.join(root, name + ".onnx"), "--threads", str(a.threads),
                                "--runs", "1", "--warmup", "0", "--profile-runs", "1", "--top", "0",
                                "--input-bin", os.path.join(root, name + ".in.bin"), "--output-bin", got_path] + ref_mode,
                               capture_output=True, text=True)
            label = name + (" (reference kernels)" if ref_mode else "")
            if r.returncode != 0:
                print(f"FAIL {label}: {r.stderr.strip()[-300:]}"); failed += 1; continue
            got = np.fromfile(got_path, dtype=np.float32)
            ok = got.shape == want.shape
            diff = float(np.abs(got - want).max()) if ok else float("inf")
            ok = ok and diff <= 1e-3
            if ok and f.get("argmaxAxis") == 1:
                shp = f["outputs"][0]
                n = int(np.prod(shp))
                ok = bool((got[:n].reshape(shp).argmax(1) == want[:n].reshape(shp).argmax(1)).all())
            print(f"{'ok  ' if ok else 'FAIL'} {label}: max |Δ| = {diff:.3g}")
            failed += 0 if ok else 1
sys.exit(1 if failed else 0)
