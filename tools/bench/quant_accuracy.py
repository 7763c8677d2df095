#!/usr/bin/env python3
"""Accuracy of quantized models against FP32 and against ground truth (issue #4 §4).

    tools/bench/quant_accuracy.py --models fp32.edgeseg fp16.edgeseg int8.edgeseg --images EVAL_DIR \
        [--edgeseg .build/release/edgeseg] [--threads 2] [--json FILE] [--check]

EVAL_DIR: images plus ground-truth class masks in EVAL_DIR/masks/<stem>.png, as written by
`tools/model/make_calib.py EVAL_DIR --labels` (seeds disjoint from training and calibration).
Each model runs `edgeseg infer MODEL IMAGE -o mask.png` per image (a class mask at image size);
a model given as `ort:PATH.onnx` runs in ONNX Runtime here instead, with tools/model's
preprocessing and the same un-letterbox, e.g. to score ORT's QDQ int8 beside EdgeSeg's.
A model may be labelled `LABEL=PATH`; its precision (fp32/fp16/int8/mixed; qdq = int8) is taken
from the label or file name, or given with --precisions.

Reports, over all images: argmax agreement of every model with the first (the FP32 reference),
per-class IoU and mIoU against the ground truth (one confusion matrix per model, bubbliiiing's
compute_mIoU) and the mIoU change vs the first. --check exits 1 unless int8/mixed agreement >= 99%
and mIoU drop <= 0.5 points, FP16 agreement >= 99.9% (thresholds adjustable)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

from ortbench import image_files, load_input, session, unletterbox
from segmetrics import CLASS_NAMES, ModelScore, Thresholds, check, iou, miou, precision_of
from tables import table


class EdgeSegModel:
    def __init__(self, binary: str, path: str, threads: int, tmp: str):
        self.cmd, self.out = [binary, 'infer', path, '--threads', str(threads)], os.path.join(tmp, 'mask.png')

    def predict(self, image: str) -> np.ndarray:
        r = subprocess.run(self.cmd[:3] + [image, '-o', self.out] + self.cmd[3:], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f'{" ".join(self.cmd)} {image} failed ({r.returncode}):\n{r.stderr.strip()}')
        return np.asarray(Image.open(self.out))   # indexed PNG: the array holds the class indices


class ORTModel:
    def __init__(self, path: str, threads: int):
        self.sess = session(path, threads)
        self.name = self.sess.get_inputs()[0].name

    def predict(self, image: str) -> np.ndarray:
        x, box, size = load_input(image, self.sess.get_inputs()[0].shape[-1])
        logits = self.sess.run(None, {self.name: x})[0]
        return unletterbox(logits[0].argmax(0).astype(np.uint8), box, size)


def parse_model(spec: str):
    """'[LABEL=][ort:]PATH' -> (label, engine, path)."""
    label, sep, rest = spec.partition('=')
    if not sep or os.path.exists(spec):
        label, rest = None, spec
    engine = 'ort' if rest.startswith('ort:') else 'edgeseg'
    path = rest[4:] if engine == 'ort' else rest
    return label or (('ort:' if engine == 'ort' else '') + os.path.basename(path)), engine, path


def result_rows(scores: list[ModelScore], have_gt: bool):
    """(table rows, JSON records) for the models; the first is the reference."""
    ref_miou = miou(scores[0].hist) if have_gt else None
    rows, records = [], []
    for i, s in enumerate(scores):
        per = iou(s.hist) if have_gt else [None] * len(CLASS_NAMES)
        m = miou(s.hist) if have_gt else None
        agree = None if i == 0 else s.agreement.fraction
        drop = None if i == 0 or m is None else 100 * (ref_miou - m)
        rows.append([s.label + (' (reference)' if i == 0 else ''), s.precision or '?', None if i == 0 else 100 * agree]
                    + [None if v is None else 100 * v for v in per] + [None if m is None else 100 * m, drop])
        records.append(dict(label=s.label, precision=s.precision, agreement=agree,
                            iou={n: (None if v is None or np.isnan(v) else float(v)) for n, v in zip(CLASS_NAMES, per)},
                            miou=m, miou_drop_points=drop, confusion=s.hist.tolist()))
    return rows, records


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--models', nargs='+', required=True, help='[LABEL=][ort:]PATH ...; the first is the FP32 reference')
    ap.add_argument('--images', required=True, help='folder of images (+ masks/<stem>.png ground truth)')
    ap.add_argument('--edgeseg', default='.build/release/edgeseg')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--precisions', help='comma-separated precision per model (overrides the guess from names)')
    ap.add_argument('--limit', type=int, help='first N images only')
    ap.add_argument('--json', help='write the results here')
    ap.add_argument('--check', action='store_true', help='exit 1 when a threshold is not met')
    ap.add_argument('--min-agreement-int8', type=float, default=99.0, help='percent (int8 and mixed)')
    ap.add_argument('--max-miou-drop', type=float, default=0.5, help='points of mIoU (int8 and mixed)')
    ap.add_argument('--min-agreement-fp16', type=float, default=99.9, help='percent')
    a = ap.parse_args(argv)
    if len(a.models) < 2 and a.check:
        ap.error('--check needs a reference model and at least one model to check')

    specs = [parse_model(m) for m in a.models]
    precs = a.precisions.split(',') if a.precisions else [precision_of(lbl + ' ' + p) for lbl, _, p in specs]
    if len(precs) != len(specs):
        ap.error(f'--precisions names {len(precs)} precisions for {len(specs)} models')
    images = image_files(a.images)[:a.limit]
    if not images:
        ap.error(f'{a.images}: no images')
    gts = [os.path.join(a.images, 'masks', os.path.splitext(os.path.basename(p))[0] + '.png') for p in images]
    have_gt = all(os.path.exists(g) for g in gts)
    if not have_gt:
        print(f'note: {a.images}/masks/ lacks ground truth for some images: agreement only', file=sys.stderr)

    classes = len(CLASS_NAMES)
    scores = [ModelScore(lbl, pr, np.zeros((classes, classes), np.int64)) for (lbl, _, _), pr in zip(specs, precs)]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        models = [ORTModel(p, a.threads) if eng == 'ort' else EdgeSegModel(a.edgeseg, p, a.threads, tmp)
                  for _, eng, p in specs]
        for n, (img, gt_path) in enumerate(zip(images, gts)):
            gt = np.asarray(Image.open(gt_path)) if have_gt else None
            preds = [m.predict(img) for m in models]
            for s, pred in zip(scores, preds):
                if gt is not None:
                    s.hist += _confusion(gt, pred, classes)
                if s is not scores[0]:
                    s.agreement.add(preds[0], pred)
            print(f'\r{n + 1}/{len(images)} images', end='', file=sys.stderr, flush=True)
    print(file=sys.stderr)

    rows, records = result_rows(scores, have_gt)
    print(f'{len(images)} images from {a.images}, {time.perf_counter() - t0:.0f} s')
    print(table(['model', 'precision', 'agreement %'] + [f'IoU {c} %' for c in CLASS_NAMES] + ['mIoU %', 'ΔmIoU points'], rows))
    t = Thresholds(a.min_agreement_int8 / 100, a.max_miou_drop, a.min_agreement_fp16 / 100)
    fails = check(scores[0], scores[1:], t) if have_gt else check_agreement_only(scores, t)
    for f in fails:
        print('FAIL ' + f)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(images=a.images, count=len(images), thresholds=t.__dict__, models=records, failures=fails), f, indent=2)
    if a.check:
        print('check: ' + ('FAILED' if fails else 'all thresholds met'))
        return 1 if fails else 0
    return 0


def _confusion(gt, pred, classes):
    from segmetrics import confusion
    return confusion(gt, pred, classes)


def check_agreement_only(scores, t):
    """Without ground truth only the agreement thresholds can be checked."""
    no_drop = Thresholds(t.int8_agreement, None, t.fp16_agreement, None)
    return check(scores[0], scores[1:], no_drop)


if __name__ == '__main__':
    sys.exit(main())
