"""The one timer the benchmark scripts share (they run as ``python benchmarks/<script>.py``)."""
from __future__ import annotations

import statistics
import time


def median_ms(fn, repeats: int, warmup: int = 0) -> float:
    """Median wall time of ``fn()`` in milliseconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)
