"""Pruning: zeroing weights (unstructured) against removing whole channels (structured).

The lesson is in the contrast. :func:`prune_unstructured` zeroes the smallest weights, but a
dense file still stores every zero and a dense convolution still multiplies by it: params, MACs
and latency stay where they were; only a compressed file shrinks (:func:`compressed_size`).
:func:`prune_channels` removes channels, so the result is a smaller network with its own spec,
whose analytic cost table, diagram and URL are those of a narrower design.

Either way every later layer now receives something else than it was trained on, and batch norm
normalizes with statistics that no longer fit; :func:`lwviz.train.batchnorm.recalibrate_batchnorm` re-estimates them
from a few hundred unlabeled images, without training. Everything here works on copies: the
model passed in (perhaps one the app caches) is never modified.
"""

from __future__ import annotations

import copy
import io
import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace

import torch
from torch import nn
from torch.nn.utils import prune

from lwviz.blocks.inverted_residual import InvertedResidual
from lwviz.builder import Net, build
from lwviz.families.inverted_residual import FAMILIES as INVERTED_RESIDUALS
from lwviz.families.inverted_residual import has_expansion, ir_mid_chs
from lwviz.layers import ConvNormAct
from lwviz.plan import LayerArgs, effective_stage, resolve, scaled_chs
from lwviz.spec import Spec, Stage

__all__ = [
    "ChannelGroup",
    "channel_groups",
    "compressed_size",
    "prune_channels",
    "prune_unstructured",
    "pruned_spec",
    "saved_size",
    "sparsity_of",
]

PRUNABLE = (nn.Conv2d, nn.Linear)  # the layers whose weights hold the params and do the MACs
BN_STATE = ("weight", "bias", "running_mean", "running_var")
EXPAND_RANGE = next((f.metadata["lo"], f.metadata["hi"]) for f in fields(Stage) if f.name == "expand")


# ----- unstructured: zeros in dense tensors -----------------------------------------------------


def prune_unstructured(model: nn.Module, sparsity: float) -> nn.Module:
    """A copy of ``model`` with the ``sparsity`` fraction of every conv and linear weight set to zero.

    Per layer, not global: each layer loses its own smallest-magnitude weights
    (``round(sparsity * n)`` of its ``n``). A convolution followed by batch norm computes the
    same function at any scale of its weights, so magnitudes are only comparable within a
    layer; a global threshold would empty whichever layers happen to have small weights (often
    a whole depthwise or SE layer) instead of the least important weights. The pruning is made
    permanent (``prune.remove``), so the result is a plain model with ordinary parameters.
    """
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparsity: {sparsity} is outside the allowed range 0..1")
    pruned = copy.deepcopy(model)
    for module in _prunable(pruned):
        prune.l1_unstructured(module, "weight", amount=float(sparsity))
        prune.remove(module, "weight")
    return pruned


def sparsity_of(model: nn.Module) -> float:
    """Fraction of the conv and linear weights that are exactly zero (0.0 for a model with none)."""
    weights = [m.weight for m in _prunable(model)]
    total = sum(w.numel() for w in weights)
    return sum(int((w == 0).sum()) for w in weights) / total if total else 0.0


def saved_size(model: nn.Module) -> int:
    """Bytes of the saved ``state_dict``: what a dense file costs, zeros or not."""
    return len(_saved(model))


def compressed_size(model: nn.Module) -> int:
    """Bytes of the saved ``state_dict`` after zlib: zeros compress, trained floats hardly do."""
    return len(zlib.compress(_saved(model), 6))


def _prunable(model: nn.Module) -> Iterator[nn.Module]:
    return (m for m in model.modules() if isinstance(m, PRUNABLE))


def _saved(model: nn.Module) -> bytes:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


# ----- structured: fewer channels, a narrower spec ----------------------------------------------


