"""The network as the frame path runs it: batch norm folded into the convolutions, channels-last memory.

In eval mode batch norm is a fixed per-channel scale and shift, so it can be folded into the
weights and bias of the convolution before it: one pass over each feature map instead of two
(three with the activation). Channels-last is the memory layout oneDNN's CPU convolutions
prefer, and the layout a camera frame already has. Together a clear gain at batch 1 on one
thread (docs/BENCHMARKS.md, compress: "float folded"), with the same outputs up to float
rounding. Deployment tools do the same before shipping.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from lwviz.layers.conv import ConvNormAct


def inference_copy(model: nn.Module) -> nn.Module:
    """A faster copy of eval-mode ``model`` for inference only; ``model`` is left untouched."""
    if model.training:
        raise ValueError("model: it is in training mode; batch norm folds only in eval mode")
    fast = copy.deepcopy(model)
    for m in fast.modules():
        if isinstance(m, ConvNormAct) and isinstance(m.bn, nn.BatchNorm2d):
            m.conv, m.bn = fuse_conv_bn_eval(m.conv, m.bn), nn.Identity()
    return fast.to(memory_format=torch.channels_last)
