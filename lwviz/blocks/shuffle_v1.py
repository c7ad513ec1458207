"""ShuffleNetV1 unit as a module; its shapes and cost are in lwviz.families.shuffle_v1.

The shuffle follows the authors' released code (ShuffleNet-Series), which their ImageNet weights assume: after
the depthwise convolution, and reshaping the channels to ``(C/g, g)`` before transposing, so the last 1x1's group
``q`` reads every channel ``c`` with ``c % g == q``. The paper draws it before the depthwise convolution (which
works per channel, so that is only a renumbering) and describes the transposed reshape; when ``C/g`` is not a
multiple of ``g`` the two wire the groups differently, and only the authors' wiring can load their weights.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.blocks.conv import conv_of
from lwviz.families import LayerArgs
from lwviz.families.shuffle_v1 import v1_branch_chs, v1_concat, v1_mid_chs, v1_pw_groups
from lwviz.layers import ChannelShuffle, make_act


class ShuffleV1Unit(nn.Module):
    def __init__(self, a: LayerArgs):
        super().__init__()
        mid = v1_mid_chs(a.out_chs, a.expand, a.groups)
        self.concat = v1_concat(a.in_chs, a.out_chs, a.stride)
        self.has_skip = a.has_skip
        self.conv_pw = conv_of(a, a.in_chs, mid, groups=v1_pw_groups(a))
        self.conv_dw = conv_of(a, mid, mid, a.kernel, a.stride, groups=mid, act="none")
        self.shuffle = ChannelShuffle(mid // a.groups)  # the authors' (C/g, g) reshape; see the module docstring
        self.conv_pwl = conv_of(a, mid, v1_branch_chs(a.in_chs, a.out_chs, a.stride), groups=a.groups, act="none")
        self.pool = nn.AvgPool2d(3, 2, 1) if self.concat else nn.Identity()
        self.merge = FloatFunctional()
        self.act = make_act(a.act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_pwl(self.shuffle(self.conv_dw(self.conv_pw(x))))
        if self.concat:
            out = self.merge.cat([self.pool(x), out], dim=1)
        elif self.has_skip:
            out = self.merge.add(out, x)
        return self.act(out)


BLOCKS = {"shufflev1": ShuffleV1Unit}
