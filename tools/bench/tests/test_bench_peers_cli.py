"""tools/bench-peers end to end on a tiny ONNX model: real ORT worker processes (FP32 and the QDQ
int8 it quantizes), interleaved rounds, per-process VmHWM, an EdgeSeg engine that cannot run."""
import json
import os
import subprocess
import sys

import pytest

from make_calib import write_set
from test_quant_accuracy import B, W, tiny_model

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'bench-peers')


def test_ort_engines_measured_in_their_own_processes(tmp_path):
    model = tiny_model(str(tmp_path / 'tiny.onnx'), W, B)
    write_set(str(tmp_path / 'calib'), 2, 4_000_000, size=(40, 30))
    out = tmp_path / 'r.json'
    r = subprocess.run([sys.executable, SCRIPT, model, '--calib', str(tmp_path / 'calib'), '--out', str(tmp_path / 'o'),
                        '--engines', 'ort-fp32,ort-int8,edgeseg-fp32', '--edgeseg', str(tmp_path / 'no-such-edgeseg'),
                        '--threads', '1', '--rounds', '2', '--runs', '2', '--json', str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    res = json.load(open(out))
    by = {x['engine']: x for x in res['results']}
    for e in ('ort-fp32', 'ort-int8'):
        assert by[e]['runs'] == 4 and by[e]['p50_ms'] > 0 and by[e]['error'] is None
        assert by[e]['peak_rss_mib'] > res['ort_process_baseline_mib'] > 10      # a session costs more than the imports
    assert 'no-such-edgeseg' in by['edgeseg-fp32']['error'] and by['edgeseg-fp32']['p50_ms'] is None
    assert res['models']['ort-int8'].endswith('.onnx') and os.path.exists(res['models']['ort-int8'])
    assert '| ort-int8     |       1 |' in r.stdout and 'n/a: no ' in r.stdout


EDGESEG = os.environ.get('EDGESEG', '')


@pytest.mark.skipif(not os.path.exists(EDGESEG), reason='set EDGESEG to an edgeseg binary (tools/ci.d/bench.sh does)')
def test_all_four_engines_with_a_real_edgeseg(tmp_path):
    model = tiny_model(str(tmp_path / 'tiny.onnx'), W, B)
    write_set(str(tmp_path / 'calib'), 2, 4_000_000, size=(40, 30))
    out = tmp_path / 'r.json'
    r = subprocess.run([sys.executable, SCRIPT, model, '--calib', str(tmp_path / 'calib'), '--out', str(tmp_path / 'o'),
                        '--edgeseg', EDGESEG, '--threads', '1', '--rounds', '1', '--runs', '2', '--json', str(out),
                        '--int8-min-macs', '0'],   # the tiny model's convs are far below the default
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    res = json.load(open(out))
    by = {x['engine']: x for x in res['results']}
    assert all(x['error'] is None and x['runs'] == 2 for x in by.values()), res['results']
    assert by['edgeseg-int8']['p50_ratio'] > 0 and by['edgeseg-fp32']['rss_ratio'] > 0
    assert res['models']['edgeseg-int8'].endswith('.edgeseg') and 'edgeseg-int8@1' in res['edgeseg_layers']
    assert 'edgeseg-int8 threads 1, time by op: ' in r.stdout and 'Quantize' in r.stdout
