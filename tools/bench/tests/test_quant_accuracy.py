"""quant_accuracy.py end to end on a tiny 3-class ONNX model run by ONNX Runtime (real files, real
sessions, real QDQ quantization): agreement, IoU against ground truth masks, --check exit codes."""
import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import quant_accuracy
from make_calib import write_set
from ortbench import quantize_qdq


def tiny_model(path, weights, bias):
    """1×3×32×32 -> 1×3×32×32 logits: a 1×1 conv (class scores from colour) after a 3×3 blur."""
    blur = np.full((3, 1, 3, 3), 1 / 9, np.float32)
    nodes = [helper.make_node('Conv', ['input', 'blur'], ['b'], group=3, pads=[1, 1, 1, 1]),
             helper.make_node('Conv', ['b', 'w', 'bias'], ['output'])]
    inits = [numpy_helper.from_array(blur, 'blur'), numpy_helper.from_array(weights.astype(np.float32), 'w'),
             numpy_helper.from_array(bias.astype(np.float32), 'bias')]
    g = helper.make_graph(nodes, 'tiny', [helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info('output', TensorProto.FLOAT, [1, 3, 32, 32])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


# background unless reddish (class 1: r - g) or bright (class 2: mean above ~0.68): all three classes occur
W = np.array([[0.0, 0.0, 0.0], [2.0, -2.0, 0.0], [1.0, 1.0, 1.0]]).reshape(3, 3, 1, 1)
B = np.array([0.05, 0.0, -2.0])


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp('qa')
    write_set(str(d / 'eval'), 3, 3_000_000, labels=True, size=(40, 30))
    write_set(str(d / 'calib'), 2, 4_000_000, size=(40, 30))
    fp32 = tiny_model(str(d / 'fp32.onnx'), W, B)
    other = tiny_model(str(d / 'other.onnx'), W[[2, 1, 0]], B[[2, 1, 0]])   # background and broken swapped
    int8 = quantize_qdq(fp32, str(d / 'calib'), str(d / 'cache'), log=lambda *_: None)
    return d, fp32, other, int8


def run(capsys, *args):
    code = quant_accuracy.main(list(args))
    return code, capsys.readouterr().out


def test_identical_model_passes_check_and_scores_are_consistent(data, capsys):
    d, fp32, _, int8 = data
    code, out = run(capsys, '--models', f'ort:{fp32}', f'int8=ort:{fp32}', f'ort:{int8}', '--images', str(d / 'eval'),
                    '--json', str(d / 'r.json'), '--threads', '1', '--check')
    r = json.load(open(d / 'r.json'))
    ref, same, q = r['models']
    assert same['agreement'] == 1.0 and same['miou_drop_points'] == 0.0 and same['confusion'] == ref['confusion']
    assert sum(map(sum, ref['confusion'])) == 3 * 40 * 30          # every image pixel, at image size
    assert q['precision'] == 'int8' and 0.5 < q['agreement'] <= 1.0   # the real QDQ model runs and mostly agrees
    assert 'agreement %' in out and '(reference)' in out
    assert code == (1 if r['failures'] else 0)
    assert not [f for f in r['failures'] if f.startswith('int8 ')]


def test_a_different_model_fails_check(data, capsys):
    d, fp32, other, _ = data
    code, out = run(capsys, '--models', f'ort:{fp32}', f'int8=ort:{other}', '--images', str(d / 'eval'), '--check')
    assert code == 1 and 'FAIL int8 (int8): argmax agreement' in out and 'check: FAILED' in out
    code, _ = run(capsys, '--models', f'ort:{fp32}', f'int8=ort:{other}', '--images', str(d / 'eval'))
    assert code == 0                                                 # without --check it only reports
