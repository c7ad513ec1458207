"""TF-"same" convolutions (EfficientNet-Lite0's) made plain convolutions with symmetric padding, for int8.

TF "same" pads by an amount that depends on the input size and puts the odd pixel right/bottom,
which in int8 would take a quantized ``ZeroPad2d`` before the convolution, an op that costs more
than the convolution itself (docs/BENCHMARKS.md, compress). Instead the kernel grows by one with a
leading row/column of zeros and pads symmetrically: the same windows, the same output size, no
extra op. The padding is then fixed for one input size, so a quantized model is made for one
resolution.
"""

from __future__ import annotations

import math
from functools import partial

import torch
from torch import nn

from lwviz.hooks import forward_hooks
from lwviz.layers.conv import Conv2dSame


def fix_same_padding(model: nn.Module, example: torch.Tensor) -> None:
    """Replace every ``Conv2dSame`` by a plain ``Conv2d`` padding as it did on ``example`` (see ``fixed_padding``)."""
    sizes: dict[str, tuple[int, int]] = {}

    def record(name: str, _module: nn.Module, args: tuple) -> None:
        sizes[name] = args[0].shape[-2:]

    same = [(name, m) for name, m in model.named_modules() if isinstance(m, Conv2dSame)]
    with forward_hooks(pre=[(m, partial(record, name)) for name, m in same]), torch.no_grad():
        model(example)
    for name, conv in same:
        parent, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent), attr, fixed_padding(conv, sizes[name]))


def fixed_padding(same: Conv2dSame, size: tuple[int, int]) -> nn.Conv2d:
    """A plain ``Conv2d`` computing what ``same`` computes on ``size``-sized inputs, with symmetric padding.

    TF "same" padding puts the odd pixel right/bottom (``(0, 1)`` for a 3x3 stride-2 conv on an
    even size); here the kernel grows by one with a leading row/column of zeros and pads ``(1, 1)``.
    """
    kernel, padding, offset = [], [], []
    for n, k, s in zip(size, same.kernel_size, same.stride):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        grow = total % 2  # an odd total: one more pixel after than before
        kernel.append(k + grow)
        padding.append(total // 2 + grow)
        offset.append(grow)
    plain = nn.Conv2d(
        same.in_channels,
        same.out_channels,
        tuple(kernel),
        same.stride,
        tuple(padding),
        same.dilation,
        same.groups,
        same.bias is not None,
    ).train(same.training)
    with torch.no_grad():
        plain.weight.zero_()
        plain.weight[..., offset[0] :, offset[1] :] = same.weight
        if same.bias is not None:
            plain.bias.copy_(same.bias)
    return plain
