"""Per preset: load time from the best offline weight source, and single-image classify latency.

Run: python benchmarks/classify_speed.py [--repeats N] [--threads T]
Latency is for one 224x224 picture (the scikit-image cat, already decoded) on T threads
(default 1, what the live camera page uses): "classify" is the whole ``lwviz.classify.classify``
call (resize, crop, normalize, forward, softmax, top-5), "forward" the network alone as
``Classification.latency_ms`` reports it. Load time is ``source.load()`` from scratch: build
the model, read and convert the weights. Presets without offline weights say why and are timed
with random weights (latency does not depend on the values; load is then the build alone), with
ImageNet preprocessing. Target: EfficientNet-Lite0 classify median <= 40 ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
from functools import partial

import torch
from skimage import data

from lwviz.builder import build
from lwviz.classify import classify
from lwviz.images import load_image
from lwviz.perf import keep_freed_memory
from lwviz.presets import PRESETS, get_preset
from lwviz.timing import median_ms
from lwviz.weights import WeightsUnavailable, best_offline_source, imagenet_categories
from lwviz.weights.preprocess import TORCHVISION_PREPROCESS

LITE0_TARGET_MS = 40.0
WARMUP = 3  # first calls allocate and pick kernels


def random_weights(preset: str) -> torch.nn.Module:
    """``preset`` built with random weights, in eval mode: what is timed where no weights are offline."""
    return build(get_preset(preset)).eval()


def measure(load, preprocess, image, repeats: int) -> tuple[float, float, float]:
    """Median load ms, median classify ms, median forward ms (the latency ``classify`` reports)."""
    models, results = [], []
    load_ms = median_ms(lambda: models.append(load()), runs=3, warmup=0)
    classify_ms = median_ms(
        lambda: results.append(classify(models[-1], image, preprocess, imagenet_categories())), repeats, warmup=WARMUP
    )
    return load_ms, classify_ms, statistics.median(r.latency_ms for r in results[WARMUP:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--plain-malloc",
        action="store_true",
        help="skip lwviz.perf.keep_freed_memory (the app applies it) to see what it saves",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tuned = not args.plain_malloc and keep_freed_memory()
    image = load_image(data.chelsea())
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), one 224x224 image, "
        f"median of {args.repeats} runs (load: of 3), allocator keeps freed memory: {tuned}"
    )
    print(f"{'preset':<20}{'source':<34}{'load ms':>9}{'classify ms':>13}{'forward ms':>12}")
    lite0_ms, missing = None, []
    for name in PRESETS:
        try:
            source = best_offline_source(name)
            label, load, preprocess = source.name, source.load, source.preprocess
        except WeightsUnavailable as exc:
            missing.append(f"{name}: {re.split(r'[.;] ', str(exc))[0]}")
            label, preprocess = "random weights (see below)", TORCHVISION_PREPROCESS
            load = partial(random_weights, name)
        load_ms, classify_ms, forward_ms = measure(load, preprocess, image, args.repeats)
        print(f"{name:<20}{label:<34}{load_ms:>9.1f}{classify_ms:>13.1f}{forward_ms:>12.1f}")
        if name == "efficientnet_lite0":
            lite0_ms = classify_ms
    print("\nno offline weights:\n  " + "\n  ".join(missing) if missing else "")
    if lite0_ms is not None:
        verdict = "meets" if lite0_ms <= LITE0_TARGET_MS else "MISSES"
        print(f"efficientnet_lite0 classify median {lite0_ms:.1f} ms {verdict} the {LITE0_TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
