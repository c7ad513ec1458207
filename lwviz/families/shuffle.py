"""ShuffleNetV2 unit: split the channels, transform one half, concatenate, shuffle.

Stride 1 with equal widths: half the channels pass through untouched (cheap, and memory-access
friendly). Otherwise (downsampling or a width change) both halves are computed from the whole
input: ``branch_proj`` (depthwise + 1x1) beside ``branch_main``.
"""

from __future__ import annotations

from lwviz.errors import Refusal
from lwviz.families.base import Family, LayerArgs, kernel_facts
from lwviz.families.conv import conv
from lwviz.families.ops import OpCost
from lwviz.i18n import N_


def splits(a: LayerArgs) -> bool:
    """Half the channels pass through untouched; otherwise both halves are computed from the whole input."""
    return a.stride == 1 and a.in_chs == a.out_chs


def shuffle_ops(a: LayerArgs) -> list[OpCost]:
    half = a.out_chs // 2
    if splits(a):
        main_in, ops = half, []
    else:
        main_in = a.in_chs
        ops = [
            conv(a, "branch_proj.0", a.in_chs, a.in_chs, a.kernel, a.stride, groups=a.in_chs, act="none"),
            conv(a, "branch_proj.1", a.in_chs, half, size=a.out_size),
        ]
    return ops + [
        conv(a, "branch_main.0", main_in, half),
        conv(a, "branch_main.1", half, half, a.kernel, a.stride, groups=half, act="none"),
        conv(a, "branch_main.2", half, half, size=a.out_size),
    ]


def check_shuffle(a: LayerArgs, where: str) -> None:
    if a.out_chs % 2:
        raise Refusal(
            N_(
                "{where}.out_chs: a ShuffleNet unit splits channels in two, so it needs an even "
                "channel count (got {chs} after width scaling)"
            ),
            where=where,
            chs=a.out_chs,
        )


def shuffle_title(a: LayerArgs) -> str:
    return N_("ShuffleNet unit")


def shuffle_facts(a: LayerArgs) -> list[str]:
    how = (
        N_("half the channels pass through, then shuffle")
        if splits(a)
        else N_("two branches, concatenated, then shuffle")
    )
    return [how, *kernel_facts(a)]


FAMILIES = (
    Family("shuffle", N_("ShuffleNetV2 unit"), 2018, shuffle_ops, shuffle_title, shuffle_facts, check=check_shuffle),
)
