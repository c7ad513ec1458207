"""Conv + BN (+ ReLU) folded into one convolution before int8, and ReLU6's output range fixed to [0, 6].

A ReLU folds into its convolution. A ReLU6 stays a clamp of its own, but the convolution's int8
range is fixed to [0, 6] instead of observed: observed before the clamp it spans far more than
the clamp keeps (tens in Lite0), which leaves a handful of int8 levels for all that matters. That
one change is most of what int8 Lite0 needs to agree with float (docs/BENCHMARKS.md, compress).
"""

from __future__ import annotations

import torch.ao.quantization as tq
from torch import nn

from lwviz.layers.conv import ConvNormAct


def clamped_qconfig(qconfig: tq.QConfig, low: float, high: float) -> tq.QConfig:
    """``qconfig`` with its activations fixed to ``[low, high]`` over the engine's integer range."""
    observer = qconfig.activation()
    scale = (high - low) / (observer.quant_max - observer.quant_min)
    fixed = tq.FixedQParamsObserver.with_args(
        scale=scale,
        zero_point=observer.quant_min - round(low / scale),
        dtype=observer.dtype,
        quant_min=observer.quant_min,
        quant_max=observer.quant_max,
    )
    if isinstance(observer, tq.FakeQuantizeBase):  # quantization-aware training rounds with the fixed range too
        fixed = tq.FixedQParamsFakeQuantize.with_args(observer=fixed)
    return tq.QConfig(activation=fixed, weight=qconfig.weight)


def fuse(model: nn.Module, relu6_qconfig: tq.QConfig, qat: bool = False) -> None:
    """Fold BN into the convolution of every ``ConvNormAct``; ReLU into it, ReLU6 into its output range.

    The ReLU6 itself stays (a cheap int8 clamp): the kernels saturate at the int8 type's 255, not at
    the 127 the x86 qconfig's 7-bit range ends at, so values from 6 to 12 would pass otherwise.
    """
    groups, relu6 = [], []
    for name, m in model.named_modules():
        if isinstance(m, ConvNormAct) and isinstance(m.bn, nn.BatchNorm2d):
            groups.append([f"{name}.conv", f"{name}.bn"] + ([f"{name}.act"] if type(m.act) is nn.ReLU else []))
            if type(m.act) is nn.ReLU6:
                relu6.append(f"{name}.conv")
    if groups:  # for training, BN stays inside the fused module and keeps learning until convert folds it
        (tq.fuse_modules_qat if qat else tq.fuse_modules)(model, groups, inplace=True)
    for conv in relu6:
        model.get_submodule(conv).qconfig = relu6_qconfig
