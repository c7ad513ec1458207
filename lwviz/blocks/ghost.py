"""Ghost module and ghost bottleneck (GhostNet) as modules; their shapes, cost and the why are in
lwviz.families.ghost."""

from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.blocks.conv import conv_of
from lwviz.families import LayerArgs
from lwviz.families.ghost import CHEAP_KERNEL, ghost_chs, ghost_mid_chs, ghost_se_chs
from lwviz.layers import SqueezeExcite


class GhostModule(nn.Module):
    """A 1x1 primary conv, cheap depthwise convs of its maps, both concatenated and cut to ``out_chs``."""

    def __init__(self, a: LayerArgs, in_chs: int, out_chs: int, act: str):
        super().__init__()
        primary, ghosts = ghost_chs(out_chs, a.ratio)
        self.out_chs = out_chs
        self.primary_conv = conv_of(a, in_chs, primary, act=act)
        self.cheap_operation = conv_of(a, primary, ghosts, CHEAP_KERNEL, groups=primary, act=act)
        self.cat = FloatFunctional()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.primary_conv(x)
        return self.cat.cat([x, self.cheap_operation(x)], dim=1)[:, : self.out_chs]


class GhostBottleneck(nn.Module):
    """Modules in timm's order (ghost1, dw, SE, ghost2, shortcut), so a state_dict converts by position."""

    def __init__(self, a: LayerArgs):
        super().__init__()
        mid = ghost_mid_chs(a)
        self.has_skip = a.has_skip
        self.ghost1 = GhostModule(a, a.in_chs, mid, a.act)
        self.conv_dw = (
            conv_of(a, mid, mid, a.kernel, a.stride, groups=mid, act="none") if a.stride > 1 else nn.Identity()
        )
        # GhostNet's SE: ReLU and a hard-sigmoid gate (our MobileNetV3 style), its own squeeze width
        self.se = SqueezeExcite(mid, ghost_se_chs(a), "relu", "mobilenetv3") if a.se > 0 else nn.Identity()
        self.ghost2 = GhostModule(a, mid, a.out_chs, "none")
        self.shortcut = (
            nn.Identity()
            if a.has_skip
            else nn.Sequential(
                conv_of(a, a.in_chs, a.in_chs, a.kernel, a.stride, groups=a.in_chs, act="none"),
                conv_of(a, a.in_chs, a.out_chs, act="none"),
            )
        )
        self.skip_add = FloatFunctional()  # a module, so eager-mode quantization can swap it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.ghost2(self.se(self.conv_dw(self.ghost1(x))))
        return self.skip_add.add(out, self.shortcut(x))


BLOCKS = {"ghost": GhostBottleneck}
