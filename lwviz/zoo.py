"""Every preset beside two standard-convolution classics: accuracy, cost and measured speed.

Accuracy is ImageNet-1K top-1 from torchvision's weights metadata (offline), taken from
the ``IMAGENET1K_V1`` weights: the first, paper-reproducing recipe, which every network
here has (some have a later ``V2`` trained with a longer, regularized recipe, which would
flatter them against the rest). Networks torchvision lacks carry their published figure
and its source. Cost is our analytic count for presets and the hook tracer for the
torchvision references. Latency is measured on this machine with random weights: speed
does not depend on what the weights are.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial

import torch
from torch import nn

from lwviz.builder import build
from lwviz.cost import analyze
from lwviz.cost.latency import TimingProgress, time_modules
from lwviz.cost.tracer import trace
from lwviz.i18n import N_, Phrase, Translate, english, said
from lwviz.perf import num_threads
from lwviz.presets import PRESETS, Preset
from lwviz.reparam import inference_spec, is_reparameterizable
from lwviz.timing import thread_words
from lwviz.weights.offline import LITE0

ACCURACY_WEIGHTS = "IMAGENET1K_V1"
RESOLUTION = 224


@dataclass(frozen=True)
class Top1:
    """An ImageNet-1K top-1 accuracy and where it comes from (a catalog message, or torchvision's weights' name)."""

    percent: float
    source: str


# Networks torchvision has no weights for: the figure their authors published.
PUBLISHED_TOP1: dict[str, Top1] = {
    "mobilenet_v1": Top1(70.6, N_("Howard et al. 2017, MobileNets, Table 8 (1.0 MobileNet-224)")),
    "efficientnet_lite0": Top1(
        LITE0.top1,
        N_(
            "TensorFlow EfficientNet-Lite release, FP32 "
            "(github.com/tensorflow/tpu/tree/master/models/official/efficientnet/lite)"
        ),
    ),
    # the authors' released PyTorch models, whose code the presets equal; the README gives top-1 error
    "shufflenet_v1_g3": Top1(
        67.8, N_("ShuffleNet-Series README, ShuffleNetV1 1.0x (group=3), top-1 error 32.2% (github.com/megvii-model)")
    ),
    "shufflenet_v1_g8": Top1(
        68.0, N_("ShuffleNet-Series README, ShuffleNetV1 1.0x (group=8), top-1 error 32.0% (github.com/megvii-model)")
    ),
    # the networks after 2019, whose presets equal timm's models of the same names: their papers' figures
    "mobilenetv4_conv_small": Top1(73.8, N_("Qin et al. 2024, MobileNetV4, ImageNet-1K results (MNv4-Conv-S, 224)")),
    "mobilenetv4_conv_medium": Top1(79.9, N_("Qin et al. 2024, MobileNetV4, ImageNet-1K results (MNv4-Conv-M, 256)")),
    "ghostnet_100": Top1(73.9, N_("Han et al. 2020, GhostNet, Table 7 (GhostNet 1.0×)")),
    "mobileone_s0": Top1(71.4, N_("Vasu et al. 2023, MobileOne, Table 9 (MobileOne-S0, without distillation)")),
}

# A re-parameterizable preset's inference form is a second point: the same weights folded, so the same top-1.
REPARAM_SUFFIX = "_reparam"

# Dense-convolution networks from torchvision, priced by the tracer, shown for scale.
REFERENCES: dict[str, str] = {
    "resnet18": N_("ResNet-18 (He et al. 2016): dense 3×3 convolutions with residual connections."),
    "vgg16": N_("VGG-16 (Simonyan & Zisserman 2014): thirteen dense 3×3 convolutions, three big FC layers."),
}

NETWORK_FAMILIES = {
    "mobilenet": "MobileNet",
    "shufflenet": "ShuffleNet",
    "squeezenet": "SqueezeNet",
    "efficientnet": "EfficientNet",
    "mnasnet": "MnasNet",
    "ghostnet": "GhostNet",
    "mobileone": "MobileOne",
    "resnet": "ResNet",
    "vgg": "VGG",
}


@dataclass(frozen=True)
class ZooEntry:
    """One network of the zoo. ``build`` makes a fresh, randomly initialized model."""

    name: str
    family: str
    summary: str
    params: int
    macs: int
    top1: float
    top1_source: str
    reference: bool  # a standard-convolution network, not a lightweight design
    build: Callable[[], nn.Module] = field(compare=False, repr=False)
    # the input side its MACs and top-1 belong to, so its latency is timed there too (EfficientNetV2-S: 384)
    resolution: int = RESOLUTION


def family_of(name: str) -> str:
    """'shufflenet_v2_x1_0' -> 'ShuffleNet'."""
    return next(label for prefix, label in NETWORK_FAMILIES.items() if name.startswith(prefix))


def torchvision_weights(builder: str):
    """torchvision's ``IMAGENET1K_V1`` weights enum member for ``builder`` (metadata only, nothing downloads)."""
    from torchvision.models import get_model_weights

    return get_model_weights(builder)[ACCURACY_WEIGHTS]


