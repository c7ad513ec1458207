"""The stem (first conv, optional max-pool) and the classifier (pool, optional hidden FC, dropout, FC)."""
from __future__ import annotations

import torch
from torch import nn

from lwviz.layers import ConvNormAct, make_act


class Stem(nn.Module):
    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int, *, act: str, pool: str = "none",
                 padded: bool = True, norm: bool = True, bn_eps: float = 1e-5, tf_same: bool = False):
        super().__init__()
        self.conv = ConvNormAct(in_chs, out_chs, kernel, stride, act=act, norm=norm, bn_eps=bn_eps,
                                tf_same=tf_same, padded=padded)
        pools = {"none": nn.Identity(), "max": nn.MaxPool2d(3, 2, 1), "maxceil": nn.MaxPool2d(3, 2, ceil_mode=True)}
        self.pool = pools[pool]

    def forward(self, x):
        return self.pool(self.conv(x))


class Classifier(nn.Module):
    """``linear``: global average pool, [hidden FC + act], dropout, FC.

    ``conv`` (SqueezeNet): dropout, 1x1 conv to the classes + act, global average pool:
    a network with no fully connected layer at all.
    """

    def __init__(self, in_chs: int, num_classes: int, *, hidden: int = 0, act: str = "relu", dropout: float = 0.2,
                 kind: str = "linear"):
        super().__init__()
        self.kind = kind
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        if kind == "conv":
            self.fc = nn.Conv2d(in_chs, num_classes, 1)
            self.act = make_act(act)
            return
        if hidden:
            self.fc_hidden = nn.Linear(in_chs, hidden)
            self.act = make_act(act)
            in_chs = hidden
        self.fc = nn.Linear(in_chs, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "conv":
            return self.pool(self.act(self.fc(self.dropout(x)))).flatten(1)
        x = self.pool(x).flatten(1)
        if hasattr(self, "fc_hidden"):
            x = self.act(self.fc_hidden(x))
        return self.fc(self.dropout(x))