def prune_channels(model: Net, keep: float) -> Net:
    """A narrower network: about ``keep`` of every prunable channel group, chosen by L1 norm.

    Two kinds of channels can go without touching anything else, because only one layer reads
    them (:func:`channel_groups`): the expanded (hidden) channels of every inverted-residual /
    MBConv block with an expansion conv, and the head conv's outputs, which only the classifier
    reads. The residual stream between blocks stays as it is. Within a group, the channels whose
    producing filters have the largest L1 norm are kept (Li et al. 2017, "Pruning Filters for
    Efficient ConvNets"), in their original order; every other tensor is copied unchanged.

    The result is built from :func:`pruned_spec`, so its cost table is that spec's; ``keep=1.0``
    gives the same function. Networks with neither kind of channel (MobileNetV1, SqueezeNet) raise
    ``ValueError``. Nothing is retrained: follow with
    :func:`lwviz.train.batchnorm.recalibrate_batchnorm` (and fine-tuning).
    """
    return _load_top_channels(model, build(pruned_spec(model.spec, keep)))


def pruned_spec(spec: Spec, keep: float) -> Spec:
    """The spec of ``spec`` with about ``keep`` of its prunable channels, named ``<name>_pruned<percent>``.

    Each inverted-residual stage whose blocks all have an expansion conv gets the ``expand``
    that makes the plan's hidden widths (``ir_mid_chs``, rounded to the divisor) add up closest to
    ``keep`` of the original; a width equal to the block's input is skipped, because the builder
    drops the expansion conv there. The head conv gets the ``head.chs`` whose scaled width is
    closest to ``keep`` of the original. The ``block`` and ``expand`` overrides are written into
    the stages, since the expansions now differ stage by stage.
    """
    if not 0 < keep <= 1:
        raise ValueError(f"keep: {keep} is outside the allowed range (0, 1] (the fraction of channels kept)")
    plan = resolve(spec.validate())
    # the block and expand overrides go into the stages; kernel, SE and activation ones still apply on top
    overrides = spec.with_(kernel=None, se=None, act=None)
    spec = spec.with_(stages=tuple(effective_stage(overrides, s) for s in spec.stages), block=None, expand=None)
    prunable = {i for i in range(len(spec.stages)) if all(_expands(a) for a in plan.blocks if a.stage == i)}
    head = next((a for a in plan.layers if a.name == "head"), None)
    if not prunable and head is None:
        raise ValueError(
            f"{spec.name}: structured pruning removes channels that only one layer reads, the expanded channels "
            f"of inverted-residual blocks and the head conv's outputs, and this network has neither: its channels "
            f"all feed a residual add, a concatenation or the next block"
        )
    stages = tuple(
        replace(s, expand=_stage_expand([a for a in plan.blocks if a.stage == i], s.expand, keep))
        if i in prunable
        else s
        for i, s in enumerate(spec.stages)
    )
    if head is not None:
        spec = spec.with_(head=replace(spec.head, chs=_head_chs(spec, head.out_chs, keep)))
    return spec.with_(stages=stages, name=f"{spec.name}_pruned{round(keep * 100)}").validate()


@dataclass(frozen=True)
class ChannelGroup:
    """Channels removed together: ranked by the L1 norms of ``score``'s filters (its dim 0).

    ``members`` are the ``(state_dict key, dim)`` pairs that index these channels: the filters
    that produce them, their batch norm, and the inputs of the layers that read them.
    """

    score: str
    members: tuple[tuple[str, int], ...]


def channel_groups(model: Net) -> list[ChannelGroup]:
    """The model's prunable channel groups, in the order they are pruned.

    Per inverted-residual block with an expansion conv: its hidden channels (expansion conv,
    depthwise conv, SE input and output, projection input), then its SE squeeze channels, ranked
    after the hidden ones are sliced (they change only where the squeeze width follows the hidden
    width: MobileNetV3's SE). Last the head conv's outputs (and the classifier's inputs).
    """
    groups = []
    for name, block in model.named_modules():
        if isinstance(block, InvertedResidual) and isinstance(block.conv_pw, ConvNormAct):
            groups.append(
                (
                    f"{name}.conv_pw.conv.weight",
                    (
                        *_outputs(f"{name}.conv_pw"),
                        *_outputs(f"{name}.conv_dw"),
                        (f"{name}.se.fc1.weight", 1),
                        (f"{name}.se.fc2.weight", 0),
                        (f"{name}.se.fc2.bias", 0),
                        (f"{name}.conv_pwl.conv.weight", 1),
                    ),
                )
            )
            groups.append(
                (
                    f"{name}.se.fc1.weight",
                    ((f"{name}.se.fc1.weight", 0), (f"{name}.se.fc1.bias", 0), (f"{name}.se.fc2.weight", 1)),
                )
            )
    if not isinstance(model.head, nn.Identity):
        reader = "classifier.fc_hidden" if hasattr(model.classifier, "fc_hidden") else "classifier.fc"
        groups.append(("head.conv.conv.weight", (*_outputs("head.conv"), (f"{reader}.weight", 1))))
    keys = model.state_dict().keys()
    return [
        ChannelGroup(score, tuple(m for m in members if m[0] in keys)) for score, members in groups if score in keys
    ]


