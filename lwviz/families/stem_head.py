"""The priced operations of the two layers that are no family's block: the stem and the classifier.

Their ``nn.Module`` lives in lwviz/blocks/stem_head.py.
"""

from __future__ import annotations

from dataclasses import replace

from lwviz.families.base import LayerArgs
from lwviz.families.ops import OpCost, conv_op, elementwise_op, fc_op, pool_op


def stem_ops(a: LayerArgs) -> list[OpCost]:
    conv = conv_op(
        "stem.conv", a.in_chs, a.out_chs, a.kernel, a.stride, a.in_size, act=a.act, norm=a.norm, padded=a.padded
    )
    if a.pool == "none":
        return [conv]
    return [conv, pool_op("stem.pool", a.out_chs, conv.out_shape[1], a.out_size)]


def classifier_ops(a: LayerArgs) -> list[OpCost]:
    c, s, n = a.in_chs, a.in_size, a.out_chs
    if a.classifier == "conv":
        fc = replace(conv_op("classifier.fc", c, n, 1, 1, s, act=a.act, norm=False), kind="fc")
        return [fc, elementwise_op("classifier.pool", fc.out_shape, (n, 1, 1), n * s * s)]
    ops = [elementwise_op("classifier.pool", (c, s, s), (c, 1, 1), c * s * s)]
    if a.hidden:
        ops.append(fc_op("classifier.fc_hidden", c, a.hidden, act=a.act))
        c = a.hidden
    return ops + [fc_op("classifier.fc", c, n, bias=a.classifier != "linear_nobias")]
