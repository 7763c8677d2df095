"""MAC counting at a given input size (torch.utils.flop_counter: conv, matmul, linear)."""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode


def gmacs(model, size: int = 512) -> float:
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(torch.zeros(1, 3, size, size))
    return fc.get_total_flops() / 2 / 1e9
