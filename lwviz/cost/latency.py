"""Measured CPU latency of every op and layer: FLOPs are not latency.

MACs count arithmetic; time also pays for moving data. A depthwise KxK conv does K*K
multiply-accumulates per output value, a 1x1 conv does C_in of them, so per byte moved
the depthwise conv does little arithmetic, runs far below the CPU's peak, and takes a
larger share of the time than of the MACs. This module measures that on the machine
the app runs on.

How: forward-pre-hooks and forward hooks read the clock around every op and layer
while whole forward passes run (batch 1, eval mode, ``torch.inference_mode``), and the
median over ``runs`` passes is kept. Each module is timed where it really runs, right
after the module that wrote its input, with the caches as that module left them.
Timing a module alone on a saved copy of its input changes exactly that, and with it
the time of memory-bound ops, by a lot for the depthwise convolutions (docs/BENCHMARKS.md,
FLOPs are not latency). Layers (stem, stages.i.j, head, classifier) are timed the same way,
so they add up to a forward pass and include what their ops leave out.

Ops are the modules the analytic ``OpCost.name``s point to: conv + BN + activation
units, FC layers, SE modules and pools. An op that is not a module call of its own (a
residual add through ``FloatFunctional.add``, a ShuffleNetV1 merge) has no row; its
time is inside its layer's.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from lwviz.builder import Net, build
from lwviz.cost.analytic import analyze
from lwviz.families import OP_KINDS
from lwviz.hooks import eval_mode, forward_hooks
from lwviz.perf import num_threads
from lwviz.spec import Spec

TimingProgress = Callable[[int, int], None]  # (forward passes done, passes in all)


@dataclass(frozen=True)
class Latency:
    """One op or layer: its analytic MACs beside its measured median time."""

    name: str  # module path, as in the CostTable
    kind: str  # op kind (one of OP_KINDS) for an op, block family for a layer
    macs: int  # from the analytic CostTable
    ms: float  # median wall time of the module inside a forward pass, batch 1

    @property
    def ms_per_gmac(self) -> float | None:
        """Milliseconds per billion MACs: what one unit of arithmetic costs in time (None without MACs)."""
        return self.ms / self.macs * 1e9 if self.macs else None


@dataclass(frozen=True)
class LatencyReport:
    """Per-op and per-layer latency of one network; build it with :func:`time_layers`."""

    spec: Spec
    ops: tuple[Latency, ...]
    layers: tuple[Latency, ...]
    threads: int
    runs: int  # timed passes made
    seconds: float  # wall time the whole measurement took, building the model included
    asked: int = 0  # timed passes asked for: more than ``runs`` when the time allowed ran out

    @property
    def ms(self) -> float:
        """Sum of the layer medians: one forward pass."""
        return sum(layer.ms for layer in self.layers)

    def average(self) -> Latency:
        """The ops that have MACs, summed: its ``ms_per_gmac`` is what a MAC costs on average."""
        with_macs = [o for o in self.ops if o.macs]
        return Latency("network average", "average", sum(o.macs for o in with_macs), sum(o.ms for o in with_macs))

    def by_kind(self) -> dict[str, Latency]:
        """MACs and time of the measured ops summed per op kind (in ``OP_KINDS`` order, present kinds only)."""
        return {
            k: Latency(k, k, sum(o.macs for o in ops), sum(o.ms for o in ops))
            for k in OP_KINDS
            if (ops := [o for o in self.ops if o.kind == k])
        }

    def shares(self) -> dict[str, dict[str, float]]:
        """Fraction of the MACs and of the measured op time that each op kind accounts for."""
        kinds = self.by_kind().values()
        macs, ms = sum(k.macs for k in kinds) or 1, sum(k.ms for k in kinds) or 1.0
        return {"macs": {k.name: k.macs / macs for k in kinds}, "time": {k.name: k.ms / ms for k in kinds}}

    def to_frame(self):
        """One row per measured op as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "op": o.name,
                    "kind": o.kind,
                    "MACs": o.macs,
                    "ms": round(o.ms, 4),
                    "ms per GMAC": None if o.ms_per_gmac is None else round(o.ms_per_gmac, 1),
                }
                for o in self.ops
            ]
        )


