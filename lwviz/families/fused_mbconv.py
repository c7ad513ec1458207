"""Fused-MBConv (EfficientNetV2): MBConv's 1x1 expansion and KxK depthwise conv fused into one dense KxK conv.

On accelerators a depthwise conv is memory-bound: it does few MACs per byte moved, so in the early,
high-resolution, few-channel stages one dense KxK conv runs faster than the 1x1 + depthwise pair although
it costs more MACs. EfficientNetV2 therefore uses fused-MBConv early and MBConv late. A 1x1 *linear*
projection follows when the block expands (as in MBConv); with ratio 1 the single KxK conv maps input to
output channels directly and keeps its activation (torchvision's ``FusedMBConv``). SE, if on, re-weights
the channels after the fused conv; the input is added when the stride is 1 and the channels stay.
"""

from __future__ import annotations

from lwviz.families.base import Family, LayerArgs, kernel_facts
from lwviz.families.conv import conv
from lwviz.families.dws import with_se
from lwviz.families.inverted_residual import has_expansion, ir_mid_chs
from lwviz.families.ops import OpCost, add_op, se_op
from lwviz.families.shapes import se_channels
from lwviz.i18n import N_, Phrase


def fused_mid_chs(a: LayerArgs) -> int:
    """Channels out of the fused KxK conv: the expanded width, or the block's output when it does not expand."""
    return ir_mid_chs(a.in_chs, a.expand, a.divisor) if has_expansion(a) else a.out_chs


def fused_se_chs(a: LayerArgs) -> int:
    return se_channels(a.se_style, a.in_chs, fused_mid_chs(a), a.se)


def fused_ops(a: LayerArgs) -> list[OpCost]:
    mid = fused_mid_chs(a)
    ops = [conv(a, "conv_fused", a.in_chs, mid, a.kernel, a.stride)]
    if a.se > 0:
        ops.append(se_op(f"{a.name}.se", mid, fused_se_chs(a), a.out_size))
    if has_expansion(a):
        ops.append(conv(a, "conv_pwl", mid, a.out_chs, size=a.out_size, act="none"))
    if a.has_skip:
        ops.append(add_op(f"{a.name}.skip_add", (a.out_chs, a.out_size, a.out_size)))
    return ops


def fused_facts(a: LayerArgs) -> list[str]:
    words = (
        Phrase("fused expand {ratio}×", ratio=f"{a.expand:g}")
        if has_expansion(a)
        else N_("no expansion, no projection")
    )
    return [words, *kernel_facts(a)]


def fused_title(a: LayerArgs) -> str:
    return with_se(a, N_("fused-MBConv"))


FAMILIES = (
    Family(
        "fused",
        N_("fused-MBConv (EfficientNetV2)"),
        2021,
        formula=fused_ops,
        title=fused_title,
        facts=fused_facts,
        default_expand=4.0,
        uses_expand=True,
        uses_se=True,
        residual=True,
    ),
)