def _load_top_channels(model: Net, pruned: Net) -> Net:
    """Fill ``pruned`` (a narrower build of the same design) with ``model``'s top-L1 channels of every group."""
    state = model.state_dict()
    widths = pruned.state_dict()
    for group in channel_groups(model):
        scores = state[group.score].abs().flatten(1).sum(1)
        kept = torch.topk(scores, widths[group.score].shape[0]).indices.sort().values
        for key, dim in group.members:
            state[key] = state[key].index_select(dim, kept)
    pruned.load_state_dict(state)
    return pruned.train(model.training)


def _outputs(conv_norm_act: str) -> tuple[tuple[str, int], ...]:
    """The output-channel tensors of a ``ConvNormAct``: conv weight (and bias), batch-norm state."""
    return (
        (f"{conv_norm_act}.conv.weight", 0),
        (f"{conv_norm_act}.conv.bias", 0),
        *((f"{conv_norm_act}.bn.{p}", 0) for p in BN_STATE),
    )


def _expands(a: LayerArgs) -> bool:
    """An inverted residual with its own 1x1 expansion conv: the channels channel pruning can remove."""
    return a.block in {f.name for f in INVERTED_RESIDUALS} and has_expansion(a)


def _stage_expand(blocks: list[LayerArgs], expand: float, keep: float) -> float:
    """The expansion ratio whose hidden widths in these blocks add up closest to ``keep`` of the originals.

    Candidates are ``expand * keep`` and every ratio that lands one block exactly on a multiple of
    the divisor; among the best, the most channels win, then the shortest decimal (for the URL).
    """
    ins, divisor = [a.in_chs for a in blocks], blocks[0].divisor
    full = [ir_mid_chs(c, expand, divisor) for c in ins]

    def mids(e: float) -> list[int]:
        return [ir_mid_chs(c, e, divisor) for c in ins]

    def fits(e: float) -> bool:  # within the spec's range; a block keeping its expansion conv; only fewer channels
        return EXPAND_RANGE[0] <= e <= EXPAND_RANGE[1] and all(c != m <= f for c, m, f in zip(ins, mids(e), full))

    candidates = [expand * keep, expand] + [w / c for c, f in zip(ins, full) for w in range(divisor, f + 1, divisor)]
    target = keep * sum(full)
    best = min(filter(fits, candidates), key=lambda e: (abs(sum(mids(e)) - target), -sum(mids(e))))
    if mids(best) == full:
        return expand
    return _shortest(best, lambda e: fits(e) and mids(e) == mids(best))


def _head_chs(spec: Spec, out_chs: int, keep: float) -> int:
    """The ``head.chs`` whose scaled width, a multiple of the divisor, is closest to ``keep * out_chs``."""
    head = spec.head
    widths = {c: scaled_chs(c, spec, head.scaling) for c in range(1, head.chs + 1)}
    allowed = [w for w in set(widths.values()) if w == out_chs or (w < out_chs and w % spec.divisor == 0)]
    best = min(allowed, key=lambda w: (abs(w - keep * out_chs), -w))
    return min((c for c, w in widths.items() if w == best), key=lambda c: abs(c - keep * head.chs))


def _shortest(value: float, same: Callable[[float], bool]) -> float:
    """The number with the fewest decimals near ``value`` (rounded, down or up) for which ``same`` holds."""
    for digits in range(1, 10):
        scale = 10**digits
        for r in (round(value, digits), math.floor(value * scale) / scale, math.ceil(value * scale) / scale):
            if same(r):
                return r
    return value
