"""Ghost module and ghost bottleneck (GhostNet) by hand, block by block against timm's, and ghostnet_100."""

import itertools
from dataclasses import replace

import pytest
import torch
from timm.models.ghostnet import GhostBottleneck as TimmGhostBottleneck
from timm.models.ghostnet import GhostModule as TimmGhostModule

from lwviz.blocks import build_layer
from lwviz.blocks.ghost import GhostModule
from lwviz.cost import analyze
from lwviz.cost.tracer import flop_counter_macs
from lwviz.families import layer_ops
from lwviz.families.ghost import ghost_chs
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Head, Spec, Stage, Stem
from lwviz.weights.convert import convert_state_dict
from tests.reference import assert_block_equals, randomize_bn
from tests.reference.timm_models import converted, max_difference, timm_reference
from tests.test_cost import assert_analytic_equals_traced, block_args


def _layer(in_chs, out_chs, expand, stride=1, kernel=3, se=0.0, ratio=2, size=16):
    return block_args(
        "ghost", in_chs, out_chs, stride=stride, kernel=kernel, size=size, expand=expand, se=se, ratio=ratio, divisor=4
    )


def test_ghost_channels():
    assert ghost_chs(72, 2) == (36, 36)
    assert ghost_chs(80, 3) == (27, 54)  # 81 maps made, the last one dropped
    assert ghost_chs(16, 4) == (4, 12)


def test_ghost_bottleneck_by_hand():
    """24 -> 24, expand 3 (72), 16x16: two ghost modules of a 1x1 primary conv and a 3x3 depthwise cheap one."""
    ops = layer_ops(_layer(24, 24, 3.0))
    names = [o.name for o in ops]
    assert names == [
        "b.ghost1.primary_conv",
        "b.ghost1.cheap_operation",
        "b.ghost2.primary_conv",
        "b.ghost2.cheap_operation",
        "b.skip_add",
    ]
    p1, c1, p2, c2, add = ops
    assert (p1.kind, p1.params, p1.macs) == ("pointwise", 24 * 36 + 72, 256 * 24 * 36)
    assert (c1.kind, c1.params, c1.macs) == ("depthwise", 9 * 36 + 72, 256 * 9 * 36)
    assert (p2.params, p2.macs) == (72 * 12 + 24, 256 * 72 * 12)
    assert (c2.params, c2.macs) == (9 * 12 + 24, 256 * 9 * 12)
    assert p1.elementwise == c1.elementwise == 2 * 36 * 256 and p2.elementwise == c2.elementwise == 12 * 256
    assert add.elementwise == 24 * 256
    # the ghost maps are cheap: the 3x3 depthwise conv costs 9/24 of the primary 1x1 conv's MACs here
    assert c1.macs / p1.macs == pytest.approx(9 / 24)


def test_downsampling_bottleneck_has_a_depthwise_conv_and_a_conv_shortcut():
    ops = layer_ops(_layer(40, 80, 6.0, stride=2, kernel=3, se=0.25))
    names = [o.name for o in ops]
    assert names == [
        "b.ghost1.primary_conv",
        "b.ghost1.cheap_operation",
        "b.conv_dw",
        "b.se",
        "b.ghost2.primary_conv",
        "b.ghost2.cheap_operation",
        "b.shortcut.0",
        "b.shortcut.1",
        "b.skip_add",
    ]
    se = ops[3]
    assert se.params == 2 * 240 * 60 + 60 + 240  # GhostNet's SE: a quarter of the 240 expanded channels (to 4)


def test_ratio_three_makes_grouped_cheap_convs():
    p1, c1, *_ = layer_ops(_layer(24, 24, 3.0, ratio=3))
    assert (p1.out_shape[0], c1.out_shape[0], c1.kind) == (24, 48, "grouped")
    assert c1.macs == 256 * 9 * 48  # each primary map feeds two ghost maps


@pytest.mark.parametrize("ratio", [2, 3, 4])
def test_ghost_module_equals_timms(ratio):
    ours = GhostModule(_layer(24, 24, 1.0, ratio=ratio), 24, 40, "relu").eval()
    ref = TimmGhostModule(24, 40, ratio=ratio).eval()
    randomize_bn(ref)
    ours.load_state_dict(convert_state_dict(ref.state_dict(), ours))
    x = torch.randn(2, 24, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "in_chs, mid_chs, out_chs, kernel, stride, se",
    [(16, 16, 16, 3, 1, 0.0), (16, 48, 24, 3, 2, 0.0), (24, 72, 40, 5, 2, 0.25), (80, 480, 112, 3, 1, 0.25),
     (40, 120, 40, 5, 1, 0.25), (40, 240, 80, 7, 2, 0.0)],
)  # fmt: skip
def test_ghost_bottleneck_equals_timms(in_chs, mid_chs, out_chs, kernel, stride, se):
    ours = build_layer(_layer(in_chs, out_chs, mid_chs / in_chs, stride, kernel, se)).eval()
    ref = TimmGhostBottleneck(in_chs, mid_chs, out_chs, kernel, stride, se_ratio=se).eval()
    assert_block_equals(ours, ref, in_chs)


@pytest.mark.parametrize(
    "ratio, kernel, width, stride", list(itertools.product([2, 3, 5], [3, 5, 7], [0.25, 1.0, 2.0], [1, 2]))
)
def test_every_ghost_ratio_analytic_equals_traced(ratio, kernel, width, stride):
    stages = tuple(
        Stage("ghost", repeats=r, kernel=kernel, stride=s, out_chs=c, expand=3.0, se=se, ratio=ratio)
        for c, s, r, se in ((64, stride, 2, 0.25), (64, 1, 1, 0.0), (96, 2, 1, 0.0))
    )
    spec = Spec(stem=Stem(32), stages=stages, head=Head(128), width=width, resolution=64, num_classes=10, divisor=4)
    assert_analytic_equals_traced(spec)


def test_ghostnet_100_is_timms():
    """5,182,508 parameters and 141.2M MACs (the paper's 141M FLOPs, which are MACs), as timm's model; timm's
    random-init tensors converted into ours give its outputs."""
    spec, ref = get_preset("ghostnet_100"), timm_reference("ghostnet_100")
    assert PRESETS["ghostnet_100"].timm == "ghostnet_100"
    table = analyze(spec)
    assert (table.params, table.macs) == (5_182_508, 141_150_512)
    assert table.params == sum(p.numel() for p in ref.parameters())
    assert table.macs == flop_counter_macs(ref, spec.resolution)
    assert max_difference(converted("ghostnet_100", ref), ref, spec.resolution) <= 1e-5


def test_ghostnet_knobs_stay_exact_between_analytic_and_traced():
    spec = get_preset("ghostnet_100").with_(width=1.3, resolution=160, kernel=5, depth=1.5)
    assert_analytic_equals_traced(spec.validate())
    spec = get_preset("ghostnet_100").with_(stages=tuple(replace(s, ratio=3) for s in spec.stages))
    assert_analytic_equals_traced(spec.validate())


def test_ratio_spec_string_round_trip():
    spec = Spec(stem=Stem(16), stages=(Stage("ghost", out_chs=24, expand=3.0, ratio=4),), head=Head(0))
    assert "ghost_c24_e3_gr4" in spec.to_string() and Spec.from_string(spec.to_string()) == spec
    with pytest.raises(ValueError, match=r"stages\[0\]\.ratio: 1 is outside the allowed range 2..8"):
        Spec(stem=Stem(16), stages=(Stage("ghost", ratio=1),)).validate()
