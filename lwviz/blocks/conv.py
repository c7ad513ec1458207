"""Standard convolution block: the dense KxK baseline every lightweight block is measured against."""
from __future__ import annotations

from torch import nn

from lwviz.layers import ConvNormAct


class ConvBlock(nn.Module):
    has_skip = False

    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1, *, act: str = "relu",
                 norm: bool = True, bn_eps: float = 1e-5, tf_same: bool = False, **_unused):
        super().__init__()
        self.conv = ConvNormAct(in_chs, out_chs, kernel, stride, act=act, norm=norm, bn_eps=bn_eps, tf_same=tf_same)

    def forward(self, x):
        return self.conv(x)