def time_layers(
    source: Spec | Net,
    *,
    runs: int = 5,
    warmup: int = 1,
    threads: int | None = None,
    progress: TimingProgress | None = None,
    seed: int = 0,
    max_seconds: float | None = None,
) -> LatencyReport:
    """Time every op and layer of a network on this CPU.

    A ``Spec`` is built into a private model, so nothing shared is touched; a ``Net``
    gets temporary hooks (removed before return, also on error) and gets its training
    mode back, so do not pass one that other threads are running. ``threads`` sets
    torch's intra-op thread count for the measurement (process-wide) and restores it. With
    ``max_seconds`` the timed passes end once that long has gone by (at least one is made), so
    a big design holds the CPU for a bounded time; the report says how many were made.
    """
    start = time.perf_counter()
    model = build(source) if isinstance(source, Spec) else source
    table = analyze(model.plan)
    stem = model.plan.layers[0]
    x = torch.randn(1, stem.in_chs, stem.in_size, stem.in_size, generator=torch.Generator().manual_seed(seed))
    modules = dict(model.named_modules())
    names = [n for n in [o.name for o in table.ops] + [layer.name for layer in table.layers] if n in modules]
    with num_threads(threads) as used:
        samples, made = sample_modules(model, (x,), names, runs, warmup, progress, max_seconds)
    ms = medians_ms(samples)
    return LatencyReport(
        spec=table.spec,
        ops=tuple(Latency(o.name, o.kind, o.macs, ms[o.name]) for o in table.ops if o.name in ms),
        layers=tuple(Latency(layer.name, layer.block, layer.macs, ms[layer.name]) for layer in table.layers),
        threads=used,
        runs=made,
        seconds=time.perf_counter() - start,
        asked=runs,
    )


def time_modules(
    model: nn.Module,
    inputs: tuple,
    names: Sequence[str],
    *,
    runs: int = 5,
    warmup: int = 1,
    progress: TimingProgress | None = None,
) -> dict[str, float]:
    """Median milliseconds each named submodule takes inside whole forward passes ``model(*inputs)``.

    A module that did not run is left out; one that runs several times per pass gives
    one sample per call. ``progress(done, total)`` is called after each of the
    ``warmup + runs`` passes. The model is in eval mode while it runs and gets its
    training mode back; the hooks are removed, also on error.
    """
    return medians_ms(sample_modules(model, inputs, names, runs, warmup, progress)[0])


@torch.inference_mode()
def sample_modules(
    model: nn.Module,
    inputs: tuple,
    names: Sequence[str],
    runs: int,
    warmup: int,
    progress: TimingProgress | None = None,
    max_seconds: float | None = None,
) -> tuple[dict[str, list[float]], int]:
    """Every timed call's seconds per named submodule, and the number of timed passes made (see
    :func:`time_modules`); the timed passes end early once ``max_seconds`` have gone by."""
    _at_least("runs", runs, 1)
    _at_least("warmup", warmup, 0)
    modules = {n: model.get_submodule(n) for n in dict.fromkeys(names)}
    started: dict[str, float] = {}
    times: dict[str, list[float]] = {}

    def start(name, *_):
        started[name] = time.perf_counter()

    def stop(name, *_):
        times.setdefault(name, []).append(time.perf_counter() - started[name])

    hooks = forward_hooks(
        pre=[(m, partial(start, n)) for n, m in modules.items()],
        post=[(m, partial(stop, n)) for n, m in modules.items()],
    )
    timed = 0
    with eval_mode(model), hooks:
        for done in range(1, warmup + runs + 1):
            if done == warmup + 1:
                times.clear()  # the warm-up passes do not count
                timing_since = time.perf_counter()
            model(*inputs)
            timed = max(0, done - warmup)
            if progress is not None:
                progress(done, warmup + runs)
            if timed and max_seconds is not None and time.perf_counter() - timing_since > max_seconds:
                break
    return times, timed


def medians_ms(samples: dict[str, list[float]]) -> dict[str, float]:
    return {n: statistics.median(t) * 1e3 for n, t in samples.items()}


def _at_least(field: str, value: int, lowest: int) -> None:
    if value < lowest:
        raise ValueError(f"{field}: must be at least {lowest}, got {value}")
