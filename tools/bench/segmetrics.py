"""Pure accuracy arithmetic for segmentation masks: confusion matrices, per-class IoU, argmax
agreement, and the issue #4 acceptance thresholds. numpy only, so the tests run anywhere."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLASS_NAMES = ('background', 'wear', 'broken')


def confusion(gt: np.ndarray, pred: np.ndarray, classes: int) -> np.ndarray:
    """classes×classes counts, rows = ground truth, columns = prediction. Pixels whose ground truth
    is outside 0..classes-1 (an 'ignore' label) are not counted; a prediction outside it is an error."""
    if gt.shape != pred.shape:
        raise ValueError(f'mask shapes differ: ground truth {gt.shape}, prediction {pred.shape}')
    g, p = gt.ravel().astype(np.int64), pred.ravel().astype(np.int64)
    if p.size and (p.min() < 0 or p.max() >= classes):
        raise ValueError(f'prediction holds class {int(p.max())}, the model has {classes}')
    keep = (g >= 0) & (g < classes)
    return np.bincount(classes * g[keep] + p[keep], minlength=classes * classes).reshape(classes, classes)


def iou(hist: np.ndarray) -> np.ndarray:
    """Per-class IoU from one confusion matrix over the whole set (bubbliiiing's compute_mIoU);
    NaN for a class that is in neither ground truth nor prediction (it does not count in mIoU)."""
    tp = np.diag(hist).astype(np.float64)
    union = hist.sum(0) + hist.sum(1) - np.diag(hist)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(union > 0, tp / np.maximum(union, 1), np.nan)


def miou(hist: np.ndarray) -> float:
    v = iou(hist)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float('nan')


@dataclass
class Agreement:
    """Pixels where a model's argmax equals the reference model's, summed over images."""
    same: int = 0
    total: int = 0

    def add(self, ref: np.ndarray, pred: np.ndarray) -> None:
        if ref.shape != pred.shape:
            raise ValueError(f'mask shapes differ: reference {ref.shape}, model {pred.shape}')
        self.same += int((ref == pred).sum())
        self.total += int(ref.size)

    @property
    def fraction(self) -> float:
        return self.same / self.total if self.total else float('nan')


@dataclass
class Thresholds:
    """Issue #4 §4: int8 (and mixed) agreement >= 99% and mIoU drop <= 0.5 points; FP16 >= 99.9%."""
    int8_agreement: float = 0.99
    int8_miou_drop_points: float = 0.5
    fp16_agreement: float = 0.999
    fp16_miou_drop_points: float | None = None   # the issue sets none for FP16


@dataclass
class ModelScore:
    label: str
    precision: str | None            # fp32 / fp16 / int8 / mixed, None when unknown
    hist: np.ndarray
    agreement: Agreement = field(default_factory=Agreement)


def check(ref: ModelScore, others: list[ModelScore], t: Thresholds) -> list[str]:
    """Failure messages (empty = all thresholds met). A model whose precision is unknown or fp32 is not checked."""
    fails = []
    ref_miou = miou(ref.hist)
    for m in others:
        if m.precision in ('int8', 'mixed'):
            min_agree, max_drop = t.int8_agreement, t.int8_miou_drop_points
        elif m.precision == 'fp16':
            min_agree, max_drop = t.fp16_agreement, t.fp16_miou_drop_points
        else:
            continue
        a = m.agreement.fraction
        if not a >= min_agree:   # NaN (no pixels) fails too
            fails.append(f'{m.label} ({m.precision}): argmax agreement {100 * a:.3f}% < {100 * min_agree:.3f}%')
        drop = 100 * (ref_miou - miou(m.hist))
        if max_drop is not None and not drop <= max_drop:
            fails.append(f'{m.label} ({m.precision}): mIoU drop {drop:.2f} points > {max_drop:.2f}')
    return fails


def precision_of(name: str) -> str | None:
    """Guess a model's precision from its label or file name (fp32/fp16/int8/mixed; 'qdq' is int8)."""
    low = name.lower()
    for key, prec in (('mixed', 'mixed'), ('int8', 'int8'), ('qdq', 'int8'), ('fp16', 'fp16'), ('fp32', 'fp32')):
        if key in low:
            return prec
    return None
