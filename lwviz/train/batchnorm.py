"""Batch-norm statistics re-estimated from pictures: after pruning, and after training.

Batch norm normalizes with running averages of what its layer produced. They go stale whenever
the weights change faster than the averages follow: pruning changes what every later layer
receives at once, and a short training run moves the weights a long way in a few dozen steps
(after 50 steps on the digits, the averages still described the early weights and the network
answered at chance in eval mode). One pass over a few hundred pictures with the final weights
puts them right, without labels or gradients.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def recalibrate_batchnorm(model: nn.Module, images: torch.Tensor, batch_size: int = 64) -> nn.Module:
    """A copy of ``model`` whose batch-norm statistics are re-estimated on ``images`` (no labels, no training).

    Pruning changes what every later layer receives, so the running means and variances batch norm
    learned no longer fit and each layer normalizes with the wrong numbers; a few hundred unlabeled
    images put them right and recover much of the lost accuracy without a single gradient step
    (fine-tuning recovers the rest). Only the statistics change; every weight stays as it was.
    """
    if len(images) == 0:
        raise ValueError("images: at least one image is needed to estimate batch-norm statistics")
    fresh = copy.deepcopy(model).eval()
    norms = [m for m in fresh.modules() if isinstance(m, BATCH_NORMS)]
    if not norms:
        raise ValueError("model: it has no batch norm layers to recalibrate")
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over all batches, not an exponential one
        m.train()
    with torch.no_grad():
        for batch in images.split(batch_size):
            fresh(batch)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    return fresh.train(model.training)
