#!/usr/bin/env python3
"""Synthetic rope images for int8 calibration, or (--labels) an evaluation set with class masks.

    python3 tools/model/make_calib.py OUT_DIR [--count 32] [--seed 4000000]              # calibration
    python3 tools/model/make_calib.py OUT_DIR --labels [--count 40] [--seed 3000000]     # evaluation

Calibration writes only images (OUT_DIR/<seed>.png) so the folder can be handed to
`edgeseg compile --calib OUT_DIR` and to tools/bench-peers as is. --labels also writes the class
masks (pixel value = class: 0 background, 1 wear, 2 broken wire) as OUT_DIR/masks/<seed>.png, at
the image's size, which is what `edgeseg infer` writes and tools/bench/quant_accuracy.py compares.

Seeds: calibration from 4,000,000.., evaluation from 3,000,000.. (the images eval_onnx.py scores);
both disjoint from training/validation (edgeseg_model/seeds.py); a range outside its band is refused.
Frame sizes cycle like training's (640×480, 800×600, 512×512, 480×640) unless --size is given.
numpy + Pillow only (no torch). Output is byte-identical for the same arguments."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from PIL import Image  # noqa: E402

from edgeseg_model.seeds import BANDS, check_range, frame_size  # noqa: E402
from edgeseg_model.synth import sample  # noqa: E402


def write_set(out_dir: str, count: int, seed0: int, labels: bool = False, size: tuple[int, int] | None = None) -> list[str]:
    """Writes the images (and masks with labels) and returns the image paths, in seed order."""
    check_range('eval' if labels else 'calib', seed0, count)
    os.makedirs(out_dir, exist_ok=True)
    if labels:
        os.makedirs(os.path.join(out_dir, 'masks'), exist_ok=True)
    paths = []
    for seed in range(seed0, seed0 + count):
        w, h = size or frame_size(seed)
        img, mask = sample(seed, w, h)
        path = os.path.join(out_dir, f'{seed}.png')
        Image.fromarray(img, 'RGB').save(path, optimize=False)
        if labels:
            Image.fromarray(mask, 'L').save(os.path.join(out_dir, 'masks', f'{seed}.png'), optimize=False)
        paths.append(path)
    return paths


def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition('x')
    return int(w), int(h)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out_dir')
    ap.add_argument('--count', type=int, default=None, help='images (default 32, with --labels 40)')
    ap.add_argument('--seed', type=int, default=None, help='first seed (default: start of the calib / eval band)')
    ap.add_argument('--labels', action='store_true', help='evaluation set: also write ground-truth masks')
    ap.add_argument('--size', type=parse_size, help='WxH for every image (default: cycle the training sizes)')
    a = ap.parse_args(argv)
    count = a.count if a.count is not None else (40 if a.labels else 32)
    seed0 = a.seed if a.seed is not None else BANDS['eval' if a.labels else 'calib']
    try:
        paths = write_set(a.out_dir, count, seed0, a.labels, a.size)
    except ValueError as e:
        ap.error(str(e))
    print(f'{a.out_dir}: {len(paths)} images, seeds {seed0}..{seed0 + count - 1}' + (' + masks/' if a.labels else ''))


if __name__ == '__main__':
    main()
