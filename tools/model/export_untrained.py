#!/usr/bin/env python3
"""Export a seeded, untrained model (random weights, calibrated BN) to ONNX.

    python3 tools/model/export_untrained.py final models/final-untrained.onnx
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from edgeseg_model.export import export_onnx, untrained  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('config', choices=['baseline', 'final', 'pruned'])
ap.add_argument('out')
ap.add_argument('--seed', type=int, default=0)
args = ap.parse_args()
torch.set_num_threads(2)
export_onnx(untrained(args.config, args.seed), args.out)
print('wrote', args.out, os.path.getsize(args.out), 'bytes')
