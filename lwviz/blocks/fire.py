"""SqueezeNet Fire module: squeeze to few channels with 1x1, expand with parallel 1x1 and KxK.

``expand`` is the ratio output / squeeze channels (8 in SqueezeNet). SqueezeNet
downsamples with max-pooling, so a stride-2 Fire pools (3x3, ceil mode) first.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.layers import ConvNormAct


def fire_chs(out_chs: int, expand: float) -> tuple[int, int, int]:
    """(squeeze, expand 1x1, expand KxK) channels."""
    return max(1, round(out_chs / expand)), out_chs // 2, out_chs - out_chs // 2


class Fire(nn.Module):
    has_skip = False

    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1, *, expand: float = 8.0,
                 act: str = "relu", norm: bool = True, bn_eps: float = 1e-5, tf_same: bool = False, **_unused):
        super().__init__()
        conv = dict(act=act, norm=norm, bn_eps=bn_eps)
        squeeze, e1, e3 = fire_chs(out_chs, expand)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True) if stride > 1 else nn.Identity()
        self.squeeze = ConvNormAct(in_chs, squeeze, 1, **conv)
        self.expand1x1 = ConvNormAct(squeeze, e1, 1, **conv)
        self.expand3x3 = ConvNormAct(squeeze, e3, kernel, **conv)
        self.cat = FloatFunctional()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(self.pool(x))
        return self.cat.cat([self.expand1x1(x), self.expand3x3(x)], dim=1)
