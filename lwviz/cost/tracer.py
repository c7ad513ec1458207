"""Measure params and MACs of any ``nn.Module`` from a real forward pass.

Forward hooks on leaf modules read the actual tensor shapes, so the tracer prices
zoo models and user models the builder never saw, and checks the analytic model
(same convention: conv and linear multiply-accumulates, bias excluded).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lwviz.hooks import eval_mode, forward_hooks


@dataclass(frozen=True)
class TracedOp:
    name: str  # module path
    type: str  # module class name
    out_shape: tuple[int, ...]
    params: int
    macs: int


def _macs(module: nn.Module, out: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out[0].numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return out[0].numel() * module.in_features
    return 0


@torch.no_grad()
def trace(model: nn.Module, resolution: int = 224, in_chs: int = 3) -> list[TracedOp]:
    """One row per leaf module that ran, in execution order (batch 1, eval mode, model restored)."""
    rows: list[TracedOp] = []

    def hook(module, _inputs, out, *, name):
        if isinstance(out, torch.Tensor):
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(TracedOp(name, type(module).__name__, tuple(out.shape[1:]), params, _macs(module, out)))

    leaves = [(m, partial(hook, name=name)) for name, m in model.named_modules() if not list(m.children())]
    with eval_mode(model), forward_hooks(post=leaves):
        model(torch.zeros(1, in_chs, resolution, resolution))
    return rows


def group(rows: list[TracedOp], prefixes: list[str]) -> dict[str, tuple[int, int]]:
    """Sum (params, MACs) of traced rows under each module path prefix (longest prefix wins)."""
    ordered = sorted(prefixes, key=len, reverse=True)
    sums = {p: [0, 0] for p in prefixes}
    for row in rows:
        owner = next((p for p in ordered if row.name == p or row.name.startswith(p + ".")), None)
        if owner is not None:
            sums[owner][0] += row.params
            sums[owner][1] += row.macs
    return {p: (v[0], v[1]) for p, v in sums.items()}


@torch.no_grad()
def flop_counter_macs(model: nn.Module, resolution: int = 224, in_chs: int = 3) -> int:
    """Total MACs by torch's ``FlopCounterMode`` (it reports FLOPs = 2 x MACs), on the model's device: a model
    on the meta device is counted from shapes alone, without arithmetic."""
    device = next(model.parameters()).device
    with eval_mode(model), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, in_chs, resolution, resolution, device=device))
    return counter.get_total_flops() // 2
