"""ONNX export: opset 17, TorchScript exporter (dynamo=False), static 1x3x512x512.

The dynamo exporter forces opset 18 and leaves GGCA's BatchNorm unfolded (spec §2), so the legacy
exporter is used on purpose.
"""
from __future__ import annotations

import torch
import torch.nn as nn

INPUT_NAME, OUTPUT_NAME = 'input', 'output'
SIZE = 512


def export_onnx(model: nn.Module, path: str, size: int = SIZE) -> None:
    model.eval()
    dummy = torch.zeros(1, 3, size, size)
    with torch.no_grad():
        torch.onnx.export(model, (dummy,), path, dynamo=False, opset_version=17,
                          do_constant_folding=True, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME])


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, seed: int = 0, batches: int = 2, size: int = 256) -> None:
    """Give an untrained model realistic BatchNorm statistics (cumulative average over smooth
    random images) so its activations stay in a trained-like range instead of drifting through
    40 layers of identity-BN. Deterministic for a given seed."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for _ in range(batches):
        x = torch.rand(2, 3, size // 8, size // 8, generator=g)
        x = torch.nn.functional.interpolate(x, size=(size, size), mode='bilinear', align_corners=False)
        model(x)
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()


def untrained(name: str, seed: int = 0) -> nn.Module:
    from .configs import build
    torch.manual_seed(seed)
    model = build(name)
    calibrate_batchnorm(model, seed=seed)
    return model
