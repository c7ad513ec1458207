"""Block families as plain records, without torch: one module per family, found by looking in this package.

A family module (``conv``, ``dws``, ``inverted_residual``, ...) defines ``FAMILIES``, a tuple of
:class:`Family` records: defaults, checks, output size, the cost formula, the diagram's words,
and the channel helpers that the formula and the ``nn.Module`` share. Its ``nn.Module`` lives in
the file of the same name in lwviz/blocks/. Both packages discover their modules, so adding a
family is one file here and one there.
"""

from __future__ import annotations

from lwviz.families.base import BYTES_FP32, Family, LayerArgs, peak_activation_bytes
from lwviz.families.mobileone import mobileone_stem_ops
from lwviz.families.ops import OP_KINDS, OpCost
from lwviz.families.shapes import conv_out, make_divisible, pool_out, se_channels
from lwviz.families.stem_head import classifier_ops, stem_ops
from lwviz.families.uib import normed_classifier_ops
from lwviz.registry import add, from_each_module

FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    return add(FAMILIES, family.name, family, "block family")


for family in sorted(
    (f for found in from_each_module(__name__, __path__, "FAMILIES", default=()) for f in found),
    key=lambda f: (f.year, f.name),
):
    register(family)


def layer_ops(a: LayerArgs) -> list[OpCost]:
    """The priced operations of any resolved layer: a block by its family's formula, stem and classifier by theirs
    (MobileOne's re-parameterizable stem and MobileNetV4's normed classifier are priced beside their families)."""
    if a.block == "stem":
        return mobileone_stem_ops(a) if a.branches else stem_ops(a)
    if a.block == "classifier":
        return normed_classifier_ops(a) if a.classifier == "linear_bn" and a.hidden else classifier_ops(a)
    return FAMILIES[a.block].formula(a)


__all__ = [
    "BYTES_FP32",
    "FAMILIES",
    "Family",
    "LayerArgs",
    "OP_KINDS",
    "OpCost",
    "conv_out",
    "layer_ops",
    "make_divisible",
    "peak_activation_bytes",
    "pool_out",
    "register",
    "se_channels",
]
