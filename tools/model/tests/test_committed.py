"""Checks on the committed artefacts under models/ (ONNX files, parity fixtures, demo clip).

Needs numpy, Pillow, onnx and onnxruntime, not torch: this is what CI runs. ORT on the CI machine
may differ from the machine that wrote the fixtures in the last bits, so logits are compared with a
tolerance here; `make_fixtures.py --check` is the bit-exact check on the generating machine.
"""
import hashlib
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from edgeseg_model.preprocess import to_tensor

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODELS = os.path.join(REPO, 'models')
FIX = os.path.join(MODELS, 'fixtures')


def manifest():
    with open(os.path.join(FIX, 'manifest.json')) as f:
        return json.load(f)


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_sizes_within_budget():
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(MODELS) for f in fs)
    fix = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(FIX) for f in fs)
    assert fix <= 3 * 1024 * 1024
    assert os.path.getsize(os.path.join(MODELS, 'demo-clip.mjpeg')) <= 2 * 1024 * 1024
    assert total <= 70 * 1024 * 1024


@pytest.mark.parametrize('name', ['demo.onnx', 'final-untrained.onnx'])
def test_onnx_contract(name):
    onnx = pytest.importorskip('onnx')
    m = onnx.load(os.path.join(MODELS, name))
    onnx.checker.check_model(m)
    assert [(o.domain, o.version) for o in m.opset_import] == [('', 17)]
    dims = lambda v: [d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    assert [(i.name, dims(i)) for i in m.graph.input] == [('input', [1, 3, 512, 512])]
    assert [(o.name, dims(o)) for o in m.graph.output] == [('output', [1, 3, 512, 512])]
    ops = {n.op_type for n in m.graph.node}
    assert 'BatchNormalization' not in ops           # folded by the exporter
    assert {'Conv', 'LayerNormalization', 'MatMul', 'Softmax', 'Resize', 'InstanceNormalization'} <= ops


def test_fixture_files_match_manifest():
    man = manifest()
    for m in man['models']:
        assert sha256(os.path.join(MODELS, m['file'])) == m['sha256'], 'fixtures are stale for ' + m['file']
    for im in man['images']:
        rgb = np.asarray(Image.open(os.path.join(FIX, im['png'])).convert('RGB'))
        assert rgb.shape == (512, 512, 3)
        x = to_tensor(rgb)
        assert hashlib.sha256(x.astype('<f4').tobytes()).hexdigest() == im['input_f32_sha256']
        mask = np.asarray(Image.open(os.path.join(FIX, im['mask_png'])))
        assert np.bincount(mask.ravel(), minlength=3).tolist() == im['mask_counts']
    for o in man['outputs']:
        with open(os.path.join(FIX, o['sidecar'])) as f:
            side = json.load(f)
        raw = np.fromfile(os.path.join(FIX, o['logits']), '<f4').reshape(side['stored_shape'])
        assert side['stored_shape'] == [3, 128, 128] and side['stride'] == 4
        assert raw.min() == np.float32(side['min']) and raw.max() == np.float32(side['max'])
        am = np.asarray(Image.open(os.path.join(FIX, o['argmax'])))
        assert am.shape == (512, 512)
        # the stored subsample agrees with the full-resolution argmax where it was sampled
        assert (raw.argmax(0) == am[::4, ::4]).mean() > 0.999


@pytest.fixture(scope='module')
def ort_outputs():
    ort = pytest.importorskip('onnxruntime')
    man = manifest()
    out = {}
    for m in man['models']:
        sess = ort.InferenceSession(os.path.join(MODELS, m['file']), providers=['CPUExecutionProvider'])
        for im in man['images']:
            x = to_tensor(np.asarray(Image.open(os.path.join(FIX, im['png'])).convert('RGB')))
            out[(m['name'], im['name'])] = sess.run(['output'], {'input': x})[0]
    return out


def test_onnxruntime_reproduces_fixtures(ort_outputs):
    for o in manifest()['outputs']:
        with open(os.path.join(FIX, o['sidecar'])) as f:
            side = json.load(f)
        ref = np.fromfile(os.path.join(FIX, o['logits']), '<f4').reshape(side['stored_shape'])
        y = ort_outputs[(o['model'], o['image'])][0]
        scale = max(1.0, float(np.abs(ref).max()))
        np.testing.assert_allclose(y[:, ::4, ::4], ref, rtol=0, atol=1e-4 * scale)
        am = np.asarray(Image.open(os.path.join(FIX, o['argmax'])))
        assert (y.argmax(0) == am).mean() > 0.999


def test_demo_model_segments_fixture_images(ort_outputs):
    """The trained demo model finds the defects in the (held-out) fixture images."""
    man = manifest()
    ious = []
    for im in man['images']:
        gt = np.asarray(Image.open(os.path.join(FIX, im['mask_png']))).astype(np.int64)
        pred = ort_outputs[('demo', im['name'])][0].argmax(0)
        for c in (1, 2):
            inter = ((pred == c) & (gt == c)).sum()
            union = ((pred == c) | (gt == c)).sum()
            ious.append(inter / max(union, 1))
    assert np.mean(ious) > 0.3, ious


def test_demo_clip_frames():
    with open(os.path.join(MODELS, 'demo-clip.json')) as f:
        meta = json.load(f)
    with open(os.path.join(MODELS, 'demo-clip.mjpeg'), 'rb') as f:
        blob = f.read()
    frames = meta['frame_list']
    assert len(frames) == meta['frames'] >= 40
    end = 0
    for fr in frames:
        assert fr['offset'] == end
        data = blob[fr['offset']:fr['offset'] + fr['length']]
        assert data[:2] == b'\xff\xd8' and data[-2:] == b'\xff\xd9'
        assert Image.open(io.BytesIO(data)).size == (meta['width'], meta['height'])
        end += fr['length']
    assert end == len(blob)
    # alarms must both rise and clear: defect-free frames between defect runs
    has = [bool(fr['truth']) for fr in frames]
    rises = sum(1 for a, b in zip(has, has[1:]) if b and not a)
    clears = sum(1 for a, b in zip(has, has[1:]) if a and not b)
    assert rises >= 3 and clears >= 3


def test_final_graph_matches_spec_op_counts():
    """model-spec.md §2, column 'legacy op17 raw' (the runtime's importer is written against it)."""
    onnx = pytest.importorskip('onnx')
    from collections import Counter
    m = onnx.load(os.path.join(MODELS, 'final-untrained.onnx'), load_external_data=False)
    ops = Counter(n.op_type for n in m.graph.node)
    spec = dict(Conv=134, BatchNormalization=0, Clip=34, Relu=38, Sigmoid=32, Mul=45, Add=42, Concat=11,
                ReduceMean=13, ReduceMax=13, GlobalAveragePool=5, MaxPool=1, Resize=4, MatMul=18, Gemm=6,
                Softmax=3, LayerNormalization=6, InstanceNormalization=1, Reshape=62, Transpose=18, Slice=13,
                Shape=8, Gather=3, Identity=46)
    assert {k: ops.get(k, 0) for k in spec} == spec
    params = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
    assert params > 12_000_000
