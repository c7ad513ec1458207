"""A spec resolved into concrete layers: channels, kernels, strides and feature-map sizes.

The builder and the analytic cost model both read this plan, so what is built and
what is priced cannot drift apart. Resolving applies, in order: the block/kernel/
expansion/SE/activation overrides, width rounding (``make_divisible``), depth
scaling (``ceil(repeats * depth)``), and shape propagation, and checks the
constraints that only concrete numbers reveal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

from lwviz import limits
from lwviz.errors import Refusal
from lwviz.families import FAMILIES, LayerArgs, conv_out, layer_ops, make_divisible, peak_activation_bytes, pool_out
from lwviz.i18n import N_
from lwviz.spec import Spec, Stage


@dataclass(frozen=True)
class Plan:
    spec: Spec
    layers: tuple[LayerArgs, ...]
    params: int  # totals of the whole design, as lwviz.cost.analyze prices them; checked against the limits
    macs: int
    peak_memory: int

    @property
    def blocks(self) -> tuple[LayerArgs, ...]:
        """The stage blocks only (no stem, head or classifier)."""
        return tuple(layer for layer in self.layers if layer.is_block)


def effective_stage(spec: Spec, stage: Stage) -> Stage:
    """A stage with the spec's overrides applied (before width and depth scaling)."""
    if spec.block is not None and spec.block != stage.block:
        fam = FAMILIES[spec.block]
        stage = replace(
            stage, block=spec.block, expand=fam.default_expand, se=fam.default_se, groups=fam.default_groups
        )
    fam = FAMILIES[stage.block]
    changes = {}
    if spec.kernel is not None:
        changes["kernel"] = spec.kernel
    if spec.expand is not None and fam.uses_expand:
        changes["expand"] = spec.expand
    if spec.se is not None and fam.uses_se:
        changes["se"] = spec.se
    if spec.act is not None:
        changes["act"] = spec.act
    return replace(stage, **changes) if changes else stage


def scaled_chs(chs: int, spec: Spec, scaling: str = "scale") -> int:
    """``chs`` at the spec's width: scaled, scaled but never below 1x, fixed, or scaled by the width rounded down to a
    power of two ("steps": ShuffleNetV1's authors give 1.5x the 1x stem), rounded to a multiple of the divisor."""
    steps = 2.0 ** math.floor(math.log2(spec.width))
    width = {"scale": spec.width, "floor": max(1.0, spec.width), "fixed": 1.0, "steps": steps}[scaling]
    return chs if width == 1.0 else make_divisible(chs * width, spec.divisor)


@lru_cache(maxsize=256)
def resolve(spec: Spec) -> Plan:
    """Check a spec whole (its fields, its size, what only concrete shapes reveal) and resolve it into its plan.

    Raises ``ValueError`` naming the offending field, or :class:`~lwviz.limits.DesignTooLarge` for a design
    beyond :data:`lwviz.limits.DESIGN`: its blocks are counted before any is resolved.
    """
    spec.validate()
    limits.check(limits.DESIGN, blocks=limits.block_count(spec))
    common = dict(
        norm=spec.norm,
        bn_eps=spec.bn_eps,
        tf_same=spec.padding == "tf_same",
        se_style=spec.se_style,
        divisor=spec.divisor,
    )
    size = spec.resolution
    stem = spec.stem
    chs = scaled_chs(stem.chs, spec, stem.scaling)
    out = conv_out(size, stem.kernel, stem.stride, stem.padded)
    _check_size(spec, size, out, stem.stride, "the stem")
    if stem.pool != "none":
        pooled = pool_out(out, ceil=stem.pool == "maxceil")
        _check_size(spec, out, pooled, 2, "the stem's pooling")
        out = pooled
    layers = [
        LayerArgs(
            "stem",
            "stem",
            -1,
            spec.in_chs,
            chs,
            stem.kernel,
            stem.stride,
            size,
            out,
            act=spec.act or stem.act,
            pool=stem.pool,
            padded=stem.padded,
            branches=stem.branches,
            folded=spec.reparam,
            **common,
        )
    ]
    size, in_chs = out, chs
    for i, raw in enumerate(spec.stages):
        stage = effective_stage(spec, raw)
        fam = FAMILIES[stage.block]
        out_chs = scaled_chs(stage.out_chs, spec)
        repeats = math.ceil(stage.repeats * spec.depth - 1e-9)
        for j in range(repeats):
            stride = stage.stride if j == 0 else 1
            out = fam.out_size(size, stage.kernel, stride)
            _check_size(spec, size, out, stride, f"stage {i}")
            args = LayerArgs(
                f"stages.{i}.{j}",
                stage.block,
                i,
                in_chs,
                out_chs,
                stage.kernel,
                stride,
                size,
                out,
                expand=stage.expand,
                se=stage.se,
                act=stage.act,
                groups=stage.groups,
                dense_pw=stage.dense_first and j == 0,
                dw_start=stage.dw_start,
                mid_dw=stage.mid_dw,
                ratio=stage.ratio,
                branches=stage.branches,
                folded=spec.reparam,
                has_skip=fam.has_skip(in_chs, out_chs, stride),
                **common,
            )
            fam.check(args, f"stages[{i}]")
            layers.append(args)
            size, in_chs = out, out_chs
    head = spec.head
    n = len(spec.stages)
    if head.chs:
        chs = scaled_chs(head.chs, spec, head.scaling)
        layers.append(LayerArgs("head", "conv", n, in_chs, chs, 1, 1, size, size, act=spec.act or head.act, **common))
        in_chs = chs
    hidden = scaled_chs(head.hidden, spec, head.scaling) if head.hidden else 0
    layers.append(
        LayerArgs(
            "classifier",
            "classifier",
            n,
            in_chs,
            spec.num_classes,
            1,
            1,
            size,
            1,
            act=spec.act or head.act,
            hidden=hidden,
            dropout=head.dropout,
            classifier=head.classifier,
            **common,
        )
    )
    plan = Plan(spec, tuple(layers), *_totals(layers))
    limits.check(limits.DESIGN, params=plan.params, macs=plan.macs, peak_memory=plan.peak_memory)
    return plan


def _totals(layers: list[LayerArgs]) -> tuple[int, int, int]:
    """The design's parameters, MACs and peak activation memory."""
    params = macs = peak = 0
    for a in layers:
        ops = layer_ops(a)
        params += sum(o.params for o in ops)
        macs += sum(o.macs for o in ops)
        peak = max(peak, peak_activation_bytes(a, ops, a.has_skip))
    return params, macs, peak


def _check_size(spec: Spec, in_size: int, out_size: int, stride: int, where: str) -> None:
    """A downsampling layer needs at least ``stride`` pixels to downsample."""
    if out_size < 1 or in_size < stride:
        total = spec.stem.stride * (2 if spec.stem.pool != "none" else 1) * math.prod(s.stride for s in spec.stages)
        raise Refusal(
            N_(
                "resolution: {resolution} is too small; the feature map is used up before {where} "
                "(the network downsamples {total}x overall, so use at least {total} pixels)"
            ),
            resolution=spec.resolution,
            where=where,
            total=total,
        )
