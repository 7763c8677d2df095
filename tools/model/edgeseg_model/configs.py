"""Named model configurations. Parameter counts are pinned by tests/test_params.py."""
from __future__ import annotations

from .nets import DeepLab

# bubbliiiing MobileNetV2 DeepLabV3+ (standard dilated ASPP, align_corners=True), spec table "5.81".
BASELINE = dict(ggca=None, shallow_fusion=None, aspp='standard', aspp_out=256, shortcut=48,
                decoder=(256, 256), align_corners=True)

# V10, the last code in the seed log (spec §1.1, §1.3): GGCA + SF(24,32,24,56) + AG_ASPP_MViT(256).
FINAL = dict(ggca='final',
             shallow_fusion=dict(in_channels1=24, in_channels2=32, reduced_channels=24,
                                 out_channels=56, dropout=0.2),
             aspp='mvit', aspp_out=256,
             mvit=dict(patch_size=(2, 2), mvit_depth=1, mvit_dim=96, mvit_mlp_dim=192, mvit_heads=2,
                       mvit_dropout=0.0, use_groupnorm=True),
             shortcut=48, decoder=(256, 256), align_corners=False)

# Board config: the same graph with structured width reduction where the cost is (spec §4):
# decoder 3x3 convs (64% of MACs), MViT local 3x3 convs (69% of params), ASPP width, and the
# expansion of the GGCA blocks. Widths are deliberately NOT multiples of 8 (as L1-norm channel
# pruning leaves them) so the runtime's kernels must handle ragged channel tails; the GGCA
# hidden widths stay divisible by its 4 groups.
PRUNED = dict(ggca='final',
              hidden={12: 436, 13: 436, 15: 644, 16: 644, 17: 644},
              shallow_fusion=dict(in_channels1=24, in_channels2=32, reduced_channels=20,
                                  out_channels=44, dropout=0.2),
              aspp='mvit', aspp_out=100,
              mvit=dict(patch_size=(2, 2), mvit_depth=1, mvit_dim=60, mvit_mlp_dim=116, mvit_heads=2,
                        mvit_dropout=0.0, use_groupnorm=True, mvit_mid=92, mvit_out=100),
              shortcut=30, decoder=(76, 60), align_corners=False)

CONFIGS = {'baseline': BASELINE, 'final': FINAL, 'pruned': PRUNED}

EXPECTED_PARAMS = {'baseline': 5_813_523, 'final': 12_616_548}


def build(name: str, num_classes: int = 3, downsample_factor: int = 16) -> DeepLab:
    return DeepLab(num_classes=num_classes, downsample_factor=downsample_factor, **CONFIGS[name])


def count_params(model) -> int:
    return sum(p.numel() for p in model.parameters())
