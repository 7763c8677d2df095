#!/usr/bin/env python3
"""Export trained weights (train.py's weights.pt) to ONNX and check it against PyTorch in ORT.

    python3 tools/model/export_trained.py /work/artifacts/model/run1/weights.pt models/demo.onnx
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from edgeseg_model.configs import build  # noqa: E402
from edgeseg_model.export import export_onnx  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('weights')
ap.add_argument('out')
ap.add_argument('--config', default='pruned')
args = ap.parse_args()
torch.set_num_threads(2)
model = build(args.config)
model.load_state_dict(torch.load(args.weights, weights_only=True))
model.eval()
export_onnx(model, args.out)

import onnxruntime as ort  # noqa: E402

x = np.random.default_rng(1).random((1, 3, 512, 512), dtype=np.float32)
y = ort.InferenceSession(args.out, providers=['CPUExecutionProvider']).run(None, {'input': x})[0]
with torch.no_grad():
    t = model(torch.from_numpy(x)).numpy()
print(f'wrote {args.out} ({os.path.getsize(args.out)} bytes); ORT vs torch max |d| = {np.abs(y - t).max():.3g}, '
      f'logits in [{t.min():.2f}, {t.max():.2f}], argmax agreement {(y.argmax(1) == t.argmax(1)).mean():.6f}')
