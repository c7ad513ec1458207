"""The compression measurements on tiny hand-made models, where every number follows exactly."""

import io
import json
from dataclasses import asdict

import pytest
import torch
from torch import nn

from lwviz.compress import calibration_images, quantize_dynamic_int8, quantize_int8
from lwviz.compress.measure import (
    VARIANTS,
    agreement,
    compare_quantized,
    file_size,
    latencies_ms,
    latency_ms,
    nonzero_params,
    with_random_weights,
)
from lwviz.presets import get_preset
from lwviz.weights.preprocess import Preprocess

TINY = Preprocess(crop=32, resize=37)


def linear(weight, bias) -> nn.Linear:
    layer = nn.Linear(len(weight[0]), len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    return layer.eval()


def test_file_size_is_the_saved_state_dict_and_grows_with_the_weights():
    small, big = nn.Linear(10, 10), nn.Linear(100, 100)
    buffer = io.BytesIO()
    torch.save(big.state_dict(), buffer)
    assert file_size(big) == len(buffer.getvalue())
    assert file_size(small) < file_size(big) < file_size(nn.Linear(100, 200))
    extra = 4 * (100 * 101 - 10 * 11)  # 4 bytes per float32 weight or bias
    assert abs(file_size(big) - file_size(small) - extra) < 64  # up to the zip container's alignment


def test_int8_weights_take_a_quarter_of_the_bytes():
    big = nn.Sequential(nn.Linear(512, 512)).eval()
    ratio = file_size(big) / file_size(quantize_dynamic_int8(big))
    assert 3.5 < ratio <= 4.0  # one byte per weight instead of four, plus the float bias and scales


def test_nonzero_params_counts_weights_and_biases():
    layer = linear([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]], [0.0, 5.0])
    assert nonzero_params(layer) == 4
    assert nonzero_params(nn.Sequential(layer, nn.ReLU(), linear([[0.0, 1.0]], [1.0]))) == 6


def test_nonzero_params_counts_int8_weights_as_they_were_rounded():
    layer = linear([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]], [0.0, 5.0])
    assert nonzero_params(quantize_dynamic_int8(nn.Sequential(layer))) == 4  # the same zeros, now in int8
    tiny = linear([[1.0, 0.001, -1.0]], [0.0])  # 0.001 is a tenth of one int8 step (1/127.5): it rounds to 0
    assert nonzero_params(tiny) == 3 and nonzero_params(quantize_dynamic_int8(nn.Sequential(tiny))) == 2


def test_nonzero_params_of_a_static_int8_conv():
    conv = nn.Conv2d(2, 2, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[1.0, 0.0], [0.5, -2.0]]).view(2, 2, 1, 1))
        conv.bias.copy_(torch.tensor([0.0, 1.0]))
    half = torch.randint(-3, 4, (2, 2, 3, 3), generator=torch.Generator().manual_seed(0)).float()
    int8 = quantize_int8(nn.Sequential(conv).eval(), torch.cat([half, -half]))  # mean input 0: no bias correction
    assert nonzero_params(conv) == nonzero_params(int8) == 4  # the zero weight and the zero bias stay zero


def test_agreement_is_the_share_of_equal_top_1():
    reference = linear([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0])  # the larger input wins
    inputs = torch.tensor([[2.0, 1.0], [1.0, 2.0], [3.0, 0.0], [0.0, 3.0]])
    assert agreement(reference, linear([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]), inputs) == 1.0
    assert agreement(reference, linear([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0]), inputs) == 0.0  # classes swapped
    favours_1 = linear([[1.0, 0.0], [0.0, 1.0]], [0.0, 1.5])  # class 1 also wins on [2, 1]: 2 < 1 + 1.5
    assert agreement(reference, favours_1, inputs) == 0.75


class Counting(nn.Module):
    """Records every call: its name and torch's thread count at that moment."""

    def __init__(self, name: str, calls: list):
        super().__init__()
        self.name, self.calls = name, calls

    def forward(self, x):
        self.calls.append((self.name, torch.get_num_threads()))
        return x


def test_latency_runs_warmup_plus_runs_passes_on_one_thread_and_restores_threads():
    calls, before = [], torch.get_num_threads()
    ms = latency_ms(Counting("a", calls), torch.zeros(1), runs=4, warmup=2)
    assert ms >= 0 and calls == [("a", 1)] * 6 and torch.get_num_threads() == before


def test_latencies_alternate_rounds_between_models():
    calls = []
    a, b = Counting("a", calls), Counting("b", calls)
    assert len(latencies_ms([a, b], torch.zeros(1), runs=4, round_runs=2)) == 2
    assert [name for name, _ in calls] == ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3  # 1 warm-up + 2 runs


def test_random_weights_get_the_photos_batch_norm_statistics():
    photos = calibration_images(TINY)
    spec = get_preset("mobilenet_v2").with_(resolution=32, width=0.5)
    model = with_random_weights(spec, photos)
    assert not model.training and model.stem.conv.bn.momentum == 0.1
    with torch.no_grad():
        stem = model.stem.conv.conv(photos)
    assert torch.allclose(model.stem.conv.bn.running_mean, stem.mean((0, 2, 3)), atol=1e-5)
    assert torch.allclose(model.stem.conv.bn.running_var, stem.var((0, 2, 3)), rtol=1e-4)  # unbiased, as BN keeps it
    again, other = with_random_weights(spec, photos), with_random_weights(spec, photos, seed=1)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert not torch.equal(other.stem.conv.conv.weight, model.stem.conv.conv.weight)


def test_compare_quantized_measures_every_variant():
    photos = calibration_images(TINY)
    model = with_random_weights(get_preset("mobilenet_v3_small").with_(resolution=32, width=0.5), photos)
    rows = compare_quantized(model, TINY, runs=2)
    assert [r.variant for r in rows] == list(VARIANTS)
    plain, dynamic, static = rows
    assert (plain.size_bytes, plain.params_nonzero, plain.agreement) == (file_size(model), nonzero_params(model), 1.0)
    assert static.size_bytes * 3 < plain.size_bytes and dynamic.size_bytes < plain.size_bytes  # 3.3x here
    assert dynamic.agreement == agreement(model, quantize_dynamic_int8(model), photos)
    assert all(r.latency_ms > 0 for r in rows) and static.float_layers == ()
    assert json.loads(json.dumps(static.to_dict())) == {**asdict(static), "float_layers": []}


@pytest.mark.parametrize("runs", [0, -1])
def test_latency_needs_a_run(runs):
    with pytest.raises(ValueError, match="runs: must be at least 1"):
        latency_ms(nn.Identity(), torch.zeros(1), runs=runs)
