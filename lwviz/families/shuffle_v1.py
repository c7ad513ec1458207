"""ShuffleNetV1 unit: grouped 1x1 convs with a channel shuffle between them.

Grouped 1x1 convs cut the pointwise cost by the number of groups; the shuffle lets information
cross groups. A downsampling unit that widens the network concatenates an average-pooled
shortcut, so the convolution branch produces only ``out - in`` channels. The network's first unit
keeps its first 1x1 dense (``dense_pw``): its few input channels would leave each group too little.
"""

from __future__ import annotations

from lwviz.errors import Refusal
from lwviz.families.base import Family, LayerArgs, kernel_facts
from lwviz.families.conv import conv
from lwviz.families.ops import OpCost, add_op, elementwise_op, numel, pool_op
from lwviz.i18n import N_, Phrase


def v1_mid_chs(out_chs: int, expand: float, groups: int) -> int:
    """Bottleneck channels: ``out * expand`` (the paper uses 1/4), a multiple of ``groups``."""
    return max(groups, round(out_chs * expand / groups) * groups)


def v1_concat(in_chs: int, out_chs: int, stride: int) -> bool:
    """The paper's stride-2 unit: concatenate the pooled input (only possible when widening)."""
    return stride > 1 and out_chs > in_chs


def v1_branch_chs(in_chs: int, out_chs: int, stride: int) -> int:
    return out_chs - in_chs if v1_concat(in_chs, out_chs, stride) else out_chs


def v1_pw_groups(a: LayerArgs) -> int:
    """Groups of the first 1x1: one when the unit keeps it dense (ShuffleNetV1's first unit)."""
    return 1 if a.dense_pw else a.groups


def shuffle_v1_ops(a: LayerArgs) -> list[OpCost]:
    mid = v1_mid_chs(a.out_chs, a.expand, a.groups)
    out = (a.out_chs, a.out_size, a.out_size)
    ops = [
        conv(a, "conv_pw", a.in_chs, mid, groups=v1_pw_groups(a)),
        conv(a, "conv_dw", mid, mid, a.kernel, a.stride, groups=mid, act="none"),
        conv(
            a,
            "conv_pwl",
            mid,
            v1_branch_chs(a.in_chs, a.out_chs, a.stride),
            size=a.out_size,
            groups=a.groups,
            act="none",
        ),
    ]
    if v1_concat(a.in_chs, a.out_chs, a.stride):
        ops.append(pool_op(f"{a.name}.pool", a.in_chs, a.in_size, a.out_size))
    elif a.has_skip:
        ops.append(add_op(f"{a.name}.skip_add", out))
    return ops + [elementwise_op(f"{a.name}.act", out, out, numel(out) if a.act != "none" else 0)]


def check_shuffle_v1(a: LayerArgs, where: str) -> None:
    g = a.groups
    mid = v1_mid_chs(a.out_chs, a.expand, g)
    branch = v1_branch_chs(a.in_chs, a.out_chs, a.stride)
    checked = ((N_("bottleneck"), mid), (N_("branch output"), branch))
    for what, chs in checked if a.dense_pw else ((N_("input"), a.in_chs), *checked):
        if chs % g:
            raise Refusal(
                N_(
                    "{where}.groups: {g} groups must divide the {what} channels ({chs}); "
                    "choose a number of groups that divides it"
                ),
                where=where,
                g=g,
                what=Phrase(what),
                chs=chs,
            )


def shuffle_v1_title(a: LayerArgs) -> str:
    return N_("ShuffleNetV1 unit")


def shuffle_v1_facts(a: LayerArgs) -> list[str]:
    pooled = [N_("pooled input concatenated")] if v1_concat(a.in_chs, a.out_chs, a.stride) else []
    dense = [N_("first 1x1 dense")] if a.dense_pw else []
    return [Phrase("{g} groups, shuffled", g=a.groups), *dense, *pooled, *kernel_facts(a)]


FAMILIES = (
    Family(
        "shufflev1",
        N_("grouped 1x1 + shuffle (ShuffleNetV1)"),
        2017,
        shuffle_v1_ops,
        shuffle_v1_title,
        shuffle_v1_facts,
        check_shuffle_v1,
        default_expand=0.25,
        default_groups=4,
        uses_expand=True,
        residual=True,
    ),
)
