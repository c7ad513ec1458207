"""Ghost module and ghost bottleneck (GhostNet, Han et al. 2020): half the feature maps for almost nothing.

The feature maps of a trained network come in near-duplicate pairs. A **ghost module** therefore makes only
1/ratio of its output with a real (primary) 1x1 conv and the rest, the "ghost" maps, with cheap 3x3 depthwise
convs of those (each primary map feeds ratio - 1 ghosts), concatenated: about 1/ratio of the conv's MACs. A
**ghost bottleneck** is MobileNetV3's inverted residual built from two of them: a ghost module expands (with the
activation), a KxK depthwise conv downsamples when the stride is 2, SE may re-weight the channels, a second ghost
module projects (linear), and the shortcut is added; where the shapes change it is a KxK depthwise + 1x1 conv
(timm's ``GhostBottleneck``). GhostNet's SE squeezes to a quarter of the expanded channels rounded to 4, with
ReLU and a hard-sigmoid gate.
"""

from __future__ import annotations

import math

from lwviz.families.base import Family, LayerArgs, kernel_facts
from lwviz.families.conv import conv
from lwviz.families.dws import with_se
from lwviz.families.inverted_residual import ir_mid_chs
from lwviz.families.ops import OpCost, add_op, se_op
from lwviz.families.shapes import make_divisible
from lwviz.i18n import N_, Phrase

CHEAP_KERNEL = 3  # the ghost maps' depthwise kernel (the paper's d = 3)


def ghost_chs(out_chs: int, ratio: int) -> tuple[int, int]:
    """(primary maps, ghost maps) of a module with ``out_chs`` outputs: ceil(out / ratio), (ratio - 1) per primary.
    Any maps beyond ``out_chs`` are computed and dropped, as in the reference code."""
    primary = math.ceil(out_chs / ratio)
    return primary, primary * (ratio - 1)


def ghost_module_ops(a: LayerArgs, suffix: str, in_chs: int, out_chs: int, size: int, act: str) -> list[OpCost]:
    primary, ghosts = ghost_chs(out_chs, a.ratio)
    return [
        conv(a, f"{suffix}.primary_conv", in_chs, primary, size=size, act=act),
        conv(a, f"{suffix}.cheap_operation", primary, ghosts, CHEAP_KERNEL, size=size, groups=primary, act=act),
    ]


def ghost_mid_chs(a: LayerArgs) -> int:
    return ir_mid_chs(a.in_chs, a.expand, a.divisor)


def ghost_se_chs(a: LayerArgs) -> int:
    return make_divisible(ghost_mid_chs(a) * a.se, 4)


def ghost_ops(a: LayerArgs) -> list[OpCost]:
    mid = ghost_mid_chs(a)
    ops = ghost_module_ops(a, "ghost1", a.in_chs, mid, a.in_size, a.act)
    if a.stride > 1:
        ops.append(conv(a, "conv_dw", mid, mid, a.kernel, a.stride, groups=mid, act="none"))
    if a.se > 0:
        ops.append(se_op(f"{a.name}.se", mid, ghost_se_chs(a), a.out_size))
    ops += ghost_module_ops(a, "ghost2", mid, a.out_chs, a.out_size, "none")
    if not a.has_skip:  # the shortcut changes shape: a depthwise KxK conv, then a 1x1 conv
        ops += [
            conv(a, "shortcut.0", a.in_chs, a.in_chs, a.kernel, a.stride, groups=a.in_chs, act="none"),
            conv(a, "shortcut.1", a.in_chs, a.out_chs, size=a.out_size, act="none"),
        ]
    return [*ops, add_op(f"{a.name}.skip_add", (a.out_chs, a.out_size, a.out_size))]


def ghost_title(a: LayerArgs) -> str:
    return with_se(a, N_("ghost bottleneck"))


def ghost_facts(a: LayerArgs) -> list[str]:
    ghosts = Phrase("1/{ratio} of the maps by 1×1 conv, the rest cheap", ratio=a.ratio)
    return [ghosts, Phrase("expand {ratio}×", ratio=f"{a.expand:g}"), *kernel_facts(a)]


FAMILIES = (
    Family(
        "ghost",
        N_("ghost bottleneck (GhostNet)"),
        2020,
        formula=ghost_ops,
        title=ghost_title,
        facts=ghost_facts,
        default_expand=3.0,
        uses_expand=True,
        uses_se=True,
        residual=True,
    ),
)
