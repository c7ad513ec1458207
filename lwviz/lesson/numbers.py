"""The numbers each lesson step fills into its formula, all from lwviz's own cost model (never typed in).

Counting follows the rest of lwviz: MACs are multiply-accumulates (bias excluded), FLOPs = 2 × MACs,
storage is float32 (4 bytes a parameter). The one-layer formulas count conv weights only, as the papers'
formulas do (:mod:`lwviz.cost.one_layer`); whole networks come from :func:`lwviz.cost.analyze`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

from lwviz.cost import analyze
from lwviz.cost.one_layer import ConvCost, OneLayer
from lwviz.families import BYTES_FP32, LayerArgs, layer_ops
from lwviz.families.fire import fire_chs
from lwviz.families.ops import se_op
from lwviz.presets import get_preset
from lwviz.spec import Spec

MB = 1e6  # storage in megabytes (10^6 bytes), as the papers and file managers write it

# ----- 1. why lightweight --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Footprint:
    """What a network costs: parameters and MACs, and what follows from them."""

    params: int
    macs: int

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def megabytes(self) -> float:
        """Storage of the float32 weights."""
        return self.params * BYTES_FP32 / MB


def mobilenet_v1(resolution: int = 224) -> Spec:
    return replace(get_preset("mobilenet_v1"), resolution=resolution)


def why_lightweight(resolution: int = 224) -> tuple[Footprint, Footprint]:
    """(standard-convolution network, MobileNet): MobileNetV1 with every depthwise conv made dense, and itself.

    The dense version is lwviz's dense baseline (:mod:`lwviz.cost.analytic`), close to the paper's Conv MobileNet.
    """
    table = analyze(mobilenet_v1(resolution))
    return Footprint(table.dense_params, table.dense_macs), Footprint(table.params, table.macs)


def made_dense(model):
    """``model`` with every depthwise and grouped conv replaced by a dense one of its class (groups = 1), in place:
    the network the dense baseline prices, to time or count it. Its weights are new and random, on the device of
    the conv it replaces (the meta device too): speed does not depend on them."""
    from torch import nn

    for module in list(model.modules()):
        for name, conv in list(module.named_children()):
            if isinstance(conv, nn.Conv2d) and conv.groups > 1:
                dense = type(conv)(  # lwviz's Conv2dSame keeps its TF-"same" padding
                    conv.in_channels,
                    conv.out_channels,
                    conv.kernel_size,
                    conv.stride,
                    conv.padding,
                    bias=conv.bias is not None,
                    device=conv.weight.device,
                )
                setattr(module, name, dense)
    return model


def measure_speeds(resolution: int = 224, runs: int = 5) -> tuple[float, float]:
    """Median milliseconds of one forward pass (batch 1, one thread, random weights): (dense version, MobileNet).

    Heavy (a second or two): the page runs it in the machine-wide job queue.
    """
    from lwviz.builder import build
    from lwviz.zoo import forward_ms

    spec = mobilenet_v1(resolution)
    mobile = build(spec).eval()
    dense = made_dense(build(spec)).eval()
    return (
        forward_ms(dense, threads=1, runs=runs, resolution=resolution),
        forward_ms(mobile, threads=1, runs=runs, resolution=resolution),
    )


# ----- 2. and 3. one convolution -------------------------------------------------------------------------------


def one_layer(kernel: int, in_chs: int, out_chs: int, size: int) -> OneLayer:
    """The paper's layer: D_K × D_K kernel, M -> N channels, a D_F × D_F feature map, stride 1 ("same" padding)."""
    return OneLayer(in_chs=in_chs, out_chs=out_chs, kernel=kernel, height=size, width=size)


def separable_ratio(layer: OneLayer) -> Fraction:
    """Separable / standard MACs, exact; it equals 1/N + 1/D_K² (Howard et al., eq. 5)."""
    return layer.macs_ratio


# ----- 4. width and resolution multipliers ---------------------------------------------------------------------

