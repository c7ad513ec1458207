"""Reference implementations that are not on PyPI, kept for tests only (each file names its source and license)."""

import torch

from lwviz.weights.convert import convert_state_dict


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


def assert_block_equals(ours: torch.nn.Module, ref: torch.nn.Module, in_chs: int) -> None:
    """``ours`` has as many parameters as the reference block ``ref`` and, given its weights (and randomized
    batch norms), the same outputs within 1e-5 on a batch of 16x16 inputs."""
    randomize_bn(ref)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in ref.parameters())
    ours.load_state_dict(convert_state_dict(ref.state_dict(), ours))
    x = torch.randn(2, in_chs, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=0)
