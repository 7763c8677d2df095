"""Table layout, ratios and percentiles shared by bench-peers, quant_accuracy and ort_compare."""
import numpy as np

from ortbench import unletterbox
from tables import fmt, nearest_rank, ratio, table


def test_table_aligns_numbers_right_and_text_left():
    t = table(['engine', 'p50 ms'], [['ort', 184.0], ['edgeseg-int8', 91.25], ['x', None]]).splitlines()
    assert t[0] == '| engine       | p50 ms |'
    assert t[1] == '|--------------|-------:|'
    assert t[2] == '| ort          | 184.00 |'
    assert t[3] == '| edgeseg-int8 |  91.25 |'
    assert t[4] == '| x            |      — |'
    assert len({len(line) for line in t}) == 1


def test_fmt():
    assert fmt(None) == fmt(float('nan')) == '—'
    assert fmt(1.23456, 3) == '1.235' and fmt(7) == '7' and fmt('a') == 'a'


def test_ratio():
    assert ratio(283.0, 184.0) == 283.0 / 184.0
    assert ratio(None, 1.0) is None and ratio(1.0, None) is None and ratio(1.0, 0.0) is None


def test_nearest_rank_matches_edgeseg_bench():
    v = [float(x) for x in range(10, 0, -1)]     # 10..1, unsorted
    assert nearest_rank(v, 50) == 5 and nearest_rank(v, 90) == 9 and nearest_rank(v, 99) == 10
    assert nearest_rank([3.0], 50) == 3.0 and nearest_rank([], 50) is None


def test_unletterbox_undoes_the_letterbox_like_edgeseg_infer():
    # a 640×480 image letterboxes to 512×384 at top 64; the model mask's rows 64..447 cover it
    m = np.zeros((512, 512), np.uint8)
    m[64:448, :] = 1
    m[64:448, 256:] = 2
    out = unletterbox(m, (0, 64, 512, 384), (640, 480))
    assert out.shape == (480, 640)
    assert set(np.unique(out)) == {1, 2}                  # no pad row sampled
    assert (out[:, :320] == 1).all() and (out[:, 320:] == 2).all()
