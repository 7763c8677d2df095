#!/usr/bin/env python3
"""Train a config (default: pruned) on synthetic rope images, on CPU, within a wall-clock budget.

    nohup python3 tools/model/train.py --out /work/artifacts/model/run1 --budget 3300 > train.log &

The model is fully convolutional: it trains on small random crops of 512x512 letterboxed images
and is evaluated on whole 512x512 held-out images (other seeds). The LR follows a cosine over the
time budget, so the schedule fits whatever speed the machine gives. A checkpoint is written every
few minutes; rerunning the same command resumes from it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

from edgeseg_model.configs import build  # noqa: E402
from edgeseg_model.preprocess import letterbox, letterbox_mask  # noqa: E402
from edgeseg_model.synth import sample  # noqa: E402

TRAIN_SEED0, VAL_SEED0 = 0, 1_000_000
SIZES = [(640, 480), (640, 480), (800, 600), (512, 512), (480, 640)]


def make_set(seed0: int, n: int):
    """n letterboxed 512x512 images + masks + valid (non-pad) boxes, deterministic by seed."""
    imgs = np.empty((n, 512, 512, 3), np.uint8)
    masks = np.empty((n, 512, 512), np.uint8)
    boxes = []
    for i in range(n):
        seed = seed0 + i
        w, h = SIZES[seed % len(SIZES)]
        img, m = sample(seed, w, h)
        canvas, box = letterbox(Image.fromarray(img))
        imgs[i] = np.asarray(canvas)
        masks[i] = letterbox_mask(m)
        boxes.append(box)
    return imgs, masks, boxes


def dice_loss(logits, target, eps=1e-5):
    p = logits.softmax(1)
    oh = F.one_hot(target, p.shape[1]).permute(0, 3, 1, 2).float()
    inter = (p * oh).sum((0, 2, 3))
    return 1 - ((2 * inter + eps) / (p.sum((0, 2, 3)) + oh.sum((0, 2, 3)) + eps)).mean()


def crops(rng, imgs, masks, batch, size):
    xs, ys = [], []
    n = len(imgs)
    for _ in range(batch):
        i = int(rng.integers(n))
        m = masks[i]
        if rng.random() < 0.6 and m.any():
            cand = np.argwhere(m > 0)
            cy, cx = cand[int(rng.integers(len(cand)))]
            cy += int(rng.integers(-size // 3, size // 3 + 1))
            cx += int(rng.integers(-size // 3, size // 3 + 1))
        else:
            cy, cx = int(rng.integers(64, 448)), int(rng.integers(0, 512))
        y0 = int(np.clip(cy - size // 2, 0, 512 - size))
        x0 = int(np.clip(cx - size // 2, 0, 512 - size))
        x = imgs[i, y0:y0 + size, x0:x0 + size]
        y = m[y0:y0 + size, x0:x0 + size]
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        if rng.random() < 0.5:
            x, y = x[::-1], y[::-1]
        xs.append(x)
        ys.append(y)
    x = torch.from_numpy(np.stack(xs).astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(np.stack(ys).astype(np.int64))
    return x, y


@torch.no_grad()
def evaluate(model, imgs, masks, boxes, classes=3):
    """Confusion matrix over the letterboxed image area (pad excluded); IoU as bubbliiiing."""
    model.eval()
    hist = np.zeros((classes, classes), np.int64)
    for i in range(len(imgs)):
        x = torch.from_numpy(imgs[i:i + 1].astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()
        pred = model(x).argmax(1)[0].numpy()
        l, t, w, h = boxes[i]
        p, g = pred[t:t + h, l:l + w].ravel(), masks[i, t:t + h, l:l + w].ravel()
        hist += np.bincount(classes * g.astype(np.int64) + p, minlength=classes ** 2).reshape(classes, classes)
    iou = np.diag(hist) / np.maximum(hist.sum(0) + hist.sum(1) - np.diag(hist), 1)
    model.train()
    return iou, hist


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', default='pruned')
    ap.add_argument('--out', default='/work/artifacts/model/run')
    ap.add_argument('--budget', type=float, default=3300, help='training seconds (wall clock)')
    ap.add_argument('--n-train', type=int, default=400)
    ap.add_argument('--n-val', type=int, default=24)
    ap.add_argument('--crop', type=int, default=160)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--eval-every', type=float, default=900, help='seconds between evaluations')
    args = ap.parse_args()
    # OS16 deep map = crop/16, which the MViT 2x2 patch unfold needs even
    assert args.crop % 32 == 0, '--crop must be a multiple of 32'
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    log = lambda *a: print(time.strftime('%H:%M:%S'), *a, flush=True)  # noqa: E731

    t0 = time.time()
    tr = make_set(TRAIN_SEED0, args.n_train)
    va = make_set(VAL_SEED0, args.n_val)
    freq = np.bincount(tr[1].ravel(), minlength=3) / tr[1].size
    log(f'data: {args.n_train} train / {args.n_val} val in {time.time() - t0:.0f}s; class freq {freq.round(4)}')

    torch.manual_seed(0)
    model = build(args.config)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    weights = torch.tensor([1.0, 2.0, 3.0])
    ckpt_path = os.path.join(args.out, 'ckpt.pt')
    step, elapsed = 0, 0.0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        step, elapsed = ck['step'], ck['elapsed']
        log(f'resumed at step {step}, {elapsed:.0f}s trained')
    rng = np.random.default_rng(1000 + step)
    model.train()
    start, last_ck, last_ev = time.time() - elapsed, time.time(), time.time()
    run_loss = None

    def save():
        torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), step=step,
                        elapsed=time.time() - start, config=args.config), ckpt_path + '.tmp')
        os.replace(ckpt_path + '.tmp', ckpt_path)

    while True:
        el = time.time() - start
        if el >= args.budget:
            break
        frac = el / args.budget
        lr = args.lr * min(1.0, (step + 1) / 50) * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g['lr'] = lr
        x, y = crops(rng, tr[0], tr[1], args.batch, args.crop)
        out = model(x)
        loss = F.cross_entropy(out, y, weight=weights) + dice_loss(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        run_loss = loss.item() if run_loss is None else 0.95 * run_loss + 0.05 * loss.item()
        if step % 10 == 0:
            log(f'step {step} t={el:.0f}s lr={lr:.2e} loss={run_loss:.4f} ({el / max(step, 1):.2f}s/step)')
        if time.time() - last_ck > 240:
            save()
            last_ck = time.time()
        if time.time() - last_ev > args.eval_every:
            iou, _ = evaluate(model, va[0][:8], va[1][:8], va[2][:8])
            log(f'eval(8) IoU bg/wear/broken {iou.round(4)} mIoU {iou.mean():.4f}')
            last_ev = time.time()
    save()
    iou, hist = evaluate(model, *va)
    res = dict(config=args.config, steps=step, train_seconds=round(time.time() - start),
               n_val=args.n_val, iou=dict(background=float(iou[0]), wear=float(iou[1]), broken=float(iou[2])),
               miou=float(iou.mean()), confusion=hist.tolist())
    log('final', json.dumps(res))
    with open(os.path.join(args.out, 'result.json'), 'w') as f:
        json.dump(res, f, indent=1)
    torch.save(model.state_dict(), os.path.join(args.out, 'weights.pt'))


if __name__ == '__main__':
    main()
