"""bench-peers' run order and summary: ratios against ORT at the same precision and threads, goals."""
import pytest

from peers import MiB, Samples, op_shares, rows, schedule, summarise


def test_schedule_interleaves_engines_within_each_round():
    s = schedule(['A', 'B', 'C', 'D'], [1, 2], 2)
    assert [e for _, _, e in s] == list('ABCD') * 4
    assert [(r, t) for r, t, _ in s[:5]] == [(0, 1)] * 4 + [(0, 2)]
    assert s[-1] == (1, 2, 'D') and len(s) == 16


def samples(lat, rss_mib):
    s = Samples()
    s.add(lat, int(rss_mib * MiB))
    return s


def test_summary_ratios_are_against_ort_at_same_precision_and_threads():
    recs = summarise({
        ('ort-fp32', 1): samples([100.0] * 5, 200), ('ort-int8', 1): samples([50.0] * 5, 180),
        ('edgeseg-fp32', 1): samples([90.0, 95.0, 100.0, 200.0, 80.0], 90),
        ('edgeseg-int8', 1): samples([45.0] * 5, 60),
        ('ort-fp32', 2): samples([60.0] * 5, 210),
        ('edgeseg-fp32', 2): samples([30.0] * 5, 100),
    })
    by = {(r['engine'], r['threads']): r for r in recs}
    assert [(r['engine'], r['threads']) for r in recs][:4] == [('ort-fp32', 1), ('ort-int8', 1), ('edgeseg-fp32', 1), ('edgeseg-int8', 1)]
    e = by[('edgeseg-fp32', 1)]
    assert e['p50_ms'] == 95.0 and e['p90_ms'] == 200.0
    assert e['p50_ratio'] == pytest.approx(0.95) and e['rss_ratio'] == pytest.approx(0.45)
    assert e['goal_met'] is True                                   # FP32 <= 1.0×, RSS <= 0.5×
    i = by[('edgeseg-int8', 1)]
    assert i['p50_ratio'] == pytest.approx(0.9) and i['goal_met'] is False   # int8 must be <= 0.8×
    assert by[('edgeseg-fp32', 2)]['p50_ratio'] == pytest.approx(0.5)      # vs ORT at 2 threads, not 1
    assert 'p50_ratio' not in by[('ort-fp32', 1)]


def test_peak_rss_is_the_largest_of_the_rounds_and_missing_peers_give_no_ratio():
    s = samples([10.0], 100)
    s.add([12.0], int(300 * MiB))
    recs = summarise({('edgeseg-int8', 1): s, ('ort-int8', 1): Samples(error='quantize failed')})
    e = [r for r in recs if r['engine'] == 'edgeseg-int8'][0]
    assert e['peak_rss_mib'] == 300 and e['runs'] == 2
    assert e['p50_ratio'] is None and e['goal_met'] is None


def test_rows_show_errors_and_goals():
    recs = summarise({('ort-fp32', 1): samples([100.0], 200), ('edgeseg-fp32', 1): samples([150.0], 50),
                      ('edgeseg-int8', 1): Samples(error='edgeseg compile --precision int8 failed')})
    r = {x[0]: x for x in rows(recs)}
    assert r['ort-fp32'][-1] == 'peer'
    assert r['edgeseg-fp32'][5] == 1.5 and r['edgeseg-fp32'][-1].startswith('not met')
    assert r['edgeseg-int8'][2] is None and r['edgeseg-int8'][-1].startswith('n/a: edgeseg compile')


def test_op_shares_group_layers_by_op():
    layers = [dict(node='a', op='Quantize', ms=30.0), dict(node='b', op='Conv3x3', ms=50.0),
              dict(node='c', op='Quantize', ms=20.0)]
    assert op_shares(layers) == [('Quantize', 50.0, 0.5), ('Conv3x3', 50.0, 0.5)] or \
        op_shares(layers) == [('Conv3x3', 50.0, 0.5), ('Quantize', 50.0, 0.5)]
    s = op_shares(layers + [dict(node='d', op='Resize', ms=100.0)])
    assert s[0] == ('Resize', 100.0, 0.5) and [op for op, _, _ in s[1:]] in (['Quantize', 'Conv3x3'], ['Conv3x3', 'Quantize'])
    assert op_shares([]) == []
