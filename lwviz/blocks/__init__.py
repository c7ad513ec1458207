"""Block families: one small ``nn.Module`` per file, registered here with their defaults.

Every block takes the same signature ``(in_chs, out_chs, kernel, stride, *, expand,
se, act, groups, se_style, divisor, norm, bn_eps, tf_same)`` and ignores what it
does not use, so a stage can switch family without other changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from lwviz.blocks.conv import ConvBlock
from lwviz.blocks.dws import DepthwiseSeparable
from lwviz.blocks.fire import Fire, fire_chs
from lwviz.blocks.inverted_residual import InvertedResidual, ir_mid_chs
from lwviz.blocks.shuffle import ShuffleUnit
from lwviz.blocks.shuffle_v1 import ShuffleV1Unit, v1_branch_chs, v1_concat, v1_mid_chs
from lwviz.blocks.stem_head import Classifier, Stem
from lwviz.plan import LayerArgs, conv_out, pool_out
from lwviz.registry import add


@dataclass(frozen=True)
class Family:
    name: str
    label: str
    module: Callable[..., nn.Module]
    default_expand: float = 1.0
    default_se: float = 0.0
    default_groups: int = 1
    uses_expand: bool = False
    uses_se: bool = False
    check: Callable[[LayerArgs, str], None] = lambda args, where: None
    pooled_stride: bool = False  # downsamples with a 3x3 ceil-mode max-pool (Fire)

    def out_size(self, size: int, kernel: int, stride: int) -> int:
        if stride == 1:
            return size
        return pool_out(size, ceil=True) if self.pooled_stride else conv_out(size, kernel, stride)

    def build(self, args: LayerArgs) -> nn.Module:
        return self.module(args.in_chs, args.out_chs, args.kernel, args.stride, expand=args.expand, se=args.se,
                           act=args.act, groups=args.groups, se_style=args.se_style, divisor=args.divisor,
                           norm=args.norm, bn_eps=args.bn_eps, tf_same=args.tf_same)


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    return add(FAMILIES, family.name, family, "block family")


def _check_shuffle(args: LayerArgs, where: str) -> None:
    if args.out_chs % 2:
        raise ValueError(f"{where}.out_chs: a ShuffleNet unit splits channels in two, so it needs an even "
                         f"channel count (got {args.out_chs} after width scaling)")


def _check_shuffle_v1(args: LayerArgs, where: str) -> None:
    g = args.groups
    mid = v1_mid_chs(args.out_chs, args.expand, g)
    branch = v1_branch_chs(args.in_chs, args.out_chs, args.stride)
    for what, chs in (("input", args.in_chs), ("bottleneck", mid), ("branch output", branch)):
        if chs % g:
            raise ValueError(f"{where}.groups: {g} groups must divide the {what} channels ({chs}); "
                             f"choose a number of groups that divides it")


def _check_fire(args: LayerArgs, where: str) -> None:
    if args.out_chs < 2:
        raise ValueError(f"{where}.out_chs: a Fire module needs at least 2 output channels")


register(Family("conv", "standard conv", ConvBlock))
register(Family("dws", "depthwise-separable (MobileNetV1)", DepthwiseSeparable, uses_se=True))
register(Family("ir", "inverted residual (MobileNetV2)", InvertedResidual, default_expand=6.0, uses_expand=True,
                uses_se=True))
register(Family("mbconv", "MBConv + SE (MobileNetV3 / EfficientNet)", InvertedResidual, default_expand=6.0,
                default_se=0.25, uses_expand=True, uses_se=True))
register(Family("shuffle", "ShuffleNetV2 unit", ShuffleUnit, check=_check_shuffle))
register(Family("shufflev1", "grouped 1x1 + shuffle (ShuffleNetV1)", ShuffleV1Unit, default_expand=0.25,
                default_groups=4, uses_expand=True, check=_check_shuffle_v1))
register(Family("fire", "Fire module (SqueezeNet)", Fire, default_expand=8.0, uses_expand=True,
                check=_check_fire, pooled_stride=True))

__all__ = ["FAMILIES", "Family", "register", "Stem", "Classifier", "ir_mid_chs", "fire_chs", "v1_mid_chs",
           "v1_branch_chs", "v1_concat"]
