import itertools
import math

import pytest

from lwviz.timing import median_ms, times_ms


def fake_clock(durations_s):
    """A clock that advances by each duration in turn between a run's start and its end."""
    ticks = itertools.accumulate(d for step in durations_s for d in (0.0, step))
    return lambda: next(ticks)


def test_median_of_the_counted_runs_only():
    calls = []
    # warm-up runs are not timed; the three timed runs take 4, 1 and 9 ms
    ms = median_ms(lambda: calls.append(1), runs=3, warmup=2, clock=fake_clock([0.004, 0.001, 0.009]))
    assert ms == pytest.approx(4.0) and len(calls) == 5


def test_gives_up_as_soon_as_a_run_is_too_slow():
    calls = []
    clock = fake_clock([0.001, 0.050, 0.001, 0.001])
    assert times_ms(lambda: calls.append(1), runs=4, clock=clock, give_up_above_ms=3.0) == pytest.approx([1.0, 50.0])
    assert len(calls) == 2
    assert median_ms(lambda: None, runs=4, warmup=0, clock=fake_clock([0.001, 0.050]), give_up_above_ms=3.0) == math.inf


@pytest.mark.parametrize("kwargs, field", [(dict(runs=0), "runs"), (dict(warmup=-1), "warmup")])
def test_bad_counts_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}: must be at least"):
        median_ms(lambda: None, **kwargs)
