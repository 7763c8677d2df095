#!/usr/bin/env python3
"""Print params and GMAC at 512x512 for every config (the README table)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from edgeseg_model.configs import CONFIGS, build, count_params  # noqa: E402
from edgeseg_model.flops import gmacs  # noqa: E402

torch.set_num_threads(2)
print('| config | params | GMAC @512 |')
for name in CONFIGS:
    m = build(name)
    print(f'| {name} | {count_params(m):,} | {gmacs(m):.2f} |')
