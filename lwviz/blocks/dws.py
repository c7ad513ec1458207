"""Depthwise-separable convolution (MobileNetV1) as a module; its shapes and cost are in lwviz.families.dws."""

from __future__ import annotations

from torch import nn

from lwviz.blocks.conv import conv_of
from lwviz.families import LayerArgs, se_channels
from lwviz.layers import SqueezeExcite


class DepthwiseSeparable(nn.Module):
    def __init__(self, a: LayerArgs):
        super().__init__()
        self.conv_dw = conv_of(a, a.in_chs, a.in_chs, a.kernel, a.stride, groups=a.in_chs)
        self.se = (
            SqueezeExcite(a.in_chs, se_channels(a.se_style, a.in_chs, a.in_chs, a.se), a.act, a.se_style)
            if a.se > 0
            else nn.Identity()
        )
        self.conv_pw = conv_of(a, a.in_chs, a.out_chs)

    def forward(self, x):
        return self.conv_pw(self.se(self.conv_dw(x)))


BLOCKS = {"dws": DepthwiseSeparable}
