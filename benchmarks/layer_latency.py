"""FLOPs are not latency: share of MACs vs share of measured time per op kind, mobilenet_v2 at 224.

Run: python benchmarks/layer_latency.py [--preset NAME] [--runs N] [--repeats N] [--threads 1 2]
For each thread count the whole per-op measurement (``lwviz.cost.latency.time_layers``)
is repeated ``--repeats`` times; every figure printed is the median over those repeats
of a measurement that itself keeps each op's median over ``--runs`` forward passes. The
peer is a plain forward pass of the same model without hooks, timed in the same run: the
sum of the layer medians should match it, or the hooks are distorting what they measure.
"""

from __future__ import annotations

import argparse
from functools import partial
from statistics import median

import torch

from lwviz.builder import build
from lwviz.cost.latency import time_layers
from lwviz.perf import num_threads
from lwviz.presets import get_preset
from lwviz.timing import median_ms


@torch.inference_mode()
def plain_forward_ms(model, resolution: int, runs: int) -> float:
    """Median wall time of one whole forward pass without hooks, batch 1, after one warm-up."""
    x = torch.randn(1, 3, resolution, resolution)
    return median_ms(partial(model, x), runs, warmup=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mobilenet_v2")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per op (the page's default)")
    parser.add_argument("--repeats", type=int, default=3, help="whole measurements per thread count")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    spec = get_preset(args.preset)
    model = build(spec).eval()
    print(
        f"{spec.name} at {spec.resolution}, batch 1, runs={args.runs} per op, median of {args.repeats} "
        f"measurements, torch {torch.__version__}"
    )
    for threads in args.threads:
        reports = [time_layers(model, runs=args.runs, threads=threads) for _ in range(args.repeats)]
        with num_threads(threads):
            forward = median(plain_forward_ms(model, spec.resolution, args.runs) for _ in range(args.repeats))
        first = reports[0]
        print(
            f"\n{threads} thread{'s' * (threads > 1)}: measuring {len(first.ops)} ops and {len(first.layers)} "
            f"layers took {median(r.seconds for r in reports):.2f} s; sum of layer medians "
            f"{median(r.ms for r in reports):.1f} ms, one forward pass {forward:.1f} ms"
        )
        print(f"  {'kind':<12}{'MACs share':>11}{'time share':>12}{'ms per GMAC':>13}")
        for kind, k in first.by_kind().items():
            rate = f"{median(r.by_kind()[kind].ms_per_gmac for r in reports):13,.0f}" if k.macs else f"{'-':>13}"
            time_share = median(r.shares()["time"][kind] for r in reports)
            print(f"  {kind:<12}{first.shares()['macs'][kind]:>11.1%}{time_share:>12.1%}{rate}")
        print(f"  {'average':<12}{'':>23}{median(r.average().ms_per_gmac for r in reports):13,.0f}")
        if {"depthwise", "pointwise"} <= first.by_kind().keys():
            ratio = median(r.by_kind()["depthwise"].ms_per_gmac / r.by_kind()["pointwise"].ms_per_gmac for r in reports)
            print(f"  a depthwise MAC takes {ratio:.1f}x the time of a pointwise MAC")


if __name__ == "__main__":
    main()
