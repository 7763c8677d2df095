"""bubbliiiing preprocessing (spec §1.2): letterbox onto grey 128, x/255, RGB, NCHW, no mean/std."""
from __future__ import annotations

import numpy as np
from PIL import Image

SIZE = 512


def letterbox(image: Image.Image, size: int = SIZE):
    """Returns (canvas, (left, top, new_w, new_h)). BICUBIC resize, centred on (128,128,128)."""
    iw, ih = image.size
    scale = min(size / iw, size / ih)
    nw, nh = int(iw * scale), int(ih * scale)
    canvas = Image.new('RGB', (size, size), (128, 128, 128))
    left, top = (size - nw) // 2, (size - nh) // 2
    canvas.paste(image.convert('RGB').resize((nw, nh), Image.BICUBIC), (left, top))
    return canvas, (left, top, nw, nh)


def letterbox_mask(mask: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Label letterbox as in bubbliiiing training: NEAREST resize, padded with 0 (background)."""
    ih, iw = mask.shape
    scale = min(size / iw, size / ih)
    nw, nh = int(iw * scale), int(ih * scale)
    canvas = Image.new('L', (size, size), 0)
    canvas.paste(Image.fromarray(mask, 'L').resize((nw, nh), Image.NEAREST), ((size - nw) // 2, (size - nh) // 2))
    return np.asarray(canvas, np.uint8)


def to_tensor(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 RGB -> 1x3xHxW float32 in [0,1] (x/255), contiguous NCHW."""
    x = rgb.astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def preprocess(image: Image.Image, size: int = SIZE):
    canvas, box = letterbox(image, size)
    return to_tensor(np.asarray(canvas, np.uint8)), box
