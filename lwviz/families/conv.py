"""Standard convolution: one dense KxK convolution, the cost every lightweight block is measured against."""

from __future__ import annotations

from lwviz.families.base import Family, LayerArgs
from lwviz.families.ops import OpCost, conv_op
from lwviz.i18n import N_


def conv(
    a: LayerArgs,
    suffix: str,
    in_chs: int,
    out_chs: int,
    kernel: int = 1,
    stride: int = 1,
    size: int | None = None,
    groups: int = 1,
    act: str | None = None,
) -> OpCost:
    """One ConvNormAct of block ``a``, named ``<block>.<suffix>``, with the block's activation unless given."""
    return conv_op(
        f"{a.name}.{suffix}",
        in_chs,
        out_chs,
        kernel,
        stride,
        a.in_size if size is None else size,
        groups=groups,
        act=a.act if act is None else act,
        norm=a.norm,
    )


def standard_ops(a: LayerArgs) -> list[OpCost]:
    return [conv(a, "conv", a.in_chs, a.out_chs, a.kernel, a.stride)]


def standard_title(a: LayerArgs) -> str:
    return "standard conv"


FAMILIES = (Family("conv", N_("standard conv"), 1998, standard_ops, standard_title),)
