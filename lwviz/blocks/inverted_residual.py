"""Inverted residual with linear bottleneck (MobileNetV2) and MBConv with SE (MobileNetV3, EfficientNet).

Expand with a 1x1 conv, filter each channel with a KxK depthwise conv, optionally
re-weight channels with squeeze-and-excitation, project back with a *linear* 1x1 conv
(no activation: ReLU would destroy information in the narrow bottleneck), and add the
input when the shapes allow.
"""
from __future__ import annotations

from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.layers import ConvNormAct, SqueezeExcite, se_channels
from lwviz.spec import make_divisible


def ir_mid_chs(in_chs: int, expand: float, divisor: int = 8) -> int:
    """Expanded channels: ``in_chs`` itself for ratio 1, else rounded to the divisor."""
    return in_chs if expand == 1 else make_divisible(in_chs * expand, divisor)


class InvertedResidual(nn.Module):
    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1, *, expand: float = 6.0,
                 se: float = 0.0, act: str = "relu6", se_style: str = "efficientnet", divisor: int = 8,
                 norm: bool = True, bn_eps: float = 1e-5, tf_same: bool = False, **_unused):
        super().__init__()
        conv = dict(norm=norm, bn_eps=bn_eps, tf_same=tf_same)
        mid = ir_mid_chs(in_chs, expand, divisor)
        self.has_skip = stride == 1 and in_chs == out_chs
        self.conv_pw = ConvNormAct(in_chs, mid, 1, act=act, **conv) if mid != in_chs else nn.Identity()
        self.conv_dw = ConvNormAct(mid, mid, kernel, stride, groups=mid, act=act, **conv)
        self.se = (SqueezeExcite(mid, se_channels(se_style, in_chs, mid, se), act, se_style)
                   if se > 0 else nn.Identity())
        self.conv_pwl = ConvNormAct(mid, out_chs, 1, act="none", **conv)
        if self.has_skip:
            self.skip_add = FloatFunctional()  # a module, so eager-mode quantization can swap it

    def forward(self, x):
        out = self.conv_pwl(self.se(self.conv_dw(self.conv_pw(x))))
        return self.skip_add.add(out, x) if self.has_skip else out