def torchvision_top1(builder: str) -> Top1:
    weights = torchvision_weights(builder)
    source = f"torchvision {type(weights).__name__}.{weights.name}"
    return Top1(weights.meta["_metrics"]["ImageNet-1K"]["acc@1"], source)


def _preset_top1(preset: Preset, params: int) -> Top1:
    if preset.name in PUBLISHED_TOP1:
        return PUBLISHED_TOP1[preset.name]
    num_params = torchvision_weights(preset.torchvision).meta["num_params"]
    if num_params != params:  # the accuracy must belong to this very architecture
        raise ValueError(
            f"{preset.name}: torchvision's {preset.torchvision} weights have {num_params:,} "
            f"parameters, the preset {params:,}; their top-1 would be another network's"
        )
    return torchvision_top1(preset.torchvision)


def _preset_entry(preset: Preset) -> ZooEntry:
    table = analyze(preset.spec)
    top1 = _preset_top1(preset, table.params)
    return ZooEntry(
        preset.name,
        family_of(preset.name),
        preset.summary,
        table.params,
        table.macs,
        top1.percent,
        top1.source,
        reference=False,
        build=partial(build, preset.spec),
        resolution=preset.spec.resolution,
    )


def _inference_entry(preset: Preset) -> ZooEntry:
    """A re-parameterizable preset as it runs: every branch folded into one conv, the same outputs and top-1."""
    spec = inference_spec(preset.spec)
    table = analyze(spec)
    trained = _preset_top1(preset, analyze(preset.spec).params)
    return ZooEntry(
        preset.name + REPARAM_SUFFIX,
        family_of(preset.name),
        Phrase(
            "{name} re-parameterized: its training branches folded into one conv each, the same outputs.",
            name=preset.name,
        ),
        table.params,
        table.macs,
        trained.percent,
        trained.source,
        reference=False,
        build=partial(build, spec),
        resolution=spec.resolution,
    )


def _preset_entries(preset: Preset) -> tuple[ZooEntry, ...]:
    """A preset's point, and its inference form's when it is re-parameterizable (MobileOne: two points)."""
    if is_reparameterizable(preset.spec):
        return _preset_entry(preset), _inference_entry(preset)
    return (_preset_entry(preset),)


def _reference_entry(name: str, summary: str) -> ZooEntry:
    from torchvision.models import get_model

    builder = partial(get_model, name, weights=None)
    with torch.device("meta"):  # shapes are all the tracer needs: skip VGG-16's seconds of random init
        shell = builder()
    ops = trace(shell.to_empty(device="cpu"), RESOLUTION)
    top1 = torchvision_top1(name)
    return ZooEntry(
        name,
        family_of(name),
        summary,
        sum(o.params for o in ops),
        sum(o.macs for o in ops),
        top1.percent,
        top1.source,
        reference=True,
        build=builder,
    )


@cache  # the references need a forward pass of VGG-16; nothing here changes while the process runs
def zoo_entries() -> tuple[ZooEntry, ...]:
    """Every preset (a re-parameterizable one followed by its inference form), then the standard-convolution
    references."""
    presets = (e for p in PRESETS.values() for e in _preset_entries(p))
    return (*presets, *(_reference_entry(*r) for r in REFERENCES.items()))


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the (cost, accuracy) points no other point beats, by increasing cost.

    A point is dominated when another costs no more and is no less accurate, and is
    strictly better in one of the two; equal points do not dominate each other.
    """

    def dominated(i: int) -> bool:
        ci, ai = points[i]
        return any(c <= ci and a >= ai and (c, a) != (ci, ai) for c, a in points)

    return sorted((i for i in range(len(points)) if not dominated(i)), key=lambda i: (points[i][0], -points[i][1]))


# ----- latency ----------------------------------------------------------------------------

Timings = dict[str, dict[int, float]]  # network -> threads -> median ms
_TIMING_LOCK = threading.Lock()  # torch's thread count is process-wide: one measurement at a time


def available_threads() -> int:
    """CPUs this process may run on: what "all threads" means here."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def latency_column(threads: int) -> str:
    """The table column of the median latency at ``threads`` threads."""
    return f"ms, {thread_words(threads)}"


def thread_counts() -> tuple[int, ...]:
    """One thread (a phone core, a busy laptop) and every thread this machine has."""
    return tuple(sorted({1, available_threads()}))


