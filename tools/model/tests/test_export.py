"""ONNX export of the pruned config loads in onnxruntime and matches PyTorch (needs torch)."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
ort = pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')

from edgeseg_model.export import export_onnx, untrained  # noqa: E402


def test_pruned_export_matches_torch(tmp_path):
    torch.set_num_threads(2)
    model = untrained('pruned', seed=3)
    path = str(tmp_path / 'pruned.onnx')
    export_onnx(model, path)
    m = onnx.load(path)
    assert [(o.domain, o.version) for o in m.opset_import] == [('', 17)]
    assert 'BatchNormalization' not in {n.op_type for n in m.graph.node}
    x = np.random.default_rng(0).random((1, 3, 512, 512), dtype=np.float32)
    y = ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(['output'], {'input': x})[0]
    with torch.no_grad():
        t = model(torch.from_numpy(x)).numpy()
    assert y.shape == (1, 3, 512, 512)
    np.testing.assert_allclose(y, t, rtol=0, atol=2e-3 * max(1.0, float(np.abs(t).max())))
