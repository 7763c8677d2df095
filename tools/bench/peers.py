"""Pure parts of tools/bench-peers: the engines, the interleaved run order, and the summary with
ratios against ONNX Runtime at the same precision and thread count (tested without running anything)."""
from __future__ import annotations

from dataclasses import dataclass, field

from tables import nearest_rank, ratio

MiB = 1024 * 1024


@dataclass(frozen=True)
class Engine:
    name: str
    runtime: str       # 'ort' | 'edgeseg'
    precision: str     # 'fp32' | 'int8'


ENGINES = {e.name: e for e in (Engine('ort-fp32', 'ort', 'fp32'), Engine('ort-int8', 'ort', 'int8'),
                              Engine('edgeseg-fp32', 'edgeseg', 'fp32'), Engine('edgeseg-int8', 'edgeseg', 'int8'))}

# Issue #4 §6: EdgeSeg int8 <= 0.8× ORT int8 latency, FP32 <= 1.0× ORT FP32, peak RSS <= 0.5× ORT's.
LATENCY_GOAL = {'int8': 0.8, 'fp32': 1.0}
RSS_GOAL = 0.5


def schedule(engines: list[str], threads: list[int], rounds: int) -> list[tuple[int, int, str]]:
    """(round, threads, engine) in run order: every engine once per round and thread count before any
    runs again (A B C D A B C D ...), so slow phases of a shared machine hit all engines alike."""
    return [(r, t, e) for r in range(rounds) for t in threads for e in engines]


@dataclass
class Samples:
    """What the rounds of one engine at one thread count measured."""
    latencies_ms: list[float] = field(default_factory=list)
    peak_rss_bytes: list[int] = field(default_factory=list)
    error: str | None = None

    def add(self, latencies_ms: list[float], peak_rss: int) -> None:
        self.latencies_ms += latencies_ms
        self.peak_rss_bytes.append(peak_rss)


def summarise(samples: dict[tuple[str, int], Samples]) -> list[dict]:
    """One record per (engine, threads): p50/p90 over all rounds' runs, the largest peak RSS of its
    processes, and for EdgeSeg the ratios to ORT at the same precision and threads, with the goals."""
    out = []
    for (name, threads), s in samples.items():
        e = ENGINES[name]
        rec = dict(engine=name, runtime=e.runtime, precision=e.precision, threads=threads, runs=len(s.latencies_ms),
                   p50_ms=nearest_rank(s.latencies_ms, 50), p90_ms=nearest_rank(s.latencies_ms, 90),
                   peak_rss_mib=max(s.peak_rss_bytes) / MiB if s.peak_rss_bytes else None, error=s.error)
        peer = samples.get((f'ort-{e.precision}', threads))
        if e.runtime != 'ort' and peer is not None:
            peer_rss = max(peer.peak_rss_bytes) / MiB if peer.peak_rss_bytes else None
            rec['p50_ratio'] = ratio(rec['p50_ms'], nearest_rank(peer.latencies_ms, 50))
            rec['rss_ratio'] = ratio(rec['peak_rss_mib'], peer_rss)
            rec['latency_goal'] = LATENCY_GOAL[e.precision]
            rec['rss_goal'] = RSS_GOAL
            rec['goal_met'] = (None if rec['p50_ratio'] is None or rec['rss_ratio'] is None else
                               rec['p50_ratio'] <= LATENCY_GOAL[e.precision] and rec['rss_ratio'] <= RSS_GOAL)
        out.append(rec)
    order = list(ENGINES)
    return sorted(out, key=lambda r: (r['threads'], order.index(r['engine'])))


HEADER = ['engine', 'threads', 'p50 ms', 'p90 ms', 'peak RSS MiB', 'p50 vs ORT', 'RSS vs ORT', 'goal']


def rows(records: list[dict]) -> list[list]:
    def goal(r):
        if r.get('error'):
            return 'n/a: ' + r['error']
        if 'goal_met' not in r:
            return 'peer' if r['runtime'] == 'ort' else ''
        if r['goal_met'] is None:
            return '—'
        return (f'{"met" if r["goal_met"] else "not met"} (≤{r["latency_goal"]:.1f}× time, ≤{r["rss_goal"]:.1f}× RSS)')
    return [[r['engine'], r['threads'], r['p50_ms'], r['p90_ms'], r['peak_rss_mib'],
             r.get('p50_ratio'), r.get('rss_ratio'), goal(r)] for r in records]


def op_shares(layers: list[dict]) -> list[tuple[str, float, float]]:
    """(op, ms, share of the profiled total) per op type, largest first, from `edgeseg bench --json`'s
    layers: which kind of step the time goes to (e.g. int8 convs vs the quantize steps around them)."""
    by: dict[str, float] = {}
    for layer in layers:
        by[layer['op']] = by.get(layer['op'], 0.0) + layer['ms']
    total = sum(by.values())
    return sorted(((op, ms, ms / total if total > 0 else 0.0) for op, ms in by.items()), key=lambda x: -x[1])
