#!/usr/bin/env python3
"""Bundled demo clip for `edgeseg demo`: a rope scrolling past the camera, defects coming and going.

    python3 tools/model/make_demo_clip.py models/        # writes demo-clip.mjpeg + demo-clip.json

demo-clip.mjpeg: concatenated baseline JPEG frames (SOI..EOI), 640x480, quality 85, 4:2:0.
demo-clip.json : per frame: byte offset/length of the JPEG, and the ground truth of that frame
                 (pixel count and bounding box [x0,y0,x1,y1) per defect class) so a test can check
                 that alarms rise while a defect is in view and clear after it has scrolled out.
Deterministic: the same bytes on every run with the same numpy/Pillow/libjpeg.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from edgeseg_model.synth import Broken, Wear, random_scene, render  # noqa: E402

W, H, FRAMES, SPEED, QUALITY = 640, 480, 48, 60.0, 85
CLASS_NAMES = {1: 'wear', 2: 'broken'}


def scene():
    sc = random_scene(np.random.default_rng(7), W, H, defect_rate=0.0, angle_max=0.0)
    sc.angle, sc.centre, sc.radius = 0.0, (0.5, 0.5), 95.0
    sc.light, sc.spec, sc.grease = -0.3, 0.5, 0.15
    # blue-grey backdrop: the demo model (trained 55 CPU-minutes) takes brown backgrounds for rust
    sc.bg['color'] = (0.85, 0.95, 1.12)
    # the rope moves right-to-left (u grows with time); frame t shows u in [t*SPEED - W/2, t*SPEED + W/2]
    # defects are placed so they enter, cross and leave, with quiet stretches in between
    # frame t shows u in [60t - 320, 60t + 320]: wear in frames ~3-13, broken wires ~18-28,
    # wear + broken ~33-44, nothing in 0-2, 15-17, 30-32, 45-47 (alarms must clear there)
    sc.wear = [Wear(u=500.0, s=0.2, a=70.0, b=0.55, rust=True, seed=11),
               Wear(u=2300.0, s=-0.3, a=55.0, b=0.5, rust=False, seed=12)]
    sc.broken = [Broken(u=1400.0, kind='protrude', side=-1,
                        wires=[(0.6, 60.0, 0.1, 6.0), (1.0, 50.0, -0.1, 5.5)]),
                 Broken(u=1430.0, kind='across', side=1, s=0.1,
                        wires=[(0.9, 45.0, 0.0, 6.0), (-0.5, 40.0, 0.1, 5.5)]),
                 Broken(u=2360.0, kind='gap', side=1, s=0.45, wires=[(0.0, 40.0, 0.0, 5.5)])]
    return sc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('outdir')
    args = ap.parse_args()
    sc = scene()
    blob, frames = bytearray(), []
    for t in range(FRAMES):
        img, mask = render(sc, W, H, u_off=t * SPEED, noise_seed=t, blur=0.7, noise=2.5, jpeg=0,
                           anchored=True)
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, 'JPEG', quality=QUALITY)
        data = buf.getvalue()
        truth = {}
        for c, name in CLASS_NAMES.items():
            ys, xs = np.nonzero(mask == c)
            if len(xs):
                truth[name] = dict(pixels=int(len(xs)),
                                   bbox=[int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1])
        frames.append(dict(index=t, offset=len(blob), length=len(data), truth=truth))
        blob += data
    os.makedirs(args.outdir, exist_ok=True)
    with open(os.path.join(args.outdir, 'demo-clip.mjpeg'), 'wb') as f:
        f.write(bytes(blob))
    meta = dict(width=W, height=H, frames=FRAMES, jpeg_quality=QUALITY, fps_hint=10,
                classes={'0': 'background', '1': 'wear', '2': 'broken'}, frame_list=frames)
    with open(os.path.join(args.outdir, 'demo-clip.json'), 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')
    print(f'{FRAMES} frames, {len(blob)} bytes')


if __name__ == '__main__':
    main()
