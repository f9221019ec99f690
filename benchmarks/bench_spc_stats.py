"""Time the statistics engine on large charts (target: under 50 ms each).

Run: .venv/bin/python benchmarks/bench_spc_stats.py
Each figure is the median of several runs after a warm-up run (which also fills the
control-chart constant cache).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from traveler.spc.stats import analyze  # noqa: E402

RUNS = 15


def bench(label: str, **kwargs: object) -> float:
    analyze(**kwargs)  # warm-up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        analyze(**kwargs)
        times.append(time.perf_counter() - start)
    median_ms = statistics.median(times) * 1000
    print(f"{label}: median {median_ms:.1f} ms over {RUNS} runs (min {min(times) * 1000:.1f} ms)")
    return median_ms


def main() -> None:
    rng = np.random.default_rng(2024)
    subgroups = rng.normal(10.0, 0.5, size=(20_000, 5))
    individuals = rng.normal(10.0, 0.5, size=100_000)
    specs = {"lsl": 8.0, "usl": 12.0, "target": 10.0}
    bench(
        "X-bar/R, 20,000 subgroups of 5, 8 Nelson rules + capability",
        chart_type="xbar_r",
        data=subgroups,
        rules="nelson",
        **specs,
    )
    bench(
        "I-MR, 100,000 points, 8 Nelson rules + capability", chart_type="imr", data=individuals, rules="nelson", **specs
    )


if __name__ == "__main__":
    main()
