"""ONNX Runtime side of the bench scripts: sessions configured like EdgeSeg runs (N intra-op threads,
sequential, all graph optimisations), timed runs, preprocessing of image folders exactly as
tools/model does, and static int8 QDQ quantization with a cache. Used by ort_compare.py, bench-peers
and quant_accuracy.py."""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'model'))

IMAGE_EXTS = ('.png', '.jpg', '.jpeg')


def session(model: str, threads: int):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3   # the demo export's unused-initializer warnings would bury the tables
    return ort.InferenceSession(model, so, providers=['CPUExecutionProvider'])


def seeded_input(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def time_runs(sess, feed: dict, runs: int, warmup: int = 2) -> list[float]:
    """Milliseconds of each of `runs` timed runs after `warmup` untimed ones."""
    for _ in range(warmup):
        sess.run(None, feed)
    lat = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feed)
        lat.append((time.perf_counter() - t) * 1000)
    return lat


def image_files(folder: str) -> list[str]:
    """The images of a folder (not its subfolders), sorted by name: what `edgeseg compile --calib` reads."""
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.lower().endswith(IMAGE_EXTS) and os.path.isfile(os.path.join(folder, f)))


def load_input(path: str, size: int = 512):
    """Image file -> (1×3×size×size float32 tensor, letterbox box (left, top, w, h), (width, height))."""
    from PIL import Image
    from edgeseg_model.preprocess import preprocess
    img = Image.open(path).convert('RGB')
    x, box = preprocess(img, size)
    return x, box, img.size


def model_input(model: str) -> tuple[str, int]:
    """Name and (square) size of an ONNX model's first input, 512 when symbolic."""
    import onnx
    inp = onnx.load(model, load_external_data=False).graph.input[0]
    return inp.name, inp.type.tensor_type.shape.dim[-1].dim_value or 512


def unletterbox(mask: np.ndarray, box, image_size) -> np.ndarray:
    """Model-size class mask -> image-size mask, each image pixel taking the class of the input pixel
    it landed on (the integer arithmetic of `edgeseg infer`)."""
    left, top, w, h = box
    iw, ih = image_size
    ys = np.minimum(mask.shape[0] - 1, top + (np.arange(ih) * h) // ih)
    xs = np.minimum(mask.shape[1] - 1, left + (np.arange(iw) * w) // iw)
    return mask[ys[:, None], xs[None, :]]


def peak_rss_bytes() -> int:
    """VmHWM of this process (what `edgeseg bench` reports for itself)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    return 0


CALIB_METHODS = {'minmax': 'MinMax', 'percentile': 'Percentile', 'kl': 'Entropy'}   # ORT has no MSE method


def _file_digest(paths: list[str]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(os.path.basename(p).encode())
        with open(p, 'rb') as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def quantize_qdq(model: str, calib_dir: str, out_dir: str, method: str = 'minmax', log=print) -> str:
    """ORT static int8: QDQ format, weights int8 symmetric per output channel, activations uint8
    asymmetric per tensor (ORT's default U8S8, the fast path on x86), calibrated on the images of
    calib_dir preprocessed like tools/model. Cached in out_dir under a key of model bytes, images and
    options; returns the quantized model's path."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    images = image_files(calib_dir)
    if not images:
        raise SystemExit(f'{calib_dir}: no PNG/JPEG images to calibrate on')
    if method not in CALIB_METHODS:
        raise SystemExit(f'ONNX Runtime has no {method!r} calibration; use one of {", ".join(CALIB_METHODS)}')
    opts = dict(format='QDQ', per_channel=True, activation='QUInt8', weight='QInt8', method=method, version=2)
    key = hashlib.sha256((_file_digest([model]) + _file_digest(images) + json.dumps(opts, sort_keys=True)).encode()).hexdigest()[:16]
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, f'{os.path.splitext(os.path.basename(model))[0]}.qdq-{method}.{key}.onnx')
    if os.path.exists(out):
        log(f'ORT int8: cached {out}')
        return out
    name, size = model_input(model)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(images)

        def get_next(self):
            p = next(self.it, None)
            return None if p is None else {name: load_input(p, size)[0]}

    t = time.perf_counter()
    tmp = out + '.part'
    quantize_static(model, tmp, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=getattr(CalibrationMethod, CALIB_METHODS[method]))
    # (not CalibMaxIntermediateOutputs: ORT 1.32's MinMax calibrator drops each full chunk uncomputed)
    os.replace(tmp, out)
    log(f'ORT int8: quantized {model} on {len(images)} images ({method}) in {time.perf_counter() - t:.0f} s -> {out}')
    return out
