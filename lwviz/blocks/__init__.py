"""Resolved layers -> ``nn.Module``: one small module family per file, found by looking in this package.

Each block file defines ``BLOCKS``, family name -> module class; every class takes one resolved
:class:`~lwviz.families.LayerArgs`, so shapes, channel rounding and ``has_skip`` are decided once,
in lwviz.families, and the modules only turn them into layers.
"""

from __future__ import annotations

from torch import nn

from lwviz.blocks.mobileone import MobileOneStem
from lwviz.blocks.stem_head import Classifier, Stem
from lwviz.blocks.uib import NormedClassifier
from lwviz.families import LayerArgs
from lwviz.registry import add, from_each_module

BLOCKS: dict[str, type[nn.Module]] = {}
for blocks in from_each_module(__name__, __path__, "BLOCKS", default={}):
    for name, module in blocks.items():
        add(BLOCKS, name, module, "block module")


def build_layer(a: LayerArgs) -> nn.Module:
    """The module of a resolved layer: the stem, a stage block or the head conv, or the classifier (MobileOne's
    re-parameterizable stem and MobileNetV4's normed classifier live beside their families)."""
    if a.block == "stem":
        return MobileOneStem(a) if a.branches else Stem(a)
    if a.block == "classifier":
        return NormedClassifier(a) if a.classifier == "linear_bn" and a.hidden else Classifier(a)
    return BLOCKS[a.block](a)


__all__ = ["BLOCKS", "Classifier", "Stem", "build_layer"]
