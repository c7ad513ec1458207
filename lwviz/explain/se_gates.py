"""Channel attention: the squeeze-and-excitation gates a network computes for one picture.

Every SE block pools its input to one number per channel, passes it through two small layers
and a sigmoid (or hard sigmoid) and multiplies each channel by the result: a gate in [0, 1]
that says how much this picture needs that channel. A forward hook on each block's ``gate``
module reads those vectors; the hooks are removed in ``finally``. Like :func:`grad_cam`, the
capture hooks ``model`` itself: give it a model no other thread runs meanwhile.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lwviz.hooks import forward_hooks
from lwviz.i18n import N_
from lwviz.layers.se import SqueezeExcite
from lwviz.plan import resolve
from lwviz.spec import Spec

NO_SE_REASON = {
    "efficientnet_lite0": N_(
        "EfficientNet-Lite removed squeeze-and-excitation on purpose: its per-channel multiply by "
        "a sigmoid quantizes poorly to int8 and runs slowly on mobile accelerators, and the "
        "Lite models are made for exactly those."
    ),
}


@dataclass(frozen=True, eq=False)
class GateCapture:
    blocks: tuple[str, ...]  # the blocks with SE, input to output, e.g. "stages.1.0"
    gates: tuple[np.ndarray, ...]  # per block: [channels] float32, each channel's gate in [0, 1]
    probs: np.ndarray  # [num_classes] softmax of the same forward pass
    features: np.ndarray | None = None  # [channels, H, W]: what the ``features_of`` block's SE gated

    def gate(self, block: str) -> np.ndarray:
        return self.gates[self._index(block)]

    def _index(self, block: str) -> int:
        try:
            return self.blocks.index(block)
        except ValueError:
            raise ValueError(f"block: {block!r} has no SE; choose one of {', '.join(self.blocks)}") from None


def se_blocks(model: nn.Module) -> dict[str, SqueezeExcite]:
    """Block name (``stages.1.0``) -> its SE module, in forward order."""
    return {name.rpartition(".")[0]: m for name, m in model.named_modules() if isinstance(m, SqueezeExcite)}


def has_se(model: nn.Module) -> bool:
    return any(isinstance(m, SqueezeExcite) for m in model.modules())


def spec_has_se(spec: Spec) -> bool:
    """Whether a network of ``spec`` has SE blocks, without building it."""
    return any(block.se > 0 for block in resolve(spec).blocks)


def capture_gates(model: nn.Module, x: torch.Tensor, features_of: str | None = None) -> GateCapture:
    """Every SE gate of ``model`` for one picture ``x`` ``[1, C, H, W]``, and optionally one block's input maps."""
    blocks = se_blocks(model)
    if not blocks:
        raise ValueError("model: it has no squeeze-and-excitation blocks")
    if features_of is not None and features_of not in blocks:
        raise ValueError(f"features_of: {features_of!r} has no SE; choose one of {', '.join(blocks)}")
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"x: expected one picture [1, C, H, W], got shape {tuple(x.shape)}")
    gates: dict[str, torch.Tensor] = {}
    features: list[torch.Tensor] = []

    def keep_gate(name: str):
        return lambda module, args, out: gates.__setitem__(name, out.detach())

    def keep_features(module, args):
        features.append(args[0].detach())

    pre = [(blocks[features_of], keep_features)] if features_of is not None else []
    with (
        forward_hooks(pre=pre, post=[(se.gate, keep_gate(name)) for name, se in blocks.items()]),
        torch.inference_mode(),
    ):
        logits = model(x)
    return GateCapture(
        tuple(blocks),
        tuple(gates[name][0, :, 0, 0].float().numpy() for name in blocks),
        logits.float().softmax(-1)[0].numpy(),
        features[0][0].float().numpy() if features else None,
    )


class OpenGate(nn.Module):
    """A gate stuck at 1: the SE block passes every channel through unchanged."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(x)


def ablate_se(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every SE gate forced to 1 (``model`` is untouched); the gates still show up
    in :func:`capture_gates`, as ones."""
    ablated = copy.deepcopy(model)
    for se in se_blocks(ablated).values():
        se.gate = OpenGate()
    return ablated
