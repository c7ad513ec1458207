"""Analytic cost model vs torch's FlopCounterMode on mobilenet_v2 at 224 (issue target: <= 5 ms, >= 20x faster).

Run: python benchmarks/cost_speed.py [--repeats N]
The analytic timing starts from the spec every time (plan cache cleared), so it includes
validation, resolution and every per-layer row; the traced timing counts a forward pass
of the already built model under FlopCounterMode.
"""

from __future__ import annotations

import argparse
from functools import partial

import torch

from lwviz.builder import build
from lwviz.cost import analyze
from lwviz.cost.tracer import flop_counter_macs
from lwviz.plan import resolve
from lwviz.presets import get_preset
from lwviz.timing import median_ms


def analytic(spec):
    resolve.cache_clear()
    return analyze(spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mobilenet_v2")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    spec = get_preset(args.preset)
    model = build(spec).eval()
    table = analytic(spec)
    assert flop_counter_macs(model) == table.macs  # same numbers, or the race means nothing
    for _ in range(3):  # warm-up
        analytic(spec), flop_counter_macs(model)
    a = median_ms(partial(analytic, spec), args.repeats)
    t = median_ms(partial(flop_counter_macs, model), args.repeats)
    print(
        f"{args.preset}: {len(table.layers)} layers, {len(table.ops)} ops, {table.macs / 1e6:.1f}M MACs "
        f"(both methods agree), torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"analytic (lwviz.cost.analyze)     median {a:7.2f} ms")
    print(f"traced (torch FlopCounterMode)    median {t:7.2f} ms")
    print(f"analytic is {t / a:.1f}x faster")


if __name__ == "__main__":
    main()
