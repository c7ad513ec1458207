"""ShuffleNetV2 unit as a module; its shapes and cost are in lwviz.families.shuffle."""

from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.blocks.conv import conv_of
from lwviz.families import LayerArgs
from lwviz.families.shuffle import splits
from lwviz.layers import ChannelShuffle


class ShuffleUnit(nn.Module):
    def __init__(self, a: LayerArgs):
        super().__init__()
        half = a.out_chs // 2
        self.split = splits(a)
        if not self.split:
            self.branch_proj = nn.Sequential(
                conv_of(a, a.in_chs, a.in_chs, a.kernel, a.stride, groups=a.in_chs, act="none"),
                conv_of(a, a.in_chs, half),
            )
        self.branch_main = nn.Sequential(
            conv_of(a, half if self.split else a.in_chs, half),
            conv_of(a, half, half, a.kernel, a.stride, groups=half, act="none"),
            conv_of(a, half, half),
        )
        self.cat = FloatFunctional()
        self.shuffle = ChannelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.split:
            keep, x = x.chunk(2, dim=1)
        else:
            keep = self.branch_proj(x)
        return self.shuffle(self.cat.cat([keep, self.branch_main(x)], dim=1))


BLOCKS = {"shuffle": ShuffleUnit}
