"""Standard convolution block: one dense KxK conv + BN + activation."""

from __future__ import annotations

from torch import nn

from lwviz.families import LayerArgs
from lwviz.layers import ConvNormAct


def conv_of(
    a: LayerArgs, in_chs: int, out_chs: int, kernel: int = 1, stride: int = 1, groups: int = 1, act: str | None = None
) -> ConvNormAct:
    """One ConvNormAct inside block ``a``: the network's norm and padding, the block's activation unless given."""
    return ConvNormAct(
        in_chs,
        out_chs,
        kernel,
        stride,
        groups,
        act=a.act if act is None else act,
        norm=a.norm,
        bn_eps=a.bn_eps,
        tf_same=a.tf_same,
    )


class ConvBlock(nn.Module):
    def __init__(self, a: LayerArgs):
        super().__init__()
        self.conv = conv_of(a, a.in_chs, a.out_chs, a.kernel, a.stride)

    def forward(self, x):
        return self.conv(x)


BLOCKS = {"conv": ConvBlock}
