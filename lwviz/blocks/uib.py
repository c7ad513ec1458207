"""Universal inverted bottleneck (MobileNetV4) as a module, and MobileNetV4's classifier; their shapes, cost and
the why are in lwviz.families.uib."""

from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.blocks.conv import conv_of
from lwviz.families import LayerArgs
from lwviz.families.uib import uib_mid_chs, uib_strides
from lwviz.layers import ConvNormAct


class UniversalInvertedBottleneck(nn.Module):
    """Modules in timm's order (``dw_start``, ``pw_exp``, ``dw_mid``, ``pw_proj``), so a state_dict converts by
    position; an absent depthwise conv is ``nn.Identity``."""

    def __init__(self, a: LayerArgs):
        super().__init__()
        mid = uib_mid_chs(a)
        start_stride, mid_stride = uib_strides(a)
        self.has_skip = a.has_skip
        self.dw_start = (
            conv_of(a, a.in_chs, a.in_chs, a.dw_start, start_stride, groups=a.in_chs, act="none")
            if a.dw_start
            else nn.Identity()
        )
        self.pw_exp = conv_of(a, a.in_chs, mid)
        self.dw_mid = conv_of(a, mid, mid, a.kernel, mid_stride, groups=mid) if a.mid_dw else nn.Identity()
        self.pw_proj = conv_of(a, mid, a.out_chs, act="none")
        if self.has_skip:
            self.skip_add = FloatFunctional()  # a module, so eager-mode quantization can swap it

    def forward(self, x):
        out = self.pw_proj(self.dw_mid(self.pw_exp(self.dw_start(x))))
        return self.skip_add.add(out, x) if self.has_skip else out


class NormedClassifier(nn.Module):
    """MobileNetV4's classifier (``linear_bn``): global average pool, a 1x1 conv without bias + BN + activation on
    the pooled vector, dropout, FC. Its tensors come in timm's order (``conv_head``, ``norm_head``, classifier)."""

    def __init__(self, a: LayerArgs):
        super().__init__()
        self.kind = a.classifier
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc_hidden = ConvNormAct(a.in_chs, a.hidden, 1, act=a.act, bn_eps=a.bn_eps)
        self.dropout = nn.Dropout(a.dropout)
        self.fc = nn.Linear(a.hidden, a.out_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.fc_hidden(self.pool(x)).flatten(1)))


BLOCKS = {"uib": UniversalInvertedBottleneck}
