"""Depthwise-separable convolution (MobileNetV1): a KxK filter per channel, then a 1x1 mix.

Cost against a dense KxK conv: 1/N + 1/K^2 (N output channels).
"""
from __future__ import annotations

from torch import nn

from lwviz.layers import ConvNormAct, SqueezeExcite, se_channels


class DepthwiseSeparable(nn.Module):
    has_skip = False

    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1, *, se: float = 0.0,
                 act: str = "relu", se_style: str = "efficientnet", norm: bool = True, bn_eps: float = 1e-5,
                 tf_same: bool = False, **_unused):
        super().__init__()
        conv = dict(norm=norm, bn_eps=bn_eps, tf_same=tf_same)
        self.conv_dw = ConvNormAct(in_chs, in_chs, kernel, stride, groups=in_chs, act=act, **conv)
        self.se = (SqueezeExcite(in_chs, se_channels(se_style, in_chs, in_chs, se), act, se_style)
                   if se > 0 else nn.Identity())
        self.conv_pw = ConvNormAct(in_chs, out_chs, 1, act=act, **conv)

    def forward(self, x):
        return self.conv_pw(self.se(self.conv_dw(x)))
