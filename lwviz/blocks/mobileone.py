"""MobileOne's re-parameterizable conv, block and stem as modules; their cost and the why are in
lwviz.families.mobileone, the folding in lwviz.reparam."""

from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.quantized import FloatFunctional

from lwviz.families import LayerArgs
from lwviz.families.mobileone import has_identity
from lwviz.layers import ConvNormAct, make_act


class ReparamConv(nn.Module):
    """One re-parameterizable conv (timm's ``MobileOneBlock``): training branches summed, or the one conv with a
    bias they fold into. Modules in timm's order (``identity``, ``conv_kxk``, ``conv_scale``), so a state_dict
    converts by position; an absent branch is None, since an identity branch of ``nn.Identity`` would read as one."""

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel: int,
        stride: int,
        groups: int,
        act: str,
        branches: int,
        folded: bool,
        bn_eps: float = 1e-5,
    ):
        super().__init__()
        self.folded = folded
        if folded:
            self.reparam_conv = nn.Conv2d(in_chs, out_chs, kernel, stride, (kernel - 1) // 2, groups=groups)
        else:
            self.identity = nn.BatchNorm2d(out_chs, eps=bn_eps) if has_identity(in_chs, out_chs, stride) else None
            self.conv_kxk = nn.ModuleList(
                ConvNormAct(in_chs, out_chs, kernel, stride, groups, act="none", bn_eps=bn_eps) for _ in range(branches)
            )
            self.conv_scale = (
                ConvNormAct(in_chs, out_chs, 1, stride, groups, act="none", bn_eps=bn_eps) if kernel > 1 else None
            )
            self.branch_sum = FloatFunctional()  # a module, so eager-mode quantization can swap the adds
        self.act = make_act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.folded:
            return self.act(self.reparam_conv(x))
        # summed in timm's order (scale, KxK branches, identity), so float32 rounding is the same as the reference's
        branches = ([self.conv_scale] if self.conv_scale is not None else []) + list(self.conv_kxk)
        out = branches[0](x)
        for branch in branches[1:]:
            out = self.branch_sum.add(out, branch(x))
        if self.identity is not None:
            out = self.branch_sum.add(out, self.identity(x))
        return self.act(out)


class MobileOneBlock(nn.Module):
    """A depthwise KxK re-parameterizable conv (with the stride), then a pointwise 1x1 one."""

    def __init__(self, a: LayerArgs):
        super().__init__()
        common = dict(act=a.act, branches=a.branches, folded=a.folded, bn_eps=a.bn_eps)
        self.dw = ReparamConv(a.in_chs, a.in_chs, a.kernel, a.stride, a.in_chs, **common)
        self.pw = ReparamConv(a.in_chs, a.out_chs, 1, 1, 1, **common)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pw(self.dw(x))


class MobileOneStem(ReparamConv):
    """MobileOne's stem: a dense re-parameterizable KxK conv, then the stem's pooling, if any."""

    def __init__(self, a: LayerArgs):
        super().__init__(a.in_chs, a.out_chs, a.kernel, a.stride, 1, a.act, a.branches, a.folded, a.bn_eps)
        pools = {"none": nn.Identity(), "max": nn.MaxPool2d(3, 2, 1), "maxceil": nn.MaxPool2d(3, 2, ceil_mode=True)}
        self.pool = pools[a.pool]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(super().forward(x))


BLOCKS = {"mobileone": MobileOneBlock}
