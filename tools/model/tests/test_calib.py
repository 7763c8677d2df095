"""make_calib.py: calibration / evaluation sets from disjoint seed bands, deterministic files."""
import os
import re

import numpy as np
import pytest
from PIL import Image

from edgeseg_model.seeds import BAND, BANDS, band_of, check_range
from make_calib import main, write_set

MODEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_bands_match_the_scripts_that_draw_seeds():
    src = open(os.path.join(MODEL_DIR, 'train.py')).read()
    train0, val0 = (int(v.replace('_', '')) for v in re.search(r'TRAIN_SEED0, VAL_SEED0 = ([\d_]+), ([\d_]+)', src).groups())
    assert (train0, val0) == (BANDS['train'], BANDS['val'])
    assert re.search(r"'--seed0', type=int, default=([\d_]+)", open(os.path.join(MODEL_DIR, 'eval_onnx.py')).read()
                     ).group(1).replace('_', '') == str(BANDS['eval'])
    assert "(2_000_000, 'rope-0')" in open(os.path.join(MODEL_DIR, 'make_fixtures.py')).read()
    starts = sorted(BANDS.values())
    assert all(b - a >= BAND for a, b in zip(starts, starts[1:]))          # disjoint


def test_ranges_outside_their_band_are_refused():
    check_range('calib', BANDS['calib'], 32)
    with pytest.raises(ValueError, match='calib seeds'):
        check_range('calib', BANDS['eval'], 8)                          # calibrating on the evaluation images
    with pytest.raises(ValueError):
        check_range('eval', BANDS['eval'] + BAND - 2, 5)                # runs into the calibration band
    with pytest.raises(ValueError):
        write_set('/nonexistent', 4, 0, labels=True)                    # scoring training images
    assert band_of(4_000_123) == 'calib' and band_of(10**9) is None


def test_eval_set_has_matching_masks_and_is_deterministic(tmp_path):
    paths = write_set(str(tmp_path / 'a'), 2, BANDS['eval'], labels=True, size=(48, 32))
    write_set(str(tmp_path / 'b'), 2, BANDS['eval'], labels=True, size=(48, 32))
    assert [os.path.basename(p) for p in paths] == ['3000000.png', '3000001.png']
    for p in paths:
        img, mask = Image.open(p), Image.open(os.path.join(os.path.dirname(p), 'masks', os.path.basename(p)))
        assert img.mode == 'RGB' and mask.mode == 'L' and img.size == mask.size == (48, 32)
        assert set(np.unique(np.asarray(mask))) <= {0, 1, 2}
        assert open(p, 'rb').read() == open(str(tmp_path / 'b' / os.path.basename(p)), 'rb').read()


def test_cli_calibration_set_holds_only_images(tmp_path, capsys):
    main([str(tmp_path), '--count', '2', '--size', '40x30'])
    assert sorted(os.listdir(tmp_path)) == ['4000000.png', '4000001.png']   # nothing else for --calib to trip on
    with pytest.raises(SystemExit):
        main([str(tmp_path / 'x'), '--labels', '--seed', str(BANDS['calib'])])
