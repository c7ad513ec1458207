"""Grad-CAM latency for EfficientNet-Lite0 at 224, and what capturing every SE gate adds to a forward pass.

Run: python benchmarks/gradcam_speed.py [--repeats N] [--threads T]

Grad-CAM is ``Explainer.grad_cam`` on the offline Lite0 weights and the scikit-image cat cropped to
224x224 (one forward pass and a backward pass down to the layer), for the default layer (the head)
and the deepest possible one (the stem). SE capture: ``capture_gates`` against a plain
``inference_mode`` forward pass of EfficientNet-B0 (random weights, 224x224), run alternately so
both see the same machine load; the overhead is the ratio of their medians. Targets: Grad-CAM
median <= 250 ms on 2 threads, SE capture <= 10% over a forward pass.
"""

from __future__ import annotations

import argparse
import os
import statistics
from functools import partial

import torch
from skimage import data

from lwviz.builder import build
from lwviz.explain import Explainer, capture_gates, se_blocks
from lwviz.perf import keep_freed_memory
from lwviz.presets import get_preset
from lwviz.timing import median_ms, times_ms
from lwviz.weights import LITE0

GRADCAM_TARGET_MS = 250.0
SE_OVERHEAD_TARGET = 0.10


def se_capture_overhead(repeats: int) -> tuple[float, float, int]:
    """Median ms of a plain forward pass and of a gate-capturing one, interleaved; and the number of gates."""
    model = build(get_preset("efficientnet_b0")).eval()
    x = torch.randn(1, 3, 224, 224)

    def plain():
        with torch.inference_mode():
            model(x)

    def captured():
        capture_gates(model, x)

    for fn in (plain, captured) * 3:
        fn()
    times: dict[str, list[float]] = {"plain": [], "captured": []}
    for _ in range(repeats):  # one run each in turn: a busy machine slows both alike
        for name, fn in (("plain", plain), ("captured", captured)):
            times[name] += times_ms(fn, runs=1)
    return statistics.median(times["plain"]), statistics.median(times["captured"]), len(se_blocks(model))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    keep_freed_memory()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, load average {os.getloadavg()[0]:.2f}")

    explainer = Explainer(LITE0.load())
    x = LITE0.preprocess(data.chelsea())  # [1, 3, 224, 224]
    for layer in (explainer.default_layer(), "stem"):
        ms = median_ms(partial(explainer.grad_cam, x, layer), args.repeats, warmup=3)
        verdict = (
            ""
            if layer != explainer.default_layer()
            else f"  (target <= {GRADCAM_TARGET_MS:.0f} ms: {'met' if ms <= GRADCAM_TARGET_MS else 'MISSED'})"
        )
        print(f"Grad-CAM efficientnet_lite0 224x224, layer {layer:<5}: median {ms:6.1f} ms{verdict}")

    plain, captured, gates = se_capture_overhead(args.repeats)
    overhead = captured / plain - 1
    print(
        f"efficientnet_b0 224x224 forward: median {plain:.1f} ms; capturing all {gates} SE gates: {captured:.1f} ms "
        f"-> overhead {overhead:+.1%}  (target <= {SE_OVERHEAD_TARGET:.0%}: "
        f"{'met' if overhead <= SE_OVERHEAD_TARGET else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
