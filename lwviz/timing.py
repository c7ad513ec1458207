"""One median timer for the library and the benchmarks.

Machines are shared and noisy, so every figure we show or print is the median of several runs
after warm-up runs that do not count (the first call sets kernels and caches up). The clock is a
parameter so tests can hand a fake one.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

from lwviz.i18n import Translate, english


def times_ms(
    call: Callable[[], object],
    runs: int,
    warmup: int = 0,
    clock: Callable[[], float] = time.perf_counter,
    give_up_above_ms: float = math.inf,
) -> list[float]:
    """Milliseconds of each of ``runs`` calls of ``call()`` after ``warmup`` uncounted ones.

    Stops early, with the runs so far, once a run takes longer than ``give_up_above_ms``: a caller
    looking for the fastest of several ways need not wait for a slow one to finish its runs.
    """
    if runs < 1:
        raise ValueError(f"runs: must be at least 1, got {runs}")
    if warmup < 0:
        raise ValueError(f"warmup: must be at least 0, got {warmup}")
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = clock()
        call()
        times.append((clock() - start) * 1e3)
        if times[-1] > give_up_above_ms:
            break
    return times


def median_ms(
    call: Callable[[], object],
    runs: int = 5,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
    give_up_above_ms: float = math.inf,
) -> float:
    """Median milliseconds of ``call()`` over ``runs`` runs after ``warmup`` runs; infinity if it gave up."""
    times = times_ms(call, runs, warmup, clock, give_up_above_ms)
    return math.inf if times[-1] > give_up_above_ms else statistics.median(times)


def thread_words(threads: int, _: Translate = english) -> str:
    """How many threads a measurement ran on, in words ("1 thread", "2 threads") in ``_``'s language."""
    return _("1 thread") if threads == 1 else _("{n} threads", n=threads)
