#!/usr/bin/env python3
"""Held-out evaluation of an exported model with onnxruntime (no torch).

    python3 tools/model/eval_onnx.py models/demo.onnx --n 40 [--clip models/]

Images: synthetic seeds 3,000,000.. (never used for training: train.py uses 0.. and 1,000,000..),
same frame sizes as training, letterboxed to 512. IoU over the image area (letterbox pad excluded),
from one confusion matrix over all images (bubbliiiing's compute_mIoU). --clip also scores the
demo clip frames.
"""
import argparse
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from PIL import Image  # noqa: E402

from edgeseg_model.preprocess import letterbox, letterbox_mask, to_tensor  # noqa: E402
from edgeseg_model.synth import sample  # noqa: E402

SIZES = [(640, 480), (640, 480), (800, 600), (512, 512), (480, 640)]


def score(sess, img, mask, hist):
    canvas, (l, t, w, h) = letterbox(Image.fromarray(img))
    m = letterbox_mask(mask)
    pred = sess.run(['output'], {'input': to_tensor(np.asarray(canvas))})[0][0].argmax(0)
    p, g = pred[t:t + h, l:l + w].ravel(), m[t:t + h, l:l + w].ravel().astype(np.int64)
    hist += np.bincount(3 * g + p, minlength=9).reshape(3, 3)
    return pred[t:t + h, l:l + w]


def report(name, hist):
    iou = np.diag(hist) / np.maximum(hist.sum(0) + hist.sum(1) - np.diag(hist), 1)
    res = dict(set=name, iou=dict(background=round(float(iou[0]), 4), wear=round(float(iou[1]), 4),
                                  broken=round(float(iou[2]), 4)), miou=round(float(iou.mean()), 4))
    print(json.dumps(res), flush=True)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('--n', type=int, default=40)
    ap.add_argument('--seed0', type=int, default=3_000_000)
    ap.add_argument('--clip', help='folder holding demo-clip.mjpeg/json')
    args = ap.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(args.model, so, providers=['CPUExecutionProvider'])
    hist = np.zeros((3, 3), np.int64)
    for i in range(args.n):
        seed = args.seed0 + i
        w, h = SIZES[seed % len(SIZES)]
        img, mask = sample(seed, w, h)
        score(sess, img, mask, hist)
    out = [report(f'synthetic held-out n={args.n}', hist)]
    if args.clip:
        meta = json.load(open(os.path.join(args.clip, 'demo-clip.json')))
        blob = open(os.path.join(args.clip, 'demo-clip.mjpeg'), 'rb').read()
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from make_demo_clip import H, SPEED, W, scene
        from edgeseg_model.synth import render
        sc = scene()
        hist = np.zeros((3, 3), np.int64)
        det = []
        for fr in meta['frame_list']:
            img = np.asarray(Image.open(io.BytesIO(blob[fr['offset']:fr['offset'] + fr['length']])).convert('RGB'))
            _, mask = render(sc, W, H, u_off=fr['index'] * SPEED, noise_seed=fr['index'], blur=0.7, noise=2.5,
                             jpeg=0, anchored=True)
            pred = score(sess, img, mask, hist)
            det.append(''.join('wb'[c - 1] if (pred == c).sum() > 150 else '.' for c in (1, 2)))
        out.append(report('demo clip (48 frames)', hist))
        print('per-frame detections (w=wear, b=broken, >150 px at 512 scale):', ' '.join(det))
    return out


if __name__ == '__main__':
    main()
