"""Fused-MBConv as a module; its shapes, cost and the why are in lwviz.families.fused_mbconv."""

from __future__ import annotations

from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.blocks.conv import conv_of
from lwviz.families import LayerArgs
from lwviz.families.fused_mbconv import fused_mid_chs, fused_se_chs
from lwviz.families.inverted_residual import has_expansion
from lwviz.layers import SqueezeExcite


class FusedMBConv(nn.Module):
    """Modules in torchvision's order (fused conv, then projection), so a state_dict converts by position."""

    def __init__(self, a: LayerArgs):
        super().__init__()
        mid = fused_mid_chs(a)
        self.has_skip = a.has_skip
        self.conv_fused = conv_of(a, a.in_chs, mid, a.kernel, a.stride)
        self.se = SqueezeExcite(mid, fused_se_chs(a), a.act, a.se_style) if a.se > 0 else nn.Identity()
        self.conv_pwl = conv_of(a, mid, a.out_chs, act="none") if has_expansion(a) else nn.Identity()
        if self.has_skip:
            self.skip_add = FloatFunctional()  # a module, so eager-mode quantization can swap it

    def forward(self, x):
        out = self.conv_pwl(self.se(self.conv_fused(x)))
        return self.skip_add.add(out, x) if self.has_skip else out


BLOCKS = {"fused": FusedMBConv}
