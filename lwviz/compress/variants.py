"""Every way of making one network smaller, measured side by side: what the Compress page shows.

Each variant is a copy (the network passed in, perhaps one the app caches, is never modified) and
each is measured the same way: file size, non-zero params, MACs, latency at batch 1 on one thread,
and a score — accuracy on held-out pictures when there are labels, otherwise top-1 agreement with
the float network on the sample photos.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lwviz.builder import Net
from lwviz.compress.measure import agreement, file_size, latency_ms, nonzero_params
from lwviz.compress.prune import compressed_size, prune_channels, prune_unstructured
from lwviz.compress.quantize import QuantizationUnsupported, quantize_dynamic_int8, quantize_int8
from lwviz.cost import analyze
from lwviz.i18n import N_
from lwviz.spec import Spec
from lwviz.train.batchnorm import recalibrate_batchnorm
from lwviz.train.loop import evaluate

SPARSITIES = (0.5, 0.8, 0.9)
KEEP = 0.5


@dataclass(frozen=True, eq=False)
class Variant:
    name: str
    model: nn.Module | None  # None: it could not be made (``note`` says why)
    spec: Spec  # what its MACs are counted from (a channel-pruned network has its own)
    note: str = ""


@dataclass(frozen=True)
class Row:
    variant: str
    size_bytes: int | None
    zipped_bytes: int | None
    params_nonzero: int | None
    macs: int
    latency_ms: float | None
    score: float | None  # accuracy or agreement, 0..1
    note: str = ""


def variants(
    model: Net,
    calibration: torch.Tensor,
    sparsities: Sequence[float] = SPARSITIES,
    keep: float = KEEP,
    extra: Sequence[Variant] = (),
    qat: Variant | None = None,
) -> Iterator[Variant]:
    """float, int8 dynamic, int8 static (then ``qat``, made by quantization-aware training, when given), zeroed
    weights at each sparsity, channels kept at ``keep``, and ``extra``.

    Pruned copies get their batch-norm statistics re-estimated on ``calibration`` (no labels, no
    training): without that a pruned network's accuracy collapses.
    """
    spec = model.spec
    yield Variant("float", model, spec)
    yield Variant("int8 dynamic", quantize_dynamic_int8(model), spec, N_("only the Linear layers are int8"))
    try:
        yield Variant("int8 static", quantize_int8(model, calibration), spec)
    except QuantizationUnsupported as exc:
        yield Variant("int8 static", None, spec, exc.phrase)
    if qat is not None:
        yield qat
    for sparsity in sparsities:
        yield Variant(
            f"{sparsity:.0%} weights zeroed",
            recalibrate_batchnorm(prune_unstructured(model, sparsity), calibration),
            spec,
        )
    try:
        pruned = recalibrate_batchnorm(prune_channels(model, keep), calibration)
        yield Variant(f"{keep:.0%} channels kept", pruned, pruned.spec)
    except ValueError as exc:
        yield Variant(f"{keep:.0%} channels kept", None, spec, str(exc))
    yield from extra


def measure(
    variant: Variant, reference: nn.Module, inputs: torch.Tensor, labels: torch.Tensor | None = None, runs: int = 20
) -> Row:
    """One row: sizes, params, MACs, latency (median, batch 1, 1 thread) and the score on ``inputs``.

    With ``labels`` the score is accuracy; without, agreement with ``reference``'s top-1.
    """
    macs = analyze(variant.spec).macs
    if variant.model is None:
        return Row(variant.name, None, None, None, macs, None, None, variant.note)
    model = variant.model
    score = agreement(reference, model, inputs) if labels is None else evaluate(model, inputs, labels)
    return Row(
        variant.name,
        file_size(model),
        compressed_size(model),
        nonzero_params(model),
        macs,
        latency_ms(model, inputs[:1], runs=runs),
        score,
        variant.note,
    )


def compare_variants(
    model: Net,
    calibration: torch.Tensor,
    inputs: torch.Tensor,
    labels: torch.Tensor | None = None,
    sparsities: Sequence[float] = SPARSITIES,
    keep: float = KEEP,
    extra: Sequence[Variant] = (),
    qat: Variant | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> list[Row]:
    """Every variant of ``model`` measured; ``progress(share_done, variant_just_measured)`` after each."""
    total = 4 + len(sparsities) + len(extra) + (qat is not None)
    rows = []
    for variant in variants(model, calibration, sparsities, keep, extra, qat):
        rows.append(measure(variant, model, inputs, labels))
        if progress is not None:
            progress(len(rows) / total, variant.name)
    return rows
