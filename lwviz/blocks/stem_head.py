"""The stem (first conv, optional max-pool) and the classifier (pool, optional hidden FC, dropout, FC)."""

from __future__ import annotations

import torch
from torch import nn

from lwviz.families import LayerArgs
from lwviz.layers import ConvNormAct, make_act


class Stem(nn.Module):
    def __init__(self, a: LayerArgs):
        super().__init__()
        self.conv = ConvNormAct(
            a.in_chs,
            a.out_chs,
            a.kernel,
            a.stride,
            act=a.act,
            norm=a.norm,
            bn_eps=a.bn_eps,
            tf_same=a.tf_same,
            padded=a.padded,
        )
        pools = {"none": nn.Identity(), "max": nn.MaxPool2d(3, 2, 1), "maxceil": nn.MaxPool2d(3, 2, ceil_mode=True)}
        self.pool = pools[a.pool]

    def forward(self, x):
        return self.pool(self.conv(x))


class Classifier(nn.Module):
    """``linear``: global average pool, [hidden FC + act], dropout, FC (``linear_nobias``: the same, FC without bias).

    ``conv`` (SqueezeNet): dropout, 1x1 conv to the classes + act, global average pool:
    a network with no fully connected layer at all.
    """

    def __init__(self, a: LayerArgs):
        super().__init__()
        self.kind = a.classifier
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(a.dropout)
        if self.kind == "conv":
            self.fc = nn.Conv2d(a.in_chs, a.out_chs, 1)
            self.act = make_act(a.act)
            return
        in_chs = a.in_chs
        if a.hidden:
            self.fc_hidden = nn.Linear(in_chs, a.hidden)
            self.act = make_act(a.act)
            in_chs = a.hidden
        self.fc = nn.Linear(in_chs, a.out_chs, bias=a.classifier != "linear_nobias")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "conv":
            return self.pool(self.act(self.fc(self.dropout(x)))).flatten(1)
        x = self.pool(x).flatten(1)
        if hasattr(self, "fc_hidden"):
            x = self.act(self.fc_hidden(x))
        return self.fc(self.dropout(x))
