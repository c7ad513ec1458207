"""Depthwise-separable convolution (MobileNetV1): a KxK filter per channel, then a 1x1 mix.

Cost against a dense KxK conv: 1/N + 1/K^2 (N output channels).
"""

from __future__ import annotations

from lwviz.families.base import Family, LayerArgs
from lwviz.families.conv import conv
from lwviz.families.ops import OpCost, se_op
from lwviz.families.shapes import se_channels
from lwviz.i18n import N_, Phrase


def with_se(a: LayerArgs, title: str) -> str:
    return Phrase("{block} + SE", block=title) if a.se > 0 else title


def dws_ops(a: LayerArgs) -> list[OpCost]:
    ops = [conv(a, "conv_dw", a.in_chs, a.in_chs, a.kernel, a.stride, groups=a.in_chs)]
    if a.se > 0:
        ops.append(se_op(f"{a.name}.se", a.in_chs, se_channels(a.se_style, a.in_chs, a.in_chs, a.se), a.out_size))
    return ops + [conv(a, "conv_pw", a.in_chs, a.out_chs, size=a.out_size)]


def dws_title(a: LayerArgs) -> str:
    return with_se(a, N_("depthwise-separable"))


FAMILIES = (Family("dws", N_("depthwise-separable (MobileNetV1)"), 2017, dws_ops, dws_title, uses_se=True),)
