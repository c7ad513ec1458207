"""SqueezeNet's Fire module as a module; its shapes and cost are in lwviz.families.fire."""

from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.blocks.conv import conv_of
from lwviz.families import LayerArgs
from lwviz.families.fire import fire_chs


class Fire(nn.Module):
    def __init__(self, a: LayerArgs):
        super().__init__()
        squeeze, e1, e3 = fire_chs(a.out_chs, a.expand)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True) if a.stride > 1 else nn.Identity()
        self.squeeze = conv_of(a, a.in_chs, squeeze)
        self.expand1x1 = conv_of(a, squeeze, e1)
        self.expand3x3 = conv_of(a, squeeze, e3, a.kernel)
        self.cat = FloatFunctional()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(self.pool(x))
        return self.cat.cat([self.expand1x1(x), self.expand3x3(x)], dim=1)


BLOCKS = {"fire": Fire}