ALPHAS = (1.0, 0.75, 0.5, 0.25)
RESOLUTIONS = (224, 192, 160, 128)
# Howard et al. 2017, Table 6 (width) and Table 7 (resolution): million MACs, million parameters, top-1 %.
PAPER_TABLE_6 = {1.0: (569, 4.2, 70.6), 0.75: (325, 2.6, 68.4), 0.5: (149, 1.3, 63.7), 0.25: (41, 0.5, 50.6)}
PAPER_TABLE_7 = {224: (569, 4.2, 70.6), 192: (418, 4.2, 69.1), 160: (290, 4.2, 67.2), 128: (186, 4.2, 64.4)}


@dataclass(frozen=True)
class MultiplierRow:
    alpha: float
    resolution: int
    params: int  # ours, from the analytic cost table
    macs: int
    paper_macs: float | None  # millions, as published
    paper_params: float | None
    paper_top1: float | None


def multiplier_footprint(alpha: float, resolution: int) -> Footprint:
    table = analyze(replace(get_preset("mobilenet_v1"), width=alpha, resolution=resolution))
    return Footprint(table.params, table.macs)


def _row(alpha: float, resolution: int, paper: tuple | None) -> MultiplierRow:
    cost = multiplier_footprint(alpha, resolution)
    return MultiplierRow(alpha, resolution, cost.params, cost.macs, *(paper or (None, None, None)))


def width_table() -> tuple[MultiplierRow, ...]:
    """Table 6: MobileNetV1 at α = 1, 0.75, 0.5, 0.25 and 224 × 224."""
    return tuple(_row(a, 224, PAPER_TABLE_6[a]) for a in ALPHAS)


def resolution_table() -> tuple[MultiplierRow, ...]:
    """Table 7: MobileNetV1 at α = 1 and 224, 192, 160, 128 (ρ = resolution / 224)."""
    return tuple(_row(1.0, r, PAPER_TABLE_7[r]) for r in RESOLUTIONS)


def rho(resolution: int) -> float:
    return resolution / 224


# ----- 5. inverted residual ------------------------------------------------------------------------------------


def block_args(family: str, in_chs: int, out_chs: int, size: int, kernel: int = 3, **knobs) -> LayerArgs:
    """One stride-1 block of ``family`` as lwviz prices it (batch norm, the family's own conventions)."""
    return LayerArgs("block", family, 0, in_chs, out_chs, kernel, 1, size, size, **knobs)


def op_costs(args: LayerArgs) -> dict[str, tuple[int, int]]:
    """Each op of a block: its name after ``block.`` -> (params, MACs), from the family's cost formula."""
    return {op.name.removeprefix("block."): (op.params, op.macs) for op in layer_ops(args)}


@dataclass(frozen=True)
class InvertedResidual:
    """MobileNetV2's block: 1x1 expand M -> tM, 3x3 depthwise, 1x1 linear projection tM -> N."""

    in_chs: int = 64
    out_chs: int = 64
    size: int = 14
    expand: int = 6

    @property
    def mid_chs(self) -> int:
        return self.in_chs * self.expand

    @property
    def ops(self) -> dict[str, tuple[int, int]]:
        return op_costs(block_args("ir", self.in_chs, self.out_chs, self.size, expand=float(self.expand)))

    @property
    def macs(self) -> int:
        return sum(macs for _, macs in self.ops.values())


# ----- 6. squeeze-and-excitation -------------------------------------------------------------------------------


def se_cost(chs: int, reduced: int) -> tuple[int, int]:
    """(params, MACs) of one SE gate on ``chs`` channels squeezed to ``reduced``: two 1x1 layers with bias."""
    op = se_op("se", chs, reduced, 1)
    return op.params, op.macs


# ----- 7. group convolution ------------------------------------------------------------------------------------


def group_conv(chs: int, groups: int, size: int) -> ConvCost:
    """A 1x1 convolution from ``chs`` to ``chs`` channels in ``groups`` groups on a ``size`` × ``size`` map."""
    if groups < 1 or chs % groups:
        raise ValueError(f"groups: {chs} channels do not split into {groups} groups")
    return ConvCost(chs, chs, 1, groups, size, size)


