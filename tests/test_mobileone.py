"""MobileOne: its re-parameterizable convs by hand, both forms priced from one spec, folding equal to the branches,
and mobileone_s0 equal to timm's model in both forms."""

import copy
import itertools
from dataclasses import replace

import pytest
import torch
from timm.utils.model import reparameterize_model

from lwviz.builder import build
from lwviz.cost import analyze
from lwviz.cost.tracer import flop_counter_macs
from lwviz.families import layer_ops
from lwviz.presets import PRESETS, get_preset
from lwviz.reparam import inference_spec, is_reparameterizable, reparameterize, training_spec
from lwviz.spec import Head, Spec, Stage, Stem
from lwviz.weights.convert import convert_state_dict
from tests.reference import randomize_bn
from tests.reference.timm_models import converted, max_difference, timm_reference
from tests.test_cost import assert_analytic_equals_traced, block_args

SMALL_BN = (0.1, 0.4)  # every layer sums up to k + 2 branches: BN weights below 1 keep the activations in range


def _layer(in_chs, out_chs, stride=1, kernel=3, branches=4, folded=False, size=16):
    return block_args(
        "mobileone", in_chs, out_chs, stride=stride, kernel=kernel, size=size, branches=branches, folded=folded
    )


def test_training_block_by_hand():
    """32 -> 64, 3x3, stride 1, k = 4, 16x16. Depthwise conv: identity BN, four 3x3 dw + BN, one 1x1 dw + BN.
    Pointwise conv: four 1x1 + BN (no identity: the channels change; no scale branch: it is 1x1 already)."""
    ops = layer_ops(_layer(32, 64))
    assert [o.name for o in ops] == [
        "b.dw.identity",
        *(f"b.dw.conv_kxk.{i}" for i in range(4)),
        "b.dw.conv_scale",
        "b.dw.branch_sum",
        *(f"b.pw.conv_kxk.{i}" for i in range(4)),
        "b.pw.branch_sum",
    ]
    by_name = {o.name: o for o in ops}
    assert by_name["b.dw.identity"].params == 64 and by_name["b.dw.identity"].macs == 0
    assert (by_name["b.dw.conv_kxk.0"].kind, by_name["b.dw.conv_kxk.0"].macs) == ("depthwise", 256 * 9 * 32)
    assert (by_name["b.dw.conv_scale"].kind, by_name["b.dw.conv_scale"].macs) == ("depthwise", 256 * 32)
    assert by_name["b.pw.conv_kxk.3"].macs == 256 * 32 * 64
    assert by_name["b.dw.branch_sum"].elementwise == 256 * 32 * (6 - 1 + 1)  # five adds and the ReLU per element
    assert by_name["b.pw.branch_sum"].elementwise == 256 * 64 * (4 - 1 + 1)
    assert sum(o.macs for o in ops) == 4 * 256 * 9 * 32 + 256 * 32 + 4 * 256 * 32 * 64


def test_folded_block_by_hand_is_a_quarter_of_the_training_macs_here():
    dw, pw = layer_ops(_layer(32, 64, folded=True))
    assert (dw.name, dw.params, dw.macs) == ("b.dw.reparam_conv", 9 * 32 + 32, 256 * 9 * 32)
    assert (pw.name, pw.params, pw.macs) == ("b.pw.reparam_conv", 32 * 64 + 64, 256 * 32 * 64)
    assert dw.elementwise == 2 * 32 * 256  # bias and ReLU
    trained = sum(o.macs for o in layer_ops(_layer(32, 64)))
    assert trained / (dw.macs + pw.macs) == pytest.approx((4 * 9 * 32 + 32 + 4 * 32 * 64) / (9 * 32 + 32 * 64))


def test_inference_spec_derives_from_the_training_spec():
    spec = get_preset("mobileone_s0")
    folded = inference_spec(spec)
    assert folded == spec.with_(reparam=True) and training_spec(folded) == spec
    assert folded.to_string().split("-")[0].endswith("_rp1") and "rp" not in spec.to_string().split("-")[0]
    assert is_reparameterizable(spec) and is_reparameterizable(folded)
    assert not is_reparameterizable(get_preset("mobilenet_v2"))
    assert Spec.from_string(folded.to_string()) == folded


