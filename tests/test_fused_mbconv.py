"""Fused-MBConv (EfficientNetV2) by hand, block by block against torchvision's, and the efficientnet_v2_s preset."""

from functools import partial

import pytest
import torch
import torchvision.models as tvm
from torch import nn
from torchvision.models.efficientnet import FusedMBConv as TorchvisionFused
from torchvision.models.efficientnet import FusedMBConvConfig

from lwviz.blocks import build_layer
from lwviz.builder import build
from lwviz.cost import analyze
from lwviz.cost.tracer import flop_counter_macs
from lwviz.families import layer_ops
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Head, Spec, Stage, Stem
from tests.reference import assert_block_equals
from tests.test_cost import block_args


def _layer(in_chs, out_chs, expand, stride=1, se=0.0, kernel=3, size=16):
    return block_args(
        "fused", in_chs, out_chs, stride=stride, kernel=kernel, size=size, expand=expand, se=se, act="silu", bn_eps=1e-3
    )


def test_fused_block_by_hand():
    """32 -> 32, expand 4, 3x3, 16x16: one dense 3x3 conv 32 -> 128, a linear 1x1 128 -> 32, the residual add."""
    fused, pwl, add = layer_ops(_layer(32, 32, 4.0))
    assert (fused.name, fused.kind, fused.params, fused.macs) == (
        "b.conv_fused",
        "standard",
        9 * 32 * 128 + 256,
        256 * 9 * 32 * 128,
    )
    assert (pwl.name, pwl.kind, pwl.params, pwl.macs) == ("b.conv_pwl", "pointwise", 128 * 32 + 64, 256 * 128 * 32)
    assert fused.elementwise == 2 * 128 * 256 and pwl.elementwise == 32 * 256  # BN + SiLU; BN only (linear)
    assert add.name == "b.skip_add"


def test_fused_block_without_expansion_is_one_conv_with_its_activation():
    """Ratio 1 (EfficientNetV2-S's first stage): no projection, the KxK conv maps input to output channels."""
    (only,) = layer_ops(_layer(24, 48, 1.0, stride=2))
    assert (only.name, only.params, only.macs) == ("b.conv_fused", 9 * 24 * 48 + 96, 8 * 8 * 9 * 24 * 48)
    assert only.elementwise == 2 * 48 * 8 * 8


def test_fused_block_with_se_squeezes_from_its_input():
    ops = layer_ops(_layer(32, 64, 4.0, stride=2, se=0.25))
    assert [o.name for o in ops] == ["b.conv_fused", "b.se", "b.conv_pwl"]
    se = ops[1]
    assert se.params == (128 * 8 + 8) + (8 * 128 + 128)  # EfficientNet's squeeze: a quarter of the block input


@pytest.mark.parametrize(
    "expand, kernel, stride, in_chs, out_chs",
    [(1, 3, 1, 24, 24), (1, 5, 2, 24, 48), (4, 3, 1, 48, 48), (4, 3, 2, 48, 64), (6, 7, 1, 40, 40)],
)
def test_fused_block_equals_torchvisions(expand, kernel, stride, in_chs, out_chs):
    ours = build_layer(_layer(in_chs, out_chs, float(expand), stride, kernel=kernel)).eval()
    cnf = FusedMBConvConfig(expand, kernel, stride, in_chs, out_chs, 1)
    ref = TorchvisionFused(cnf, 0.2, partial(nn.BatchNorm2d, eps=1e-3)).eval()
    assert_block_equals(ours, ref, in_chs)
    assert isinstance(ours.conv_pwl, nn.Identity) == (expand == 1)


def test_efficientnet_v2_s_preset_is_torchvisions():
    """Stages as torchvision builds them, its 384 input, and MACs equal to FlopCounterMode on its model."""
    spec = get_preset("efficientnet_v2_s")
    assert PRESETS["efficientnet_v2_s"].torchvision == "efficientnet_v2_s"
    assert [s.block for s in spec.stages] == ["fused"] * 3 + ["mbconv"] * 3
    assert spec.resolution == 384
    table = analyze(spec)
    with torch.device("meta"):
        ref = tvm.efficientnet_v2_s().eval()
    assert table.macs == flop_counter_macs(ref, 384) == 8_365_617_152
    assert table.params == sum(p.numel() for p in ref.parameters()) == 21_458_488
    meta = tvm.EfficientNet_V2_S_Weights.IMAGENET1K_V1.meta
    assert (table.params, round(table.macs / 1e9, 3)) == (meta["num_params"], meta["_ops"])


def test_fused_network_at_other_settings_builds_and_prices_alike():
    """A small all-fused network (SE on, width 0.5) keeps analytic == module parameter count."""
    spec = Spec(
        stem=Stem(24, 3, 2, "silu"),
        stages=(
            Stage("fused", repeats=2, kernel=3, stride=1, out_chs=24, expand=1.0),
            Stage("fused", repeats=2, kernel=5, stride=2, out_chs=48, expand=4.0, se=0.25),
        ),
        head=Head(128, "silu"),
        width=0.5,
        resolution=32,
        num_classes=10,
    ).validate()
    model = build(spec)
    assert analyze(spec).params == sum(p.numel() for p in model.parameters())
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
