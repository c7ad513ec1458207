"""ShuffleNetV1 unit: grouped 1x1 convs with a channel shuffle between them.

Grouped 1x1 convs cut the pointwise cost by the number of groups; the shuffle lets
information cross groups. A downsampling unit that widens the network concatenates an
average-pooled shortcut, so the convolution branch produces only ``out - in`` channels.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.layers import ChannelShuffle, ConvNormAct, make_act


def v1_mid_chs(out_chs: int, expand: float, groups: int) -> int:
    """Bottleneck channels: ``out * expand`` (the paper uses 1/4), a multiple of ``groups``."""
    return max(groups, round(out_chs * expand / groups) * groups)


def v1_concat(in_chs: int, out_chs: int, stride: int) -> bool:
    """The paper's stride-2 unit: concatenate the pooled input (only possible when widening)."""
    return stride > 1 and out_chs > in_chs


def v1_branch_chs(in_chs: int, out_chs: int, stride: int) -> int:
    return out_chs - in_chs if v1_concat(in_chs, out_chs, stride) else out_chs


class ShuffleV1Unit(nn.Module):
    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1, *, expand: float = 0.25,
                 groups: int = 4, act: str = "relu", norm: bool = True, bn_eps: float = 1e-5,
                 tf_same: bool = False, **_unused):
        super().__init__()
        conv = dict(norm=norm, bn_eps=bn_eps, tf_same=tf_same)
        mid = v1_mid_chs(out_chs, expand, groups)
        self.concat = v1_concat(in_chs, out_chs, stride)
        self.has_skip = stride == 1 and in_chs == out_chs
        self.conv_pw = ConvNormAct(in_chs, mid, 1, groups=groups, act=act, **conv)
        self.shuffle = ChannelShuffle(groups)
        self.conv_dw = ConvNormAct(mid, mid, kernel, stride, groups=mid, act="none", **conv)
        self.conv_pwl = ConvNormAct(mid, v1_branch_chs(in_chs, out_chs, stride), 1, groups=groups, act="none",
                                    **conv)
        self.pool = nn.AvgPool2d(3, 2, 1) if self.concat else nn.Identity()
        self.merge = FloatFunctional()
        self.act = make_act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_pwl(self.conv_dw(self.shuffle(self.conv_pw(x))))
        if self.concat:
            out = self.merge.cat([self.pool(x), out], dim=1)
        elif self.has_skip:
            out = self.merge.add(out, x)
        return self.act(out)
