"""SqueezeNet Fire module: squeeze to few channels with 1x1, expand with parallel 1x1 and KxK.

``expand`` is the ratio output / squeeze channels (8 in SqueezeNet). SqueezeNet downsamples with
max-pooling, so a stride-2 Fire pools (3x3, ceil mode) first.
"""

from __future__ import annotations

from lwviz.errors import Refusal
from lwviz.families.base import Family, LayerArgs
from lwviz.families.conv import conv
from lwviz.families.ops import OpCost, pool_op
from lwviz.i18n import N_, Phrase


def fire_chs(out_chs: int, expand: float) -> tuple[int, int, int]:
    """(squeeze, expand 1x1, expand KxK) channels."""
    return max(1, round(out_chs / expand)), out_chs // 2, out_chs - out_chs // 2


def fire_ops(a: LayerArgs) -> list[OpCost]:
    squeeze, e1, e3 = fire_chs(a.out_chs, a.expand)
    ops = [pool_op(f"{a.name}.pool", a.in_chs, a.in_size, a.out_size)] if a.stride > 1 else []
    return ops + [
        conv(a, "squeeze", a.in_chs, squeeze, size=a.out_size),
        conv(a, "expand1x1", squeeze, e1, size=a.out_size),
        conv(a, "expand3x3", squeeze, e3, a.kernel, size=a.out_size),
    ]


def check_fire(a: LayerArgs, where: str) -> None:
    if a.out_chs < 2:
        raise Refusal(N_("{where}.out_chs: a Fire module needs at least 2 output channels"), where=where)


def fire_title(a: LayerArgs) -> str:
    return N_("Fire module")


def fire_facts(a: LayerArgs) -> list[str]:
    squeeze, e1, e3 = fire_chs(a.out_chs, a.expand)
    pool = [N_("max-pool first")] if a.stride > 1 else []
    return [*pool, Phrase("squeeze to {s}, expand to {e1} (1×1) + {e3} ({k}×{k})", s=squeeze, e1=e1, e3=e3, k=a.kernel)]


FAMILIES = (
    Family(
        "fire",
        N_("Fire module (SqueezeNet)"),
        2016,
        fire_ops,
        fire_title,
        fire_facts,
        check_fire,
        default_expand=8.0,
        uses_expand=True,
        pooled_stride=True,
    ),
)
