"""MobileOne block (Vasu et al. 2023): many branches while training, one plain conv when deployed.

Structural re-parameterization. While training, every conv of the block is a sum of branches: ``branches``
(the paper's k) KxK conv + BN branches, a 1x1 conv + BN "scale" branch (when K > 1) and, when input and output
have the same shape, a BN-only "identity" branch; the activation follows the sum. Each branch is linear in its
input, so once trained they fold into one KxK conv with a bias (:func:`lwviz.reparam.reparameterize`): the same
outputs from a plain network, for a fraction of the MACs and far less memory traffic. A block is a depthwise
KxK conv of this kind (with the stride) followed by a pointwise 1x1 one (timm's ``MobileOneBlock`` pair).

Both forms are priced from one spec: ``Spec.reparam`` selects the inference form (``folded``), so the folded
network's spec derives from the training one. The branches always carry batch norm (folding it away is the
point) and symmetric padding (so the 1x1 branch sits at the centre of the KxK kernel it folds into).
MobileOne's stem is a re-parameterizable conv too (``Stem.branches``), priced here as well.
"""

from __future__ import annotations

from lwviz.families.base import Family, LayerArgs, kernel_facts
from lwviz.families.ops import OpCost, conv_op, elementwise_op, numel, pool_op
from lwviz.families.shapes import conv_out
from lwviz.i18n import N_, Phrase


def has_identity(in_chs: int, out_chs: int, stride: int) -> bool:
    """The BN-only branch exists where the input can be added as it is."""
    return in_chs == out_chs and stride == 1


def reparam_conv_ops(
    name: str,
    in_chs: int,
    out_chs: int,
    kernel: int,
    stride: int,
    in_size: int,
    *,
    groups: int,
    act: str,
    branches: int,
    folded: bool,
) -> list[OpCost]:
    """One re-parameterizable conv (timm's ``MobileOneBlock``): its training branches, or the one conv they fold into.

    Training: [identity BN], ``branches`` KxK conv + BN, [1x1 conv + BN when K > 1], then the sum of the branches
    and the activation (``branch_sum``: one add per extra branch and one activation per output element).
    Folded: one KxK conv with a bias, then the activation.
    """
    if folded:
        return [conv_op(f"{name}.reparam_conv", in_chs, out_chs, kernel, stride, in_size, groups=groups, act=act,
                        norm=False)]  # fmt: skip
    out_size = conv_out(in_size, kernel, stride)
    out = (out_chs, out_size, out_size)
    ops = []
    identity = has_identity(in_chs, out_chs, stride)
    if identity:  # batch norm of the input: scale and shift per channel
        ops.append(
            OpCost(f"{name}.identity", "elementwise", (in_chs, in_size, in_size), out, 2 * out_chs, 0, numel(out))
        )
    ops += [
        conv_op(f"{name}.conv_kxk.{i}", in_chs, out_chs, kernel, stride, in_size, groups=groups)
        for i in range(branches)
    ]
    if kernel > 1:
        ops.append(conv_op(f"{name}.conv_scale", in_chs, out_chs, 1, stride, in_size, groups=groups))
    summed = branches + (kernel > 1) + identity
    ops.append(elementwise_op(f"{name}.branch_sum", out, out, numel(out) * (summed - 1 + (act != "none"))))
    return ops


def mobileone_ops(a: LayerArgs) -> list[OpCost]:
    common = dict(act=a.act, branches=a.branches, folded=a.folded)
    return [
        *reparam_conv_ops(f"{a.name}.dw", a.in_chs, a.in_chs, a.kernel, a.stride, a.in_size, groups=a.in_chs, **common),
        *reparam_conv_ops(f"{a.name}.pw", a.in_chs, a.out_chs, 1, 1, a.out_size, groups=1, **common),
    ]


def mobileone_stem_ops(a: LayerArgs) -> list[OpCost]:
    """MobileOne's stem (``Stem.branches`` >= 1): one dense re-parameterizable KxK conv, then the stem's pooling."""
    ops = reparam_conv_ops(
        "stem", a.in_chs, a.out_chs, a.kernel, a.stride, a.in_size, groups=1, act=a.act, branches=a.branches,
        folded=a.folded,
    )  # fmt: skip
    if a.pool == "none":
        return ops
    return [*ops, pool_op("stem.pool", a.out_chs, conv_out(a.in_size, a.kernel, a.stride), a.out_size)]


def mobileone_title(a: LayerArgs) -> str:
    return N_("MobileOne block, folded") if a.folded else N_("MobileOne block")


def mobileone_facts(a: LayerArgs) -> list[str]:
    if a.folded:
        how = N_("one dw conv + one 1×1 conv, each with a bias")
    else:
        how = Phrase("{k} branches per conv, summed", k=a.branches)
    return [how, *kernel_facts(a)]


FAMILIES = (
    Family(
        "mobileone",
        N_("MobileOne block, re-parameterizable (MobileOne)"),
        2023,
        formula=mobileone_ops,
        title=mobileone_title,
        facts=mobileone_facts,
    ),
)
