"""Quantization-aware training of a network trained on the digits."""

import pytest
import torch
from torch.ao.nn import quantized as nnq

from lwviz.compress.measure import file_size
from lwviz.compress.qat import quantize_aware
from lwviz.compress.quantize import Int8Net
from lwviz.data import digits
from lwviz.train.loop import digits_se_spec, evaluate, train


@pytest.fixture(scope="module")
def trained():
    return train(digits_se_spec(), steps=100)  # ~97% held-out (tests/test_train.py)


def test_qat_gives_an_int8_network_as_accurate_as_float_and_leaves_the_model_alone(trained):
    model, history = trained
    before = {name: value.clone() for name, value in model.state_dict().items()}
    data = digits()
    steps = []
    int8 = quantize_aware(model, data, steps=20, progress=lambda step, total, loss: steps.append((step, total)))
    assert isinstance(int8, Int8Net) and not int8.training and int8.float_layers == ()
    assert not any(isinstance(m, torch.nn.Conv2d) for m in int8.modules())  # no float convolution is left
    assert sum(isinstance(m, nnq.Conv2d) for m in int8.modules()) == sum(
        isinstance(m, torch.nn.Conv2d) for m in model.modules()
    )
    assert steps[-1] == (20, 20)
    assert evaluate(int8, data.test_x, data.test_y) >= history.test_accuracy - 0.02
    assert file_size(int8) < 0.75 * file_size(model)  # 40k params: per-channel scales weigh (Lite0: 3.6x smaller)
    assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())
    assert not model.training


def test_qat_learns_with_int8_rounding_in_the_forward_pass(trained):
    """Weights move during fine-tuning, seeded: the same seed gives the same int8 weights, another seed others."""
    model, _ = trained
    data = digits()
    stopped = quantize_aware(model, data, should_stop=lambda: True)  # no step: int8 of the trained weights
    a, b, c = (quantize_aware(model, data, steps=5, seed=seed) for seed in (1, 1, 2))

    def stem_weights(net):
        return net.module.stem.conv.conv.weight().int_repr()

    assert torch.equal(stem_weights(a), stem_weights(b))
    assert not torch.equal(stem_weights(a), stem_weights(c))
    assert not torch.equal(stem_weights(a), stem_weights(stopped))
    assert evaluate(stopped, data.test_x, data.test_y) > 0.9  # ranges from real activations, not defaults


def test_bad_arguments(trained):
    model, _ = trained
    with pytest.raises(ValueError, match=r"steps: 0 is outside 1\.\."):
        quantize_aware(model, digits(), steps=0)
    model.train()
    try:
        with pytest.raises(ValueError, match="model: it is in training mode; quantize an eval"):
            quantize_aware(model, digits())
    finally:
        model.eval()