def forward_ms(
    model_or_builder: nn.Module | Callable[[], nn.Module],
    threads: int = 1,
    runs: int = 5,
    progress: TimingProgress | None = None,
    *,
    warmup: int = 1,
    resolution: int = RESOLUTION,
) -> float:
    """Median milliseconds of one whole forward pass (batch 1, eval mode, ``torch.inference_mode``).

    The per-layer timer of :mod:`lwviz.cost.latency` does the work on the root module:
    ``warmup`` untimed passes, then ``runs`` timed ones; torch's thread count and the
    model's train/eval mode are restored after. ``progress(done, total)`` follows every pass.
    """
    model = model_or_builder if isinstance(model_or_builder, nn.Module) else model_or_builder()
    x = torch.randn(1, 3, resolution, resolution)
    with _TIMING_LOCK, num_threads(threads):
        return time_modules(model, (x,), [""], runs=runs, warmup=warmup, progress=progress)[""]


def measure_zoo(
    entries: Sequence[ZooEntry], runs: int, threads: Sequence[int], progress: Callable[[float, str], None] | None = None
) -> Timings:
    """Median latency of every network at every thread count; each model is built once.

    ``progress(fraction done, network)`` is called before each network, after every forward pass (so a
    page that stops at its next progress call stops within one pass) and once at the end.
    """
    timings: Timings = {}
    for i, entry in enumerate(entries):
        if progress:
            progress(i / len(entries), entry.name)
        model = entry.build()
        timings[entry.name] = {}
        for k, t in enumerate(threads):
            start = i + k / len(threads)  # networks done, in networks

            def passes(done: int, total: int, start=start, name=entry.name) -> None:
                progress((start + done / total / len(threads)) / len(entries), name)

            timings[entry.name][t] = forward_ms(
                model, t, runs, passes if progress else None, resolution=entry.resolution
            )
        del model  # VGG-16 holds half a gigabyte
    if progress:
        progress(1.0, "")
    return timings


# ----- what the numbers teach ---------------------------------------------------------------


def gmacs_per_second(entry: ZooEntry, ms: float) -> float:
    """Arithmetic throughput the network reached: how well its layers keep the CPU busy."""
    return entry.macs / ms / 1e6


NOISE = 1.1  # run-to-run spread on a busy laptop: closer timings are not called a difference


def mac_inversions(
    entries: Sequence[ZooEntry], ms: Mapping[str, float], margin: float = NOISE
) -> list[tuple[ZooEntry, ZooEntry]]:
    """Pairs (lighter, heavier): fewer MACs yet at least ``margin`` times slower, most striking first.

    Striking = MACs ratio times latency ratio: the further both are from 1, the more plainly
    MACs mispredict speed.
    """
    pairs = [
        (a, b)
        for a in entries
        for b in entries
        if a.name in ms and b.name in ms and a.macs < b.macs and ms[a.name] >= margin * ms[b.name]
    ]
    return sorted(pairs, key=lambda p: -(p[1].macs / p[0].macs) * (ms[p[0].name] / ms[p[1].name]))


def _inversion_lesson(entries: Sequence[ZooEntry], latency: Timings, threads: int) -> str | None:
    ms = {e.name: latency[e.name][threads] for e in entries}
    inversions = mac_inversions(entries, ms)
    if not inversions:
        return None
    light, heavy = inversions[0]
    return Phrase(
        "**MACs are not speed.** {light} needs {times}× fewer MACs than {heavy} ({light_macs}M vs {heavy_macs}M) "
        "yet takes {light_ms} ms against {heavy_ms} ms; {pairs}",
        light=light.name,
        heavy=heavy.name,
        times=f"{heavy.macs / light.macs:.1f}",
        light_macs=f"{light.macs / 1e6:.0f}",
        heavy_macs=f"{heavy.macs / 1e6:.0f}",
        light_ms=f"{ms[light.name]:.1f}",
        heavy_ms=f"{ms[heavy.name]:.1f}",
        pairs=Phrase("{n} pairs in this zoo are ordered the wrong way round by MACs.", n=len(inversions))
        if len(inversions) > 1
        else Phrase("1 pair in this zoo is ordered the wrong way round by MACs."),
    )


def _throughput_lesson(entries: Sequence[ZooEntry], latency: Timings, threads: int) -> str | None:
    rate = {e.name: gmacs_per_second(e, latency[e.name][threads]) for e in entries}
    fast, slow = max(entries, key=lambda e: rate[e.name]), min(entries, key=lambda e: rate[e.name])
    return Phrase(
        "**Not every MAC costs the same.** {fast} computes {fast_rate} GMAC/s, {slow} only {slow_rate} GMAC/s: "
        "depthwise convolutions, shuffles, squeeze-and-excitation and activations move many bytes per "
        "multiply-add, so small networks keep the CPU waiting on memory.",
        fast=fast.name,
        slow=slow.name,
        fast_rate=f"{rate[fast.name]:.1f}",
        slow_rate=f"{rate[slow.name]:.1f}",
    )


