"""Structural re-parameterization: MobileOne's training network folded into its plain inference network.

Every branch of a re-parameterizable conv is linear in its input once batch norm uses its running statistics:
``BN(conv_W(x)) = conv_{W * g / s}(x) + (b - m * g / s)`` with ``s = sqrt(var + eps)``. A 1x1 branch is a KxK
kernel that is zero except at its centre, and the BN-only identity branch is a KxK kernel with a single 1 per
channel. Convolution is linear in its kernel, so the sum of the branches is one conv whose kernel and bias are
the sums of theirs (Ding et al. 2021, RepVGG; Vasu et al. 2023, MobileOne). The outputs are those of the training
network in eval mode.

The folded network's spec is the training spec with ``reparam`` set (:func:`inference_spec`), so both forms are
priced, drawn and timed from one spec.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lwviz.blocks.mobileone import ReparamConv
from lwviz.builder import Net, build
from lwviz.plan import resolve
from lwviz.spec import Spec


def is_reparameterizable(spec: Spec) -> bool:
    """Whether ``spec`` has a MobileOne block or stem, whose training form folds into another network."""
    return any(a.block == "mobileone" or (a.block == "stem" and a.branches) for a in resolve(spec).layers)


def inference_spec(spec: Spec) -> Spec:
    """The spec of ``spec``'s inference form: every re-parameterizable conv folded into one conv with a bias."""
    return spec.with_(reparam=True)


def training_spec(spec: Spec) -> Spec:
    """The spec of ``spec``'s training form (the branches unfolded)."""
    return spec.with_(reparam=False)


def _bn_scale_shift(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
    return scale, bn.bias.double() - bn.running_mean.double() * scale


def folded_kernel_bias(conv: ReparamConv) -> tuple[torch.Tensor, torch.Tensor]:
    """The kernel and bias of the one conv equal to ``conv``'s branches (computed in float64, returned in float32)."""
    first = conv.conv_kxk[0].conv
    out_chs, in_per_group, k, _ = first.weight.shape
    kernel = torch.zeros(first.weight.shape, dtype=torch.float64)
    bias = torch.zeros(out_chs, dtype=torch.float64)
    branches = [(b.conv.weight.double(), b.bn) for b in conv.conv_kxk]
    if conv.conv_scale is not None:  # the 1x1 kernel at the centre of a KxK one
        pad = k // 2
        branches.append((F.pad(conv.conv_scale.conv.weight.double(), [pad, pad, pad, pad]), conv.conv_scale.bn))
    if conv.identity is not None:  # x itself: a 1 at the centre, from each channel to itself (within its group)
        eye = torch.zeros(first.weight.shape, dtype=torch.float64)
        channels = torch.arange(out_chs)
        eye[channels, channels % in_per_group, k // 2, k // 2] = 1.0
        branches.append((eye, conv.identity))
    for weight, bn in branches:
        scale, shift = _bn_scale_shift(bn)
        kernel += weight * scale.view(-1, 1, 1, 1)
        bias += shift
    return kernel.float(), bias.float()


@torch.no_grad()
def reparameterize(model: Net) -> Net:
    """A new model of ``model``'s inference form with the folded weights, in eval mode; ``model`` is not changed.

    Its outputs equal ``model``'s in eval mode (to float32 rounding). Every layer that is no re-parameterizable conv
    has the same name in both forms and is copied as it is.
    """
    folded = build(inference_spec(model.spec))
    source = model.state_dict()
    convs = dict(model.named_modules())
    state = {}
    for name, module in folded.named_modules():
        if isinstance(module, ReparamConv):
            weight, bias = folded_kernel_bias(convs[name])
            state[f"{name}.reparam_conv.weight"], state[f"{name}.reparam_conv.bias"] = weight, bias
    for key in folded.state_dict():
        state.setdefault(key, source.get(key))
    missing = sorted(k for k, v in state.items() if v is None)
    if missing:
        raise ValueError(f"reparameterize: the training model has no tensor for {missing[0]}")
    folded.load_state_dict(state)
    return folded.eval()
