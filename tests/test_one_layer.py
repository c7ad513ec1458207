from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lwviz.cost import analyze
from lwviz.cost.one_layer import LIMITS, OneLayer
from lwviz.cost.tracer import trace
from lwviz.families.ops import conv_op
from lwviz.presets import get_preset
from lwviz.viz.layer_figures import (
    OUTPUT,
    PADDING_READ,
    READ,
    count,
    fewer,
    kernel_figure,
    latex_formulas,
    ratio_figure,
)

PAPER = OneLayer(in_chs=512, out_chs=512, kernel=3, height=14, width=14)


def torch_convs(layer: OneLayer) -> dict[str, nn.Conv2d]:
    """The three convolutions as real modules: "same" padding, no bias, the depthwise one carries the stride."""
    k, m, n, s = layer.kernel, layer.in_chs, layer.out_chs, layer.stride
    return {
        "standard": nn.Conv2d(m, n, k, s, padding=k // 2, bias=False),
        "depthwise": nn.Conv2d(m, m, k, s, padding=k // 2, groups=m, bias=False),
        "pointwise": nn.Conv2d(m, n, 1, bias=False),
    }


@torch.no_grad()
def measured(conv: nn.Conv2d, height: int, width: int) -> tuple[int, int, tuple[int, ...]]:
    """(weights, MACs by torch's FlopCounterMode, output shape) of one conv run on an H x W input."""
    x = torch.zeros(1, conv.in_channels, height, width)
    with FlopCounterMode(display=False) as counter:
        out = conv(x)
    return sum(p.numel() for p in conv.parameters()), counter.get_total_flops() // 2, tuple(out.shape[1:])


def test_mobilenet_paper_example():
    """Section 3.1 of the MobileNet paper: M = N = 512, D_K = 3, D_F = 14."""
    assert PAPER.standard.macs == 3 * 3 * 512 * 512 * 14 * 14 == 462_422_016
    assert PAPER.separable_macs == 3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14 == 52_283_392
    assert PAPER.standard.params == 2_359_296 and PAPER.separable_params == 266_752
    assert PAPER.macs_ratio == Fraction(1, 512) + Fraction(1, 9) == Fraction(521, 4608)
    # the tracer prices the real modules the same way
    for name, conv in torch_convs(PAPER).items():
        (row,) = trace(conv, resolution=14, in_chs=512)
        part = getattr(PAPER, name)
        assert (row.params, row.macs, row.out_shape) == (part.params, part.macs, (part.out_chs, 14, 14)), name


@pytest.mark.parametrize(
    "in_chs, out_chs, kernel, height, width, stride",
    [
        (512, 512, 3, 14, 14, 1),
        (32, 64, 3, 112, 112, 2),
        (24, 40, 5, 56, 56, 2),
        (7, 13, 7, 15, 9, 3),  # odd sizes, not square
        (3, 16, 11, 1, 5, 4),  # the window is larger than the input: padding fills it
        (1, 1, 1, 1, 1, 1),
        (16, 8, 1, 10, 11, 2),  # a 1x1 layer: separable costs more, not less
    ],
)
def test_costs_equal_real_modules(in_chs, out_chs, kernel, height, width, stride):
    layer = OneLayer(in_chs, out_chs, kernel, height, width, stride)
    for name, conv in torch_convs(layer).items():
        part = getattr(layer, name)
        x_size = (layer.out_height, layer.out_width) if name == "pointwise" else (height, width)
        params, macs, shape = measured(conv, *x_size)
        assert (part.params, part.macs) == (params, macs), name
        assert shape == (part.out_chs, layer.out_height, layer.out_width), name
        assert part.outputs == int(np.prod(shape)) and part.macs == part.outputs * part.macs_per_output
    assert (layer.out_height, layer.out_width) == (-(-height // stride), -(-width // stride))  # ceil(H / s)
    assert layer.separable_params == layer.depthwise.params + layer.pointwise.params


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
@pytest.mark.parametrize("kernel", [1, 3, 5, 7, 11])
@pytest.mark.parametrize("out_chs", [1, 24, 512, 4096])
def test_ratio_is_the_theory_exactly(out_chs, kernel, stride):
    """1/N + 1/K^2 exactly, for MACs and for weights, at every stride and size."""
    layer = OneLayer(in_chs=40, out_chs=out_chs, kernel=kernel, height=29, width=17, stride=stride)
    exact = Fraction(1, out_chs) + Fraction(1, kernel**2)
    assert layer.macs_ratio == exact and layer.params_ratio == exact
    assert float(layer.macs_ratio) == pytest.approx(layer.theory_ratio, rel=1e-15)


def test_agrees_with_the_network_tables():
    """A MobileNetV1 block priced as one layer: its dw + pw MACs and its standard-conv baseline."""
    for layer_cost in analyze(get_preset("mobilenet_v1")).layers:
        if not layer_cost.is_block:
            continue
        (c, size, _), stride = layer_cost.in_shape, layer_cost.stride
        layer = OneLayer(c, layer_cost.out_shape[0], layer_cost.kernel, size, size, stride)
        assert layer.separable_macs == layer_cost.macs, layer_cost.name
        assert layer.standard.macs == layer_cost.baseline_macs, layer_cost.name
        bn = 2 * (layer.in_chs + layer.out_chs)  # weights only here; the tables add BN scale and shift
        assert layer.separable_params + bn == layer_cost.params, layer_cost.name
        assert layer.standard.macs == conv_op("std", c, layer.out_chs, layer.kernel, stride, size).macs


@pytest.mark.parametrize(
    "field, value, range_text",
    [
        ("in_chs", 0, "1..4096"),
        ("in_chs", 4097, "1..4096"),
        ("out_chs", 0, "1..4096"),
        ("out_chs", 5000, "1..4096"),
        ("kernel", 4, "odd integer in 1..11"),
        ("kernel", 13, "1..11"),
        ("kernel", 0, "1..11"),
        ("height", 0, "1..1024"),
        ("width", 1025, "1..1024"),
        ("stride", 5, "1..4"),
        ("stride", 0, "1..4"),
        ("height", 14.0, "1..1024"),
        ("stride", True, "1..4"),
    ],
)
def test_invalid_inputs_name_the_field_and_range(field, value, range_text):
    args = dict(in_chs=512, out_chs=512, kernel=3, height=14, width=14, stride=1) | {field: value}
    with pytest.raises(ValueError, match=rf"\({field}\) must be an? .*{range_text}, got {value!r}"):
        OneLayer(**args)


def test_limits_name_every_field():
    assert list(LIMITS) == ["in_chs", "out_chs", "kernel", "height", "width", "stride"]
    for field, limit in LIMITS.items():
        OneLayer(**{f: lim.low for f, lim in LIMITS.items()} | {field: limit.high})  # both ends are allowed


# ----- the figures and formulas of the page --------------------------------------------------------


def cells(fig, row: int, state: int) -> int:
    return int(np.sum(np.asarray(fig.data[row].z, dtype=float) == state))


@pytest.mark.parametrize("layer", [PAPER, OneLayer(5, 8, 5, 9, 12, 2), OneLayer(3, 16, 11, 1, 5, 2)])
def test_kernel_figure_colours_one_cell_per_mac(layer):
    """Read cells (inputs and the padding the window multiplies) = MACs per output value, per drawn channel."""
    fig = kernel_figure(layer, max_channels=8)
    drawn = min(layer.in_chs, 8)
    for row, (part, channels) in enumerate([(layer.standard, drawn), (layer.depthwise, 1), (layer.pointwise, drawn)]):
        per_channel = part.kernel**2
        assert cells(fig, row, READ) + cells(fig, row, PADDING_READ) == per_channel * channels
        assert cells(fig, row, OUTPUT) == 1
        assert (
            f"{part.macs_per_output:,} MACs per output value × {part.outputs:,} outputs"
            in fig.layout.annotations[row].text
        )
    labels = [a.text for a in fig.layout.annotations if a.text.startswith("ch ")]
    expected = [f"ch {i}" for i in range(1, drawn)] + [f"ch {layer.in_chs:,}"]
    assert labels == expected * 3


def test_kernel_figure_padding_where_the_window_overhangs():
    fig = kernel_figure(OneLayer(3, 16, 11, 1, 5, 2))
    assert cells(fig, 0, READ) == 3 * 5  # one real row of five pixels per channel
    assert cells(fig, 0, PADDING_READ) == 3 * (121 - 5)
    assert cells(fig, 1, READ) == 5 and cells(fig, 1, PADDING_READ) == 116


def test_ratio_figure_marks_this_layer_on_the_theory_curves():
    layer = OneLayer(64, 100, 5, 28, 28, 2)
    fig = ratio_figure(layer)
    curves = {t.name: t for t in fig.data if t.name.startswith("K = ")}
    assert list(curves) == ["K = 3", "K = 5", "K = 7"]
    for k, trace_ in ((3, curves["K = 3"]), (7, curves["K = 7"])):
        assert trace_.x[0] == 1 and trace_.x[-1] == 2048
        assert list(trace_.y) == [float(Fraction(1, n) + Fraction(1, k * k)) for n in trace_.x]
    stars = [t for t in fig.data if t.name == "this layer"]
    assert [(t.x[0], t.y[0]) for t in stars] == [(100, float(layer.macs_ratio)), (5, float(layer.macs_ratio))]
    by_kernel = next(t for t in fig.data if t.name == "N = 100")
    assert list(by_kernel.x) == [1, 3, 5, 7, 9, 11] and by_kernel.y[0] == 1 + 1 / 100  # a 1x1 layer costs more
    assert "K = 9" in {t.name for t in ratio_figure(OneLayer(64, 100, 9, 28, 28)).data}  # the current K is drawn


def test_latex_formulas_fill_in_the_numbers():
    f = latex_formulas(PAPER)
    assert r"D_K \cdot D_K \cdot M \cdot N \cdot H_{out} \cdot W_{out}" in f["standard MACs"]
    assert r"3 \cdot 3 \cdot 512 \cdot 512 \cdot 14 \cdot 14" in f["standard MACs"]
    assert "462{,}422{,}016" in f["standard MACs"]
    assert r"3 \cdot 3 \cdot 512 \cdot 14 \cdot 14 + 512 \cdot 512 \cdot 14 \cdot 14" in f["separable MACs"]
    assert "903{,}168 + 51{,}380{,}224 = 52{,}283{,}392" in f["separable MACs"]
    assert r"\frac{1}{512} + \frac{1}{9} = \frac{521}{4{,}608} \approx 0.1131" in f["ratio"]
    assert "2{,}359{,}296" in f["standard params"] and "4{,}608 + 262{,}144 = 266{,}752" in f["separable params"]
    strided = latex_formulas(OneLayer(32, 64, 3, 15, 9, 2))  # numbers use the output size, ceil(H / s)
    assert r"3 \cdot 3 \cdot 32 \cdot 64 \cdot 8 \cdot 5" in strided["standard MACs"]


def test_short_counts_and_savings():
    assert [count(n) for n in (3_456, 266_752, 462_422_016, 2_130_303_778_816)] == [
        "3,456",
        "266.8 k",
        "462.42 M",
        "2.13 T",
    ]
    assert fewer(float(PAPER.macs_ratio)) == "8.8× fewer" and fewer(1.01) == "1.01× more"