@pytest.mark.parametrize(
    "kernel, stride, branches, width", list(itertools.product([3, 5, 7], [1, 2], [1, 3], [0.25, 1.0, 2.0]))
)
def test_both_forms_analytic_equals_traced(kernel, stride, branches, width):
    stages = tuple(
        Stage("mobileone", repeats=r, kernel=kernel, stride=s, out_chs=c, branches=branches)
        for c, s, r in ((64, stride, 2), (64, 1, 1), (96, 2, 1))
    )
    spec = Spec(stem=Stem(32, 3, 2, branches=2), stages=stages, head=Head(128), width=width, resolution=64,
                num_classes=10)  # fmt: skip
    assert_analytic_equals_traced(spec)
    assert_analytic_equals_traced(inference_spec(spec))


def _random_bn_model(spec, seed=0):
    torch.manual_seed(seed)
    model = build(spec)
    randomize_bn(model, SMALL_BN)
    return model.eval()


@pytest.mark.parametrize("kernel, stride, branches", [(3, 1, 1), (3, 2, 4), (5, 1, 2), (7, 2, 3), (1, 1, 2)])
def test_reparameterize_keeps_the_outputs(kernel, stride, branches):
    """Folding BN and the branches gives the training network's eval outputs (within 1e-5) from plain convs."""
    spec = Spec(
        stem=Stem(16, 3, 2, branches=branches, pool="max"),
        stages=(
            Stage("mobileone", repeats=2, kernel=kernel, stride=stride, out_chs=32, branches=branches),
            Stage("mobileone", kernel=kernel, out_chs=32, branches=branches),
            Stage("ir", out_chs=48, expand=4.0, stride=2),  # an ordinary block is copied as it is
        ),
        head=Head(64),
        resolution=48,
        num_classes=10,
    )
    model = _random_bn_model(spec)
    folded = reparameterize(model)
    assert folded.spec == inference_spec(spec) and not folded.training
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.stages[0].modules())
    x = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), atol=1e-5, rtol=0)
    assert sum(p.numel() for p in folded.parameters()) == analyze(inference_spec(spec)).params
    assert model.spec == spec and model.stages[0][0].dw.conv_kxk is not None  # the training model is untouched


def test_mobileone_s0_is_timms_in_both_forms():
    """Training form: 5,293,272 parameters and 1.05G MACs as timm's model. Inference form: 2,078,504 parameters
    and 275.1M MACs (the paper's 2.1M and 275M), as timm's ``reparameterize_model``; every output within 1e-5."""
    spec, ref = get_preset("mobileone_s0"), timm_reference("mobileone_s0", SMALL_BN)
    assert PRESETS["mobileone_s0"].timm == "mobileone_s0"
    table = analyze(spec)
    assert (table.params, table.macs) == (5_293_272, 1_051_935_232)
    assert table.params == sum(p.numel() for p in ref.parameters())
    assert table.macs == flop_counter_macs(ref, spec.resolution)
    ours = converted("mobileone_s0", ref)
    assert max_difference(ours, ref, 224) <= 1e-5

    timm_folded = reparameterize_model(copy.deepcopy(ref)).eval()
    folded_table = analyze(inference_spec(spec))
    assert (folded_table.params, folded_table.macs) == (2_078_504, 275_110_400)
    assert folded_table.params == sum(p.numel() for p in timm_folded.parameters())
    assert folded_table.macs == flop_counter_macs(timm_folded, 224)
    folded = reparameterize(ours)
    assert max_difference(folded, timm_folded, 224) <= 1e-5
    assert max_difference(folded, ref, 224) <= 1e-5
    # and timm's folded tensors convert into our inference form directly
    direct = build(inference_spec(spec))
    direct.load_state_dict(convert_state_dict(timm_folded.state_dict(), direct))
    assert max_difference(direct.eval(), timm_folded, 224) <= 1e-5


def test_branches_spec_fields():
    spec = get_preset("mobileone_s0")
    assert spec.stem.branches == 1 and {s.branches for s in spec.stages} == {4}
    text = spec.to_string()
    assert "stem_c48_br1" in text and "mobileone_r2_s2_c48_br4" in text
    assert Spec.from_string(text) == spec
    other = spec.with_(stages=tuple(replace(s, branches=1) for s in spec.stages))
    assert analyze(inference_spec(other)).macs == analyze(inference_spec(spec)).macs  # k is gone once folded
    assert analyze(other).macs < analyze(spec).macs
