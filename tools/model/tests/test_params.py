"""Parameter counts pinned to the spec (model-spec.md §1.1). Needs torch; skipped in CI."""
import pytest

torch = pytest.importorskip('torch')

from edgeseg_model.configs import EXPECTED_PARAMS, build, count_params  # noqa: E402


@pytest.mark.parametrize('name', sorted(EXPECTED_PARAMS))
def test_param_count_matches_spec(name):
    assert count_params(build(name)) == EXPECTED_PARAMS[name]


def test_final_breakdown():
    m = build('final')
    c = lambda mod: sum(p.numel() for p in mod.parameters())  # noqa: E731
    ggca = sum(c(b.conv[6]) for b in m.backbone.features[1:] if len(b.conv) == 9)
    assert ggca == 29_247
    assert c(m.backbone) - ggca == 1_811_712
    assert c(m.sf) == 6_690
    assert sum(c(getattr(m.aspp, f'branch{k}')) for k in (2, 3, 4)) == 8_708_544
    assert sum(c(getattr(m.aspp, f'gate{k}')) for k in (2, 3, 4)) == 25_392
    assert c(m.shortcut_conv) + c(m.cat_conv) + c(m.cls_conv) == 1_295_379


def test_ggca_placement_final_rule():
    m = build('final')
    on = [i for i, b in enumerate(m.backbone.features) if i > 0 and len(b.conv) == 9]
    assert on == [11, 12, 13, 15, 16, 17]


def test_pruned_has_ragged_widths_and_runs():
    m = build('pruned').eval()
    convs = [mod for mod in m.modules() if isinstance(mod, torch.nn.Conv2d)]
    ragged = {mod.out_channels for mod in convs if mod.out_channels % 8}
    assert {100, 30, 76, 60, 92, 436, 644, 44, 20} <= ragged
    with torch.no_grad():
        y = m(torch.zeros(1, 3, 64, 64))
    assert y.shape == (1, 3, 64, 64)


def test_output_stride_16_shapes():
    m = build('final').eval()
    x = torch.zeros(1, 3, 128, 128)
    f = m.backbone.features
    with torch.no_grad():
        f1 = f[:4](x)
        f2 = f[4:7](f1)
        deep = f[7:](f2)
    assert f1.shape[1:] == (24, 32, 32) and f2.shape[1:] == (32, 16, 16) and deep.shape[1:] == (320, 8, 8)
