"""timm's models as references for the presets that name them (timm is a test dependency; nothing downloads)."""

from __future__ import annotations

import timm
import torch
from torch import nn

from lwviz.builder import Net, build
from lwviz.presets import PRESETS
from lwviz.weights.sources import convert_timm
from tests.reference import randomize_bn


def timm_reference(preset: str, scale: tuple[float, float] = (0.5, 1.5), seed: int = 0) -> nn.Module:
    """timm's model of ``preset``, random weights (``pretrained=False``), non-trivial batch norm, eval mode."""
    torch.manual_seed(seed)
    model = timm.create_model(PRESETS[preset].timm, pretrained=False)
    randomize_bn(model, scale)
    return model.eval()


def converted(preset: str, reference: nn.Module) -> Net:
    """Our model of ``preset`` holding ``reference``'s tensors, eval mode."""
    model = build(PRESETS[preset].spec)
    model.load_state_dict(convert_timm(reference, model))
    return model.eval()


@torch.no_grad()
def max_difference(a: nn.Module, b: nn.Module, resolution: int, seed: int = 1) -> float:
    x = torch.randn(2, 3, resolution, resolution, generator=torch.Generator().manual_seed(seed))
    return (a(x) - b(x)).abs().max().item()
