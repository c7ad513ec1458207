"""Inverted residual / MBConv as a module; its shapes, cost and the why are in lwviz.families.inverted_residual."""

from __future__ import annotations

from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.blocks.conv import conv_of
from lwviz.families import LayerArgs
from lwviz.families.inverted_residual import has_expansion, ir_mid_chs, ir_se_chs
from lwviz.layers import SqueezeExcite


class InvertedResidual(nn.Module):
    def __init__(self, a: LayerArgs):
        super().__init__()
        mid = ir_mid_chs(a.in_chs, a.expand, a.divisor)
        self.has_skip = a.has_skip
        self.conv_pw = conv_of(a, a.in_chs, mid) if has_expansion(a) else nn.Identity()
        self.conv_dw = conv_of(a, mid, mid, a.kernel, a.stride, groups=mid)
        self.se = SqueezeExcite(mid, ir_se_chs(a), a.act, a.se_style) if a.se > 0 else nn.Identity()
        self.conv_pwl = conv_of(a, mid, a.out_chs, act="none")
        if self.has_skip:
            self.skip_add = FloatFunctional()  # a module, so eager-mode quantization can swap it

    def forward(self, x):
        out = self.conv_pwl(self.se(self.conv_dw(self.conv_pw(x))))
        return self.skip_add.add(out, x) if self.has_skip else out


BLOCKS = {"ir": InvertedResidual, "mbconv": InvertedResidual}
