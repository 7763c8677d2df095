"""IoU / agreement arithmetic and the issue #4 thresholds (pure numpy)."""
import math

import numpy as np
import pytest

from segmetrics import Agreement, ModelScore, Thresholds, check, confusion, iou, miou, precision_of


def test_confusion_rows_are_ground_truth():
    gt = np.array([[0, 0, 1], [2, 2, 2]])
    pred = np.array([[0, 1, 1], [2, 0, 2]])
    h = confusion(gt, pred, 3)
    assert h.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert h.sum() == gt.size


def test_confusion_ignores_unknown_ground_truth_and_rejects_bad_predictions():
    assert confusion(np.array([255, 1]), np.array([0, 1]), 3).sum() == 1
    with pytest.raises(ValueError):
        confusion(np.array([0, 1]), np.array([0, 3]), 3)
    with pytest.raises(ValueError):
        confusion(np.zeros((2, 2)), np.zeros((2, 3)), 3)


def test_iou_by_hand():
    h = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    # class 0: tp 1, union 2 + 2 - 1 = 3; class 1: tp 1, union 2 + 1 - 1 = 2; class 2: tp 2, union 2 + 3 - 2 = 3
    assert np.allclose(iou(h), [1 / 3, 1 / 2, 2 / 3])
    assert math.isclose(miou(h), (1 / 3 + 1 / 2 + 2 / 3) / 3)


def test_absent_class_does_not_count_in_miou():
    h = np.array([[5, 0, 0], [0, 5, 0], [0, 0, 0]])
    v = iou(h)
    assert v[0] == 1 and v[1] == 1 and np.isnan(v[2])
    assert miou(h) == 1.0
    # a class predicted but never in the ground truth counts, with IoU 0
    assert miou(np.array([[4, 0, 1], [0, 5, 0], [0, 0, 0]])) == pytest.approx((0.8 + 1 + 0) / 3)


def test_agreement_accumulates_over_images():
    a = Agreement()
    a.add(np.zeros((2, 2)), np.array([[0, 1], [0, 0]]))
    a.add(np.ones(4), np.ones(4))
    assert (a.same, a.total) == (7, 8) and a.fraction == 7 / 8
    assert math.isnan(Agreement().fraction)
    with pytest.raises(ValueError):
        a.add(np.zeros(3), np.zeros(4))


def score(label, prec, miou_value, agreement_pixels):
    """A model whose mIoU is miou_value (to 1e-6) over classes 0 and 1 (class 2 absent) and whose
    argmax agrees with the reference on agreement_pixels of 10,000."""
    n = 1_000_000
    t = round(2 * n * miou_value / (1 + miou_value))     # IoU = t / (2n - t) for both classes
    h = np.array([[t, n - t, 0], [n - t, t, 0], [0, 0, 0]])
    return ModelScore(label, prec, h, Agreement(agreement_pixels, 10_000))


def test_thresholds_of_the_issue():
    ref = score('fp32', 'fp32', 0.80, 0)
    ok = [score('int8', 'int8', 0.7951, 9_900), score('fp16', 'fp16', 0.70, 9_990), score('x', None, 0.1, 0)]
    assert check(ref, ok, Thresholds()) == []          # fp16 has no mIoU bound; unknown precision unchecked
    fails = check(ref, [score('int8', 'int8', 0.80, 9_899)], Thresholds())
    assert len(fails) == 1 and 'agreement 98.990%' in fails[0]
    fails = check(ref, [score('mixed', 'mixed', 0.7940, 10_000)], Thresholds())
    assert len(fails) == 1 and 'mIoU drop 0.60 points' in fails[0]
    fails = check(ref, [score('fp16', 'fp16', 0.80, 9_989)], Thresholds())
    assert len(fails) == 1 and 'fp16' in fails[0]
    nothing = ModelScore('empty', 'int8', ref.hist, Agreement())
    assert check(ref, [nothing], Thresholds())         # no pixels compared: NaN agreement fails


def test_precision_from_names():
    assert precision_of('demo.int8.edgeseg') == 'int8'
    assert precision_of('ort:demo.qdq-minmax.abc.onnx') == 'int8'
    assert precision_of('FP16=out/a.edgeseg') == 'fp16'
    assert precision_of('demo-mixed.edgeseg') == 'mixed'
    assert precision_of('demo.fp32.edgeseg') == 'fp32'
    assert precision_of('demo.edgeseg') is None
