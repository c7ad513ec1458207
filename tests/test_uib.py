"""Universal inverted bottleneck (MobileNetV4) by hand, block by block against timm's, and the two conv presets."""

import itertools

import pytest
from timm.models._efficientnet_blocks import UniversalInvertedResidual
from torch import nn

from lwviz.blocks import build_layer
from lwviz.builder import build
from lwviz.cost import analyze
from lwviz.cost.tracer import flop_counter_macs
from lwviz.families import FAMILIES, layer_ops
from lwviz.plan import resolve
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Head, Spec, Stage, Stem
from lwviz.viz.diagram import network_dot
from tests.reference import assert_block_equals
from tests.reference.timm_models import converted, max_difference, timm_reference
from tests.test_cost import assert_analytic_equals_traced, block_args


def _layer(in_chs, out_chs, expand, stride=1, kernel=3, dw_start=0, mid_dw=True, size=16):
    return block_args(
        "uib", in_chs, out_chs, stride=stride, kernel=kernel, size=size, expand=expand, dw_start=dw_start, mid_dw=mid_dw
    )


def test_extra_dw_block_by_hand():
    """ExtraDW 32 -> 32, dw 3x3 before, expand 4, dw 5x5 after, 16x16: four ConvNormActs and the residual add."""
    start, exp, mid, proj, add = layer_ops(_layer(32, 32, 4.0, kernel=5, dw_start=3))
    assert [o.name for o in (start, exp, mid, proj, add)] == [
        "b.dw_start",
        "b.pw_exp",
        "b.dw_mid",
        "b.pw_proj",
        "b.skip_add",
    ]
    assert (start.kind, start.params, start.macs) == ("depthwise", 9 * 32 + 64, 256 * 9 * 32)
    assert (exp.kind, exp.params, exp.macs) == ("pointwise", 32 * 128 + 256, 256 * 32 * 128)
    assert (mid.kind, mid.params, mid.macs) == ("depthwise", 25 * 128 + 256, 256 * 25 * 128)
    assert (proj.kind, proj.params, proj.macs) == ("pointwise", 128 * 32 + 64, 256 * 128 * 32)
    assert start.elementwise == 32 * 256  # BN, no activation: the depthwise conv before the expansion is linear
    assert exp.elementwise == mid.elementwise == 2 * 128 * 256 and proj.elementwise == 32 * 256
    assert add.elementwise == 32 * 256


def test_stride_goes_after_the_expansion_when_it_can():
    """Stride 2: the depthwise conv after the expansion downsamples; without one, the one before does."""
    both = layer_ops(_layer(32, 64, 4.0, stride=2, dw_start=3))
    assert [o.out_shape[1] for o in both] == [16, 16, 8, 8]  # dw_start, pw_exp at 16x16; dw_mid, pw_proj at 8x8
    convnext = layer_ops(_layer(32, 64, 4.0, stride=2, dw_start=5, mid_dw=False))
    assert [o.name for o in convnext] == ["b.dw_start", "b.pw_exp", "b.pw_proj"]
    assert [o.out_shape[1] for o in convnext] == [8, 8, 8]
    assert convnext[1].macs == 64 * 32 * 128  # the expansion runs on the downsampled map


@pytest.mark.parametrize(
    "dw_start, mid_dw, title",
    [(3, True, "UIB (ExtraDW)"), (0, True, "UIB (IB)"), (3, False, "UIB (ConvNeXt-like)"), (0, False, "UIB (FFN)")],
)
def test_the_four_blocks_are_named_as_in_the_paper(dw_start, mid_dw, title):
    assert FAMILIES["uib"].title(_layer(32, 32, 4.0, dw_start=dw_start, mid_dw=mid_dw)) == title


def test_ffn_cannot_downsample():
    spec = Spec(stem=Stem(16), stages=(Stage("uib", stride=2, out_chs=32, expand=4.0, mid_dw=False),), head=Head(0))
    with pytest.raises(ValueError, match=r"stages\[0\]\.stride: a UIB block without depthwise convs \(FFN\)"):
        resolve(spec)
    with pytest.raises(ValueError, match=r"stages\[0\]\.dw_start: kernel size must be odd .* or 0 \(none\), got 4"):
        resolve(Spec(stem=Stem(16), stages=(Stage("uib", dw_start=4),)))


@pytest.mark.parametrize(
    "dw_start, kernel, stride, expand, in_chs, out_chs",
    [(5, 5, 2, 3, 64, 96), (0, 3, 1, 2, 96, 96), (3, 0, 1, 4, 96, 96), (0, 0, 1, 4, 48, 48), (3, 0, 2, 4, 32, 48),
     (7, 7, 1, 6, 40, 40), (0, 5, 2, 1, 24, 32)],
)  # fmt: skip
def test_uib_block_equals_timms(dw_start, kernel, stride, expand, in_chs, out_chs):
    ours = build_layer(_layer(in_chs, out_chs, float(expand), stride, kernel or 3, dw_start, kernel > 0)).eval()
    ref = UniversalInvertedResidual(
        in_chs, out_chs, dw_start, kernel, 0, stride, exp_ratio=expand, layer_scale_init_value=None
    ).eval()
    assert_block_equals(ours, ref, in_chs)
    assert ours.has_skip == ref.has_skip


