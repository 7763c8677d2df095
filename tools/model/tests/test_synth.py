"""Synthetic rope generator and preprocessing (numpy + Pillow only; runs in CI)."""
import numpy as np
from PIL import Image

from edgeseg_model.preprocess import letterbox, letterbox_mask, to_tensor
from edgeseg_model.synth import random_scene, render, sample


def test_deterministic_by_seed():
    a, ma = sample(5, 160, 120)
    b, mb = sample(5, 160, 120)
    c, _ = sample(6, 160, 120)
    assert a.shape == (120, 160, 3) and a.dtype == np.uint8 and ma.shape == (120, 160)
    assert np.array_equal(a, b) and np.array_equal(ma, mb)
    assert not np.array_equal(a, c)


def test_defects_are_labelled():
    sc = random_scene(np.random.default_rng(3), 320, 240, defect_rate=4.0)
    assert sc.wear and sc.broken
    _, m = render(sc, 320, 240)
    counts = np.bincount(m.ravel(), minlength=3)
    assert set(np.unique(m)) <= {0, 1, 2}
    assert counts[1] > 0 and counts[2] > 0


def test_defect_free_scene_is_all_background():
    sc = random_scene(np.random.default_rng(3), 320, 240, defect_rate=0.0)
    _, m = render(sc, 320, 240)
    assert not m.any()


def test_scrolling_moves_defects_with_the_rope():
    sc = random_scene(np.random.default_rng(1), 320, 240, defect_rate=0.0, angle_max=0.0)
    from edgeseg_model.synth import Wear
    sc.angle = 0.0
    sc.wear = [Wear(u=0.0, s=0.0, a=30.0, b=0.5, rust=True, seed=1)]
    _, m0 = render(sc, 320, 240, u_off=0.0, anchored=True)
    _, m1 = render(sc, 320, 240, u_off=40.0, anchored=True)
    x0 = np.nonzero(m0 == 1)[1].mean()
    x1 = np.nonzero(m1 == 1)[1].mean()
    assert abs((x0 - x1) - 40.0) < 3.0


def test_letterbox_matches_bubbliiiing():
    img = Image.fromarray(np.full((480, 640, 3), 200, np.uint8))
    canvas, box = letterbox(img)
    assert box == (0, 64, 512, 384)
    a = np.asarray(canvas)
    assert (a[:64] == 128).all() and (a[-64:] == 128).all() and (a[64:448] == 200).all()
    m = letterbox_mask(np.ones((480, 640), np.uint8))
    assert m[:64].sum() == 0 and (m[64:448] == 1).all()


def test_to_tensor_is_rgb_nchw_over_255():
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0], rgb[..., 2] = 255, 51
    x = to_tensor(rgb)
    assert x.shape == (1, 3, 2, 3) and x.dtype == np.float32
    assert (x[0, 0] == 1.0).all() and (x[0, 1] == 0.0).all() and np.allclose(x[0, 2], 0.2)
