"""Inverted residual with linear bottleneck (MobileNetV2) and MBConv with SE (MobileNetV3, EfficientNet).

Expand with a 1x1 conv, filter each channel with a KxK depthwise conv, optionally re-weight
channels with squeeze-and-excitation, project back with a *linear* 1x1 conv (no activation:
ReLU would destroy information in the narrow bottleneck), and add the input when the shapes allow.
"""

from __future__ import annotations

from lwviz.families.base import Family, LayerArgs, kernel_facts
from lwviz.families.conv import conv
from lwviz.families.dws import with_se
from lwviz.families.ops import OpCost, add_op, se_op
from lwviz.families.shapes import make_divisible, se_channels
from lwviz.i18n import N_, Phrase


def ir_mid_chs(in_chs: int, expand: float, divisor: int = 8) -> int:
    """Expanded channels: ``in_chs`` itself for ratio 1, else rounded to the divisor."""
    return in_chs if expand == 1 else make_divisible(in_chs * expand, divisor)


def has_expansion(a: LayerArgs) -> bool:
    """The block has its own 1x1 expansion conv (``conv_pw``); with ratio 1 it filters its input directly."""
    return ir_mid_chs(a.in_chs, a.expand, a.divisor) != a.in_chs


def ir_se_chs(a: LayerArgs) -> int:
    return se_channels(a.se_style, a.in_chs, ir_mid_chs(a.in_chs, a.expand, a.divisor), a.se)


def ir_ops(a: LayerArgs) -> list[OpCost]:
    mid = ir_mid_chs(a.in_chs, a.expand, a.divisor)
    ops = [conv(a, "conv_pw", a.in_chs, mid)] if has_expansion(a) else []
    ops.append(conv(a, "conv_dw", mid, mid, a.kernel, a.stride, groups=mid))
    if a.se > 0:
        ops.append(se_op(f"{a.name}.se", mid, ir_se_chs(a), a.out_size))
    ops.append(conv(a, "conv_pwl", mid, a.out_chs, size=a.out_size, act="none"))
    if a.has_skip:
        ops.append(add_op(f"{a.name}.skip_add", (a.out_chs, a.out_size, a.out_size)))
    return ops


def ir_facts(a: LayerArgs) -> list[str]:
    return [Phrase("expand {ratio}×", ratio=f"{a.expand:g}") if a.expand != 1 else N_("no expansion"), *kernel_facts(a)]


def ir_title(a: LayerArgs) -> str:
    return with_se(a, N_("inverted residual"))


def mbconv_title(a: LayerArgs) -> str:
    return with_se(a, "MBConv")


_SHARED = dict(formula=ir_ops, facts=ir_facts, default_expand=6.0, uses_expand=True, uses_se=True, residual=True)
FAMILIES = (
    Family("ir", N_("inverted residual (MobileNetV2)"), 2018, title=ir_title, **_SHARED),
    Family(
        "mbconv", N_("MBConv + SE (MobileNetV3 / EfficientNet)"), 2019, title=mbconv_title, default_se=0.25, **_SHARED
    ),
)
