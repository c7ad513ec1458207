"""Activation registry. Never in-place: Grad-CAM and backward hooks need the inputs intact."""

from __future__ import annotations

from torch import nn

from lwviz.i18n import N_

ACTIVATION_LAYERS = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "hswish": nn.Hardswish,
    "silu": nn.SiLU,
    "none": nn.Identity,
}

ACTIVATION_LABELS = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "hswish": "h-swish",
    "silu": N_("swish (SiLU)"),
    "none": N_("none (linear)"),
}


def make_act(name: str) -> nn.Module:
    try:
        return ACTIVATION_LAYERS[name]()
    except KeyError:
        raise ValueError(f"act: unknown activation {name!r}; choose one of {', '.join(ACTIVATION_LAYERS)}") from None
