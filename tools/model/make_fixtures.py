#!/usr/bin/env python3
"""Reference fixtures for the runtime's parity tests (format: models/fixtures/README.md).

    python3 tools/model/make_fixtures.py            # (re)write models/fixtures/
    python3 tools/model/make_fixtures.py --check    # regenerate in a temp dir, compare byte for byte

Needs numpy, Pillow and onnxruntime only (no torch). ORT runs FP32 on the CPU provider with one
intra-op thread and graph optimisations at the default level, so reruns on one machine are
bit-identical.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from edgeseg_model.preprocess import to_tensor  # noqa: E402
from edgeseg_model.synth import random_scene, render  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(REPO, 'models')
MODEL_FILES = ['demo.onnx', 'final-untrained.onnx']
STRIDE = 4
IMAGE_SEEDS = [(2_000_000, 'rope-0'), (2_000_100, 'rope-1'), (2_000_200, 'rope-2')]


def sha256(path_or_bytes) -> str:
    if isinstance(path_or_bytes, (bytes, bytearray)):
        return hashlib.sha256(path_or_bytes).hexdigest()
    with open(path_or_bytes, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def fixture_image(seed0: int):
    """First seed >= seed0 whose 512x512 scene shows both wear and a broken wire (deterministic)."""
    seed = seed0
    while True:
        rng = np.random.default_rng(seed)
        sc = random_scene(rng, 512, 512, defect_rate=1.5)
        img, mask = render(sc, 512, 512, noise_seed=0, blur=0.8, noise=1.5, jpeg=0)
        counts = np.bincount(mask.ravel(), minlength=3)
        if counts[1] > 2000 and counts[2] > 300:
            return seed, img, mask
        seed += 1


def save_png(path, arr, mode):
    Image.fromarray(arr, mode).save(path, 'PNG', optimize=False, compress_level=9)


def generate(out: str, models_dir: str = MODELS) -> dict:
    import onnxruntime as ort
    os.makedirs(out, exist_ok=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    manifest = dict(format=1, stride=STRIDE, onnxruntime=ort.__version__, provider='CPUExecutionProvider',
                    classes=['background', 'wear', 'broken'], images=[], models=[], outputs=[])
    inputs = []
    for seed0, name in IMAGE_SEEDS:
        seed, img, mask = fixture_image(seed0)
        save_png(os.path.join(out, f'{name}.png'), img, 'RGB')
        save_png(os.path.join(out, f'{name}.mask.png'), mask, 'L')
        x = to_tensor(np.asarray(Image.open(os.path.join(out, f'{name}.png')).convert('RGB')))
        inputs.append((name, x))
        manifest['images'].append(dict(name=name, png=f'{name}.png', mask_png=f'{name}.mask.png', seed=seed,
                                       width=512, height=512,
                                       input_f32_sha256=sha256(x.astype('<f4').tobytes()),
                                       mask_counts=np.bincount(mask.ravel(), minlength=3).tolist()))
    for mf in MODEL_FILES:
        path = os.path.join(models_dir, mf)
        tag = mf[:-len('.onnx')]
        sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
        manifest['models'].append(dict(name=tag, file=mf, sha256=sha256(path)))
        os.makedirs(os.path.join(out, tag), exist_ok=True)
        for name, x in inputs:
            y = sess.run(['output'], {'input': x})[0]
            assert y.shape == (1, 3, 512, 512) and y.dtype == np.float32
            sub = np.ascontiguousarray(y[0, :, ::STRIDE, ::STRIDE])
            base = f'{tag}/{name}'
            with open(os.path.join(out, f'{base}.logits-s{STRIDE}.f32'), 'wb') as f:
                f.write(sub.astype('<f4').tobytes())
            am = y[0].argmax(0).astype(np.uint8)
            save_png(os.path.join(out, f'{base}.argmax.png'), am, 'L')
            side = dict(model=mf, model_sha256=sha256(path), image=f'{name}.png', output='output',
                        full_shape=[1, 3, 512, 512], stored_shape=list(sub.shape), stride=STRIDE, offset=0,
                        dtype='float32', byte_order='little', layout='C order [class][row][col]; '
                        f'stored[c][i][j] = output[0][c][{STRIDE}i][{STRIDE}j]',
                        min=float(sub.min()), max=float(sub.max()), mean=float(sub.mean()),
                        full_min=float(y.min()), full_max=float(y.max()),
                        full_abs_sum=float(np.abs(y).astype(np.float64).sum()),
                        argmax_png=f'{name}.argmax.png',
                        argmax_counts=np.bincount(am.ravel(), minlength=3).tolist(),
                        logits_sha256=sha256(sub.astype('<f4').tobytes()))
            with open(os.path.join(out, f'{base}.logits-s{STRIDE}.json'), 'w') as f:
                json.dump(side, f, indent=1)
                f.write('\n')
            manifest['outputs'].append(dict(model=tag, image=name, logits=f'{base}.logits-s{STRIDE}.f32',
                                            sidecar=f'{base}.logits-s{STRIDE}.json',
                                            argmax=f'{base}.argmax.png'))
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    return manifest


def listing(d):
    return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs
                  if f != 'README.md')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(MODELS, 'fixtures'))
    ap.add_argument('--check', action='store_true', help='regenerate into a temp dir and compare')
    args = ap.parse_args()
    if not args.check:
        generate(args.out)
        total = sum(os.path.getsize(os.path.join(args.out, p)) for p in listing(args.out))
        print(f'wrote {len(listing(args.out))} files, {total} bytes, to {args.out}')
        return
    tmp = tempfile.mkdtemp()
    try:
        generate(tmp)
        a, b = listing(args.out), listing(tmp)
        bad = sorted(set(a) ^ set(b))
        for p in sorted(set(a) & set(b)):
            with open(os.path.join(args.out, p), 'rb') as f1, open(os.path.join(tmp, p), 'rb') as f2:
                if f1.read() != f2.read():
                    bad.append(p)
        if bad:
            print('MISMATCH:', *bad, sep='\n  ')
            sys.exit(1)
        print(f'OK: {len(a)} fixture files regenerate bit-identically')
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    main()