def _threads_lesson(entries: Sequence[ZooEntry], latency: Timings, threads: int) -> str | None:
    one, most = min(latency[entries[0].name]), max(latency[entries[0].name])
    if one == most:
        return None
    speedup = {e.name: latency[e.name][one] / latency[e.name][most] for e in entries}
    best, worst = max(entries, key=lambda e: speedup[e.name]), min(entries, key=lambda e: speedup[e.name])
    numbers = dict(
        one=one,
        most=most,
        best=best.name,
        worst=worst.name,
        best_speedup=f"{speedup[best.name]:.2f}",
        worst_speedup=f"{speedup[worst.name]:.2f}",
    )
    if speedup[worst.name] >= 1:
        return Phrase(
            "**Threads help big layers.** Going from {one} to {most} threads speeds up {best} {best_speedup}× "
            "but {worst} only {worst_speedup}×: its layers have too little work to split.",
            **numbers,
        )
    slower = sum(s < 1 for s in speedup.values())
    lesson = Phrase(
        "**More threads are not always faster.** Going from {one} to {most} threads speeds up {best} "
        "{best_speedup}×, yet {worst} runs slower ({worst_speedup}×): splitting small layers can cost more than "
        "it saves, and a thread waiting for a core another program holds stalls every layer.",
        **numbers,
    )
    if 2 * slower <= len(entries):
        return lesson
    return Phrase(
        "{lesson} More threads were slower for {slower} of {count} networks: another program is probably busy "
        "on this machine. Close it and measure again, or read the 1-thread chart.",
        lesson=lesson,
        slower=slower,
        count=len(entries),
    )


def _reparam_lesson(entries: Sequence[ZooEntry], latency: Timings, threads: int) -> str | None:
    """Both forms of a re-parameterized network: one set of weights, one top-1, two prices."""
    by_name = {e.name: e for e in entries}
    for folded in entries:
        trained = by_name.get(folded.name.removesuffix(REPARAM_SUFFIX))
        if folded.name.endswith(REPARAM_SUFFIX) and trained is not None:
            ms = latency[trained.name][threads], latency[folded.name][threads]
            return Phrase(
                "**Count the network that runs.** {trained} as trained has {trained_macs}M MACs and takes "
                "{trained_ms} ms; folded into one conv per layer ({folded}) it computes the same outputs with "
                "{folded_macs}M MACs in {folded_ms} ms. Ranked by its training form's MACs, it would look "
                "{times}× heavier than it is.",
                trained=trained.name,
                folded=folded.name,
                trained_macs=f"{trained.macs / 1e6:.0f}",
                folded_macs=f"{folded.macs / 1e6:.0f}",
                trained_ms=f"{ms[0]:.1f}",
                folded_ms=f"{ms[1]:.1f}",
                times=f"{trained.macs / folded.macs:.1f}",
            )
    return None


LESSONS = (_inversion_lesson, _throughput_lesson, _threads_lesson, _reparam_lesson)


def latency_lessons(entries: Sequence[ZooEntry], latency: Timings, threads: int) -> list[str]:
    """Short Markdown sentences drawn from the networks measured at ``threads`` threads (:class:`Phrase`: a page
    says them in its reader's language with ``lwviz.i18n.said``)."""
    measured = [e for e in entries if threads in latency.get(e.name, {})]
    if not measured:
        return []
    return [text for lesson in LESSONS if (text := lesson(measured, latency, threads))]


def zoo_frame(entries: Sequence[ZooEntry], latency: Timings | None = None, _: Translate = english):
    """One row per network as a pandas DataFrame; latency columns when measured. The cells are said with ``_``
    (a frame keeps plain strings, not Phrases); the column names are catalog messages for the page to say."""
    import pandas as pd

    rows = []
    for e in entries:
        row = {
            N_("network"): e.name,
            N_("family"): e.family,
            N_("design"): _("standard conv") if e.reference else _("lightweight"),
            N_("params"): e.params,
            "MACs": e.macs,
            N_("top-1 %"): e.top1,
        }
        for threads, ms in sorted((latency or {}).get(e.name, {}).items()):
            row[latency_column(threads)] = ms
        rows.append({**row, N_("top-1 source"): said(e.top1_source, _), N_("summary"): said(e.summary, _)})
    return pd.DataFrame(rows)
