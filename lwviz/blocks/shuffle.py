"""ShuffleNetV2 unit: split the channels, transform one half, concatenate, shuffle.

Stride 1 with equal widths: half the channels pass through untouched (cheap, and
memory-access friendly). Otherwise (downsampling or a width change) both halves are
computed from the whole input: ``branch_proj`` (depthwise + 1x1) beside ``branch_main``.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.layers import ChannelShuffle, ConvNormAct


class ShuffleUnit(nn.Module):
    has_skip = False

    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1, *, act: str = "relu",
                 norm: bool = True, bn_eps: float = 1e-5, tf_same: bool = False, **_unused):
        super().__init__()
        conv = dict(norm=norm, bn_eps=bn_eps, tf_same=tf_same)
        half = out_chs // 2
        self.split = stride == 1 and in_chs == out_chs
        if not self.split:
            self.branch_proj = nn.Sequential(
                ConvNormAct(in_chs, in_chs, kernel, stride, groups=in_chs, act="none", **conv),
                ConvNormAct(in_chs, half, 1, act=act, **conv),
            )
        main_in = half if self.split else in_chs
        self.branch_main = nn.Sequential(
            ConvNormAct(main_in, half, 1, act=act, **conv),
            ConvNormAct(half, half, kernel, stride, groups=half, act="none", **conv),
            ConvNormAct(half, half, 1, act=act, **conv),
        )
        self.cat = FloatFunctional()
        self.shuffle = ChannelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.split:
            keep, x = x.chunk(2, dim=1)
        else:
            keep = self.branch_proj(x)
        return self.shuffle(self.cat.cat([keep, self.branch_main(x)], dim=1))