def shuffle_order(chs: int, groups: int) -> list[int]:
    """Which input channel lands at each output position of a channel shuffle (ShuffleNet): the channels viewed as
    a ``groups`` × ``chs / groups`` grid, transposed, read row by row."""
    if groups < 1 or chs % groups:
        raise ValueError(f"groups: {chs} channels do not split into {groups} groups")
    per = chs // groups
    return [g * per + i for i in range(per) for g in range(groups)]


# ----- 8. Fire module ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fire:
    """SqueezeNet's fire2 by default: 96 channels in, squeeze to 128 / ratio, expand to 64 (1x1) + 64 (3x3)."""

    in_chs: int = 96
    out_chs: int = 128
    ratio: float = 8.0  # output / squeeze channels
    size: int = 55

    @property
    def channels(self) -> tuple[int, int, int]:
        """(squeeze s, expand 1x1 e1, expand 3x3 e3)."""
        return fire_chs(self.out_chs, self.ratio)

    @property
    def args(self) -> LayerArgs:
        return block_args("fire", self.in_chs, self.out_chs, self.size, expand=self.ratio, norm=False)

    @property
    def params(self) -> int:
        """Weights and biases, as lwviz's cost table counts them."""
        return sum(p for p, _ in op_costs(self.args).values())

    @property
    def weights(self) -> int:
        s, e1, e3 = self.channels
        return self.in_chs * s + s * e1 + 9 * s * e3

    @property
    def standard_params(self) -> int:
        """A 3x3 convolution from the same input to the same output channels, with bias."""
        return sum(
            p for p, _ in op_costs(block_args("conv", self.in_chs, self.out_chs, self.size, norm=False)).values()
        )


# ----- 10. compression -----------------------------------------------------------------------------------------

COMPRESSED = "efficientnet_lite0"  # the network with offline pretrained weights: what the Compress page measures


def compressed_params() -> int:
    return analyze(get_preset(COMPRESSED)).params


@dataclass(frozen=True)
class Int8Measured:
    """One network in float32 and int8, measured here as the Compress page measures them (lwviz.compress)."""

    float_bytes: int  # the saved state_dict's size
    int8_bytes: int
    float_ms: float  # median, batch 1, one thread, timed in alternating rounds
    int8_ms: float
    agreement: float  # share of the photos on which int8's top-1 class is float's


def measure_int8(model, preprocess, photos: int = 8, runs: int = 5) -> Int8Measured:
    """Quantize ``model`` (left untouched) to int8 on ``photos`` of the sample photos and measure both. Heavy (tens
    of seconds on a busy laptop): the page runs it in the machine-wide job queue. The quantization engine is
    the default one: tuning it per layer, as the Compress page does, would double the wait for a lesson."""
    from lwviz.compress.measure import agreement, file_size, latencies_ms
    from lwviz.compress.quantize import quantize_int8
    from lwviz.compress.quantize_calibration import calibration_images
    from lwviz.compress.quantize_engines import default_engine

    batch = calibration_images(preprocess)[:photos]
    int8 = quantize_int8(model, batch, engine=default_engine())
    float_ms, int8_ms = latencies_ms([model, int8], batch[:1], runs=runs)
    return Int8Measured(file_size(model), file_size(int8), float_ms, int8_ms, agreement(model, int8, batch))


def storage(params: int, bits: int) -> float:
    """Megabytes of ``params`` weights at ``bits`` bits each."""
    return params * bits / 8 / MB


def kept_weights(params: int, sparsity: float) -> int:
    """Weights left non-zero after zeroing the fraction ``sparsity`` of them."""
    return params - math.floor(params * sparsity)


# ----- 11. the live demo ---------------------------------------------------------------------------------------

DEMO = "efficientnet_lite0"  # the webcam's offline network


def demo_macs() -> int:
    return analyze(get_preset(DEMO)).macs
