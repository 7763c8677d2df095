"""Which synthetic seeds are for what. Each purpose owns a band of 1,000,000 seeds so that no image
is ever both trained on and scored, or both calibrated on and scored (the int8 accuracy numbers of
issue #4 would otherwise flatter the quantizer).

train.py draws training images from 0.. and validation from 1,000,000..; make_fixtures.py searches
from 2,000,000..; eval_onnx.py and the quantization evaluation set use 3,000,000..; calibration
images (`make_calib.py`) use 4,000,000.. ."""
from __future__ import annotations

BAND = 1_000_000
BANDS = {'train': 0, 'val': 1_000_000, 'fixtures': 2_000_000, 'eval': 3_000_000, 'calib': 4_000_000}

# Frame sizes cycled by seed (seed % 5), as train.py / eval_onnx.py do: the letterbox pads matter
# to calibration (grey 128 borders are part of the activation ranges the board sees).
SIZES = [(640, 480), (640, 480), (800, 600), (512, 512), (480, 640)]


def band_of(seed: int) -> str | None:
    for name, start in BANDS.items():
        if start <= seed < start + BAND:
            return name
    return None


def check_range(purpose: str, seed0: int, count: int) -> None:
    """Raises ValueError unless seeds seed0 .. seed0+count-1 all lie in the band of `purpose`."""
    start = BANDS[purpose]
    if count < 1 or seed0 < start or seed0 + count > start + BAND:
        raise ValueError(f'{purpose} seeds must lie in [{start:,}, {start + BAND:,}); got {seed0:,}..{seed0 + count - 1:,}'
                         f' (band of {seed0:,}: {band_of(seed0)})')


def frame_size(seed: int) -> tuple[int, int]:
    return SIZES[seed % len(SIZES)]
