"""Convolution + normalization + activation, TF-"same" padding, and channel shuffle."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lwviz.layers.activations import make_act


class Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow's "SAME" padding (extra pixel right/bottom for even inputs).

    The EfficientNet-Lite weights were trained this way; symmetric padding shifts the
    stride-2 sampling grid by one pixel and costs accuracy.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


class ConvNormAct(nn.Sequential):
    """``conv -> bn -> act``; absent parts are ``nn.Identity`` so every instance has the same names."""

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel: int = 1,
        stride: int = 1,
        groups: int = 1,
        act: str = "relu",
        norm: bool = True,
        bn_eps: float = 1e-5,
        tf_same: bool = False,
        padded: bool = True,
    ):
        if tf_same and stride > 1:
            conv = Conv2dSame(in_chs, out_chs, kernel, stride, 0, groups=groups, bias=not norm)
        else:
            pad = (kernel - 1) // 2 if padded else 0
            conv = nn.Conv2d(in_chs, out_chs, kernel, stride, pad, groups=groups, bias=not norm)
        super().__init__()
        self.conv = conv
        self.bn = nn.BatchNorm2d(out_chs, eps=bn_eps) if norm else nn.Identity()
        self.act = make_act(act)


class ChannelShuffle(nn.Module):
    """Interleave channels across ``groups`` so grouped convolutions can exchange information."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
