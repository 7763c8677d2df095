"""Plain-text tables and ratio wording shared by the bench scripts (pure, tested)."""
from __future__ import annotations

import math


def fmt(v, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return '—'
    if isinstance(v, float):
        return f'{v:.{digits}f}'
    return str(v)


def table(header: list[str], rows: list[list], digits: int = 2) -> str:
    """Markdown-style table (readable on a console, pastes into notes). Numbers right-aligned."""
    cells = [[fmt(v, digits) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    numeric = [all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) and rows for i in range(len(header))]

    def line(vals):
        return '| ' + ' | '.join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths))) + ' |'

    sep = '|' + '|'.join(('-' * (w + 1) + ':') if numeric[i] else ('-' * (w + 2)) for i, w in enumerate(widths)) + '|'
    return '\n'.join([line(header), sep] + [line(r) for r in cells])


def ratio(value: float | None, reference: float | None) -> float | None:
    """value / reference, None when either is missing or the reference is not positive."""
    if value is None or reference is None or not reference > 0:
        return None
    return value / reference


def nearest_rank(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile, as `edgeseg bench` computes it, so both engines' p50/p90 mean the same."""
    if not values:
        return None
    s = sorted(values)
    rank = math.ceil(p / 100 * len(s)) - 1
    return s[min(len(s) - 1, max(0, rank))]