VARIANTS = [(3, True), (0, True), (5, False), (0, False)]


@pytest.mark.parametrize(
    "variant, kernel, width, stride", list(itertools.product(VARIANTS, [3, 5, 7], [0.25, 1.0, 2.0], [1, 2]))
)
def test_every_uib_variant_analytic_equals_traced(variant, kernel, width, stride):
    dw_start, mid_dw = variant
    if stride == 2 and not (dw_start or mid_dw):
        stride = 1  # an FFN cannot downsample (checked above)
    stages = tuple(
        Stage("uib", repeats=r, kernel=kernel, stride=s, out_chs=c, expand=4.0, dw_start=dw_start, mid_dw=mid_dw)
        for c, s, r in ((64, stride, 2), (64, 1, 1))
    )
    spec = Spec(stem=Stem(32, 3, 2), stages=stages, head=Head(128), width=width, resolution=64, num_classes=10)
    assert_analytic_equals_traced(spec)


MNV4 = {  # preset: (parameters, MACs at timm's default resolution; both also read off timm's model below)
    "mobilenetv4_conv_small": (3_774_024, 186_005_568),
    "mobilenetv4_conv_medium": (9_715_512, 1_080_244_224),
}


@pytest.mark.parametrize("name", MNV4)
def test_mobilenetv4_preset_is_timms(name):
    """Parameters to the unit, MACs equal to FlopCounterMode on timm's model at its default input size, and
    timm's random-init tensors converted into ours give the same outputs."""
    spec, ref = get_preset(name), timm_reference(name)
    assert PRESETS[name].timm == name
    assert (spec.resolution,) == ref.pretrained_cfg["input_size"][1:2]
    table = analyze(spec)
    assert (table.params, table.macs) == MNV4[name]
    assert table.params == sum(p.numel() for p in ref.parameters())
    assert table.macs == flop_counter_macs(ref, spec.resolution)
    assert max_difference(converted(name, ref), ref, spec.resolution) <= 1e-5


def test_mobilenetv4_medium_expresses_timms_blocks_with_our_families():
    """timm's EdgeResidual stem block is our fused-MBConv; its ``uir`` blocks are UIBs of all four kinds; its last
    1x1 conv is our head and its normed hidden layer our ``linear_bn`` classifier."""
    plan = resolve(get_preset("mobilenetv4_conv_medium"))
    titles = [FAMILIES[a.block].title(a) for a in plan.blocks]
    assert titles[0] == "fused-MBConv" and {t for t in titles[1:]} == {
        "UIB (ExtraDW)",
        "UIB (ConvNeXt-like)",
        "UIB (FFN)",
    }
    small = resolve(get_preset("mobilenetv4_conv_small"))
    assert {FAMILIES[a.block].title(a) for a in small.blocks} == {
        "standard conv",
        "UIB (ExtraDW)",
        "UIB (IB)",
        "UIB (ConvNeXt-like)",
    }
    classifier = analyze(get_preset("mobilenetv4_conv_small")).layers[-1]
    pool, hidden, fc = classifier.ops
    assert (hidden.kind, hidden.params, hidden.macs) == ("fc", 960 * 1280 + 2 * 1280, 960 * 1280)
    assert (fc.params, fc.macs) == (1280 * 1000 + 1000, 1280 * 1000)


def test_mobilenetv4_knobs_stay_exact_between_analytic_and_traced():
    spec = get_preset("mobilenetv4_conv_small").with_(width=0.75, resolution=160, kernel=5, depth=1.5)
    assert_analytic_equals_traced(spec.validate())


def test_mobilenetv4_diagram_names_the_blocks():
    source = network_dot(get_preset("mobilenetv4_conv_small"))
    assert "UIB (ExtraDW)" in source and "dw 5×5 before · expand 3× · dw 5×5 after" in source


def test_normed_classifier_is_one_layer_with_batch_norm():
    model = build(get_preset("mobilenetv4_conv_small"))
    head = model.classifier
    assert isinstance(head.fc_hidden.bn, nn.BatchNorm2d) and head.fc_hidden.conv.bias is None


def test_uib_spec_string_round_trip_and_old_strings_unchanged():
    stage = Stage("uib", repeats=2, kernel=5, stride=2, out_chs=96, expand=3.0, dw_start=5, mid_dw=False)
    spec = Spec(stem=Stem(32), stages=(stage,), head=Head(0))
    text = spec.to_string()
    assert "uib_r2_k5_s2_c96_e3_ka5_md0" in text and Spec.from_string(text) == spec
    assert Spec.from_string(get_preset("mobilenetv4_conv_medium").to_string()) == get_preset("mobilenetv4_conv_medium")
    assert "ka" not in get_preset("mobilenet_v2").to_string()  # a stage that keeps the defaults writes nothing new
