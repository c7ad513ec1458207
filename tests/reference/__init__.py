"""Reference implementations that are not on PyPI, kept for tests only (each file names its source and license)."""

import torch


def randomize_bn(model: torch.nn.Module, scale: tuple[float, float] = (0.5, 1.5)) -> None:
    """Non-trivial batch-norm statistics and affine weights, so a wrong eps or BN pairing shows in the outputs.

    ``scale`` bounds the BN weights: networks that sum several branches per layer (MobileOne) need them below 1,
    or their activations grow by the number of branches at every layer and float32 rounding drowns the comparison.
    """
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(*scale)
            m.bias.data.uniform_(-0.5 * scale[1] / 1.5, 0.5 * scale[1] / 1.5)
