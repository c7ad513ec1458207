"""Squeeze-and-excitation: a per-channel gate computed from the globally pooled features."""

from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.layers.activations import make_act

# style -> the gate, as in the papers and torchvision: EfficientNet's sigmoid, MobileNetV3's hard sigmoid (whose
# squeeze also uses ReLU rather than the block's activation). The squeeze widths: lwviz.families.se_channels.
SE_GATES = {"efficientnet": nn.Sigmoid, "mobilenetv3": nn.Hardsigmoid}


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
