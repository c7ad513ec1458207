"""The pictures int8 ranges are set from, and the bias correction their mean activations allow.

Calibration runs skimage's bundled photos (no download) through the observed network: each
activation's int8 range comes from them. The same pass records every convolution's and linear
layer's mean input per channel, from which each bias absorbs the mean error its layer's rounded
weights add (Nagel et al. 2019, sec. 4.2; what it buys Lite0 is in docs/BENCHMARKS.md, compress).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.ao.nn.quantized.modules.utils import _quantize_weight  # torch's own: the weight rounding convert() applies

from lwviz.hooks import forward_hooks
from lwviz.weights.preprocess import Preprocess

# skimage's bundled photos (no download): colour and grey, natural and microscopy, for activation ranges
CALIBRATION_PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "camera",
    "brick",
    "grass",
    "gravel",
    "moon",
    "clock",
    "coins",
)


def calibration_images(preprocess: Preprocess) -> torch.Tensor:
    """skimage's sample photos and their mirror images, preprocessed: ``[28, 3, crop, crop]``."""
    import skimage.data

    batch = []
    for name in CALIBRATION_PHOTOS:
        photo = getattr(skimage.data, name)()
        rgb = np.ascontiguousarray(np.repeat(photo[..., None], 3, axis=2) if photo.ndim == 2 else photo[..., :3])
        batch += [preprocess(rgb), preprocess(np.ascontiguousarray(rgb[:, ::-1]))]
    return torch.cat(batch)


def input_means(model: nn.Module, batches: list[torch.Tensor]) -> dict[nn.Module, torch.Tensor]:
    """Run ``batches`` through ``model`` (its observers watching); the mean input channel of every conv and linear."""
    sums: dict[nn.Module, torch.Tensor] = {}
    counts: dict[nn.Module, int] = {}

    def record(module: nn.Module, args: tuple) -> None:
        x = args[0].detach().transpose(0, 1).flatten(1)  # [channels, everything else]
        sums[module] = sums.get(module, 0) + x.sum(1)
        counts[module] = counts.get(module, 0) + x.shape[1]

    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with forward_hooks(pre=[(m, record) for m in layers]), torch.no_grad():
        for batch in batches:
            model(batch)
    return {m: sums[m] / counts[m] for m in sums}


def correct_bias(means: dict[nn.Module, torch.Tensor]) -> None:
    """Subtract from each layer's bias the mean error its int8 weights will add; ``means`` from ``input_means``.

    Rounding the weights of an output channel shifts its mean output by ``sum(dW * E[x])``. Most
    inputs follow a ReLU, so ``E[x] > 0`` and the shift does not average out; it adds up layer
    after layer. Layers without a qconfig (those left in float) are left as they are.
    """
    for layer, mean in means.items():
        if getattr(layer, "qconfig", None) is None:
            continue
        observer = layer.qconfig.weight()
        observer(layer.weight)
        error = (_quantize_weight(layer.weight.detach().float(), observer).dequantize() - layer.weight).detach()
        error = error.flatten(2).sum(2) if error.dim() > 2 else error  # [out, in per group]
        groups = getattr(layer, "groups", 1)
        mean_seen = mean.view(groups, -1).repeat_interleave(layer.weight.shape[0] // groups, dim=0)
        shift = (error * mean_seen).sum(1)
        if layer.bias is None:
            layer.bias = nn.Parameter(-shift)
        else:
            layer.bias.data -= shift
