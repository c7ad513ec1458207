"""Squeeze-and-excitation: a per-channel gate computed from the globally pooled features."""
from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.layers.activations import make_act
from lwviz.spec import make_divisible

# style -> (inner activation or None for the block's own, gate). These match the papers
# and torchvision: EfficientNet reduces from the block input, MobileNetV3 from the
# expanded channels rounded to 8, with ReLU and a hard-sigmoid gate.
SE_GATES = {"efficientnet": nn.Sigmoid, "mobilenetv3": nn.Hardsigmoid}


def se_channels(style: str, in_chs: int, mid_chs: int, ratio: float) -> int:
    if style == "mobilenetv3":
        return make_divisible(int(mid_chs * ratio), 8)
    return max(1, int(in_chs * ratio))


class SqueezeExcite(nn.Module):
    """``x * gate(fc2(act(fc1(avgpool(x)))))``.

    ``self.gate`` is a module, so a forward hook on it captures the per-channel
    attention vector (shape ``[N, C, 1, 1]``) without storing state on the model. The multiply
    is a ``FloatFunctional`` module (plain ``torch.mul`` in float) so that eager-mode int8 can
    swap it for a quantized multiply, as torchvision's quantizable MobileNetV3 does.
    """

    def __init__(self, chs: int, rd_chs: int, act: str, style: str):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(chs, rd_chs, 1)
        self.act = make_act("relu" if style == "mobilenetv3" else act)
        self.fc2 = nn.Conv2d(rd_chs, chs, 1)
        self.gate = SE_GATES[style]()
        self.multiply = FloatFunctional()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.multiply.mul(x, self.gate(self.fc2(self.act(self.fc1(self.pool(x))))))
