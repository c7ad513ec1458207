import itertools

import pytest
import torch
import torchvision.models as tvm

from lwviz.builder import build
from lwviz.cost import analyze, dws_theory_ratio
from lwviz.cost.tracer import flop_counter_macs, group, trace
from lwviz.families import FAMILIES, LayerArgs
from lwviz.lesson.numbers import made_dense
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Head, Spec, Stage, Stem


def block_args(block: str, in_chs: int, out_chs: int, *, stride=1, kernel=3, size=16, **fields) -> LayerArgs:
    """One block of ``block``'s family as the plan would resolve it (``name`` "b", its output size and skip),
    for the tests that price and build a single block by hand."""
    family = FAMILIES[block]
    return LayerArgs(
        name="b",
        block=block,
        stage=0,
        in_chs=in_chs,
        out_chs=out_chs,
        kernel=kernel,
        stride=stride,
        in_size=size,
        out_size=family.out_size(size, kernel, stride),
        has_skip=family.has_skip(in_chs, out_chs, stride),
        **fields,
    )


def assert_analytic_equals_traced(spec):
    table = analyze(spec)
    model = build(spec)
    rows = trace(model, spec.resolution)
    traced = group(rows, [o.name for o in table.ops])
    for op in table.ops:
        assert (op.params, op.macs) == traced[op.name], op.name
    assert sum(r.params for r in rows) == table.params == sum(p.numel() for p in model.parameters())
    assert sum(r.macs for r in rows) == table.macs
    # Every traced leaf belongs to an analytic op (nothing priced is invisible to the table).
    names = [o.name for o in table.ops]
    for r in rows:
        if r.params or r.macs:
            assert any(r.name == n or r.name.startswith(n + ".") for n in names), r.name
    return table, model


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_analytic_equals_traced_and_flop_counter(name):
    spec = get_preset(name)
    table, model = assert_analytic_equals_traced(spec)
    assert flop_counter_macs(model, spec.resolution) == table.macs  # EfficientNetV2-S is priced at its 384


def test_torchvision_ops_convention():
    """torchvision's _ops (GMACs, 3 decimals) for every shared preset."""
    for name, preset in PRESETS.items():
        if preset.torchvision:
            meta = tvm.get_model_weights(preset.torchvision).DEFAULT.meta
            assert round(analyze(preset.spec).macs / 1e9, 3) == pytest.approx(meta["_ops"], abs=1e-9), name
    assert analyze(get_preset("mobilenet_v2")).macs == 300_774_272  # the 300.8M everyone quotes


def _small_spec(block, kernel, width, stride):
    """Three stages of one family with its defaults (SE on wherever the family takes it), a few shapes."""
    family = FAMILIES[block]
    stages = tuple(
        Stage(
            block,
            repeats=r,
            kernel=kernel,
            stride=s,
            out_chs=c,
            expand=family.default_expand,
            se=0.25 if family.uses_se else 0.0,
            act="hswish",
            groups=family.default_groups,
        )
        for c, s, r in ((64, stride, 2), (64, 1, 1), (96, 2, 1))
    )
    return Spec(
        stem=Stem(32, 3, 2, "relu"),
        stages=stages,
        head=Head(128, "relu"),
        width=width,
        resolution=64,
        num_classes=10,
        se_style="mobilenetv3" if block == "mbconv" else "efficientnet",
    )


@pytest.mark.parametrize(
    "block, kernel, width, stride", list(itertools.product(FAMILIES, [3, 5, 7], [0.25, 0.5, 1.0, 1.5, 2.0], [1, 2]))
)
def test_every_family_analytic_equals_traced(block, kernel, width, stride):
    assert_analytic_equals_traced(_small_spec(block, kernel, width, stride))


@pytest.mark.parametrize(
    "name",
    [
        "mobilenet_v2",
        "efficientnet_b0",
        "shufflenet_v2_x1_0",
        "squeezenet1_0",
        "shufflenet_v1_g3",
        "shufflenet_v1_g8",
        "mobilenetv4_conv_medium",
        "ghostnet_100",
        "mobileone_s0",
    ],
)
def test_knobs_analytic_equals_traced(name):
    spec = get_preset(name).with_(width=0.75, depth=1.3, resolution=160, kernel=5)
    assert_analytic_equals_traced(spec.validate())
    assert_analytic_equals_traced(get_preset(name).with_(block="dws", resolution=128).validate())


def test_depthwise_separable_layer_by_hand():
    """One dw-separable block 32 -> 64 channels, K=3, on 16x16, with BN: every number by hand."""
    spec = Spec(
        stem=Stem(32, 3, 1, "relu"),
        stages=(Stage("dws", out_chs=64, kernel=3, stride=1),),
        head=Head(0),
        resolution=16,
        num_classes=10,
    ).validate()
    layer = analyze(spec).layers[1]
    dw, pw = layer.ops
    assert (dw.kind, dw.params, dw.macs) == ("depthwise", 32 * 9 + 64, 16 * 16 * 32 * 9)
    assert (pw.kind, pw.params, pw.macs) == ("pointwise", 32 * 64 + 128, 16 * 16 * 32 * 64)
    assert dw.elementwise == 2 * 32 * 16 * 16 and pw.elementwise == 2 * 64 * 16 * 16  # BN + ReLU
    assert layer.baseline_params == 9 * 32 * 64 + 128
    assert layer.baseline_macs == 16 * 16 * 9 * 32 * 64
    # MobileNet's ratio: (K^2 C + C N) / (K^2 C N) = 1/N + 1/K^2, exactly, for the MACs.
    assert layer.macs / layer.baseline_macs == pytest.approx(dws_theory_ratio(64, 3), rel=1e-12)
    assert layer.memory == 64 * 16 * 16 * 4


def test_mobilenet_v1_standard_conv_version_matches_table_4():
    """Conv MobileNet: 29.3M params, 4866M mult-adds (Howard et al., Table 4)."""
    table = analyze(get_preset("mobilenet_v1"))
    assert round(table.baseline_macs / 1e6) == 4867  # 4866M + the stem and FC rounding in the paper
    assert round(table.baseline_params / 1e6, 1) == 29.3
    assert round(table.macs / 1e6) == 569


def dense_counts(model, resolution: int) -> tuple[int, int]:
    """Params and FlopCounterMode MACs of ``model`` made dense, on the meta device (shapes only, no arithmetic)."""
    model = made_dense(model)
    return sum(p.numel() for p in model.parameters()), flop_counter_macs(model, resolution)


TORCHVISION = [name for name, preset in PRESETS.items() if preset.torchvision]


@pytest.mark.parametrize("name", TORCHVISION)
def test_dense_baseline_equals_torchvisions_model_with_every_grouped_conv_made_dense(name):
    spec = get_preset(name)
    with torch.device("meta"):
        reference = getattr(tvm, PRESETS[name].torchvision)()
    table = analyze(spec)
    assert (table.dense_params, table.dense_macs) == dense_counts(reference, spec.resolution)
    assert sum(layer["dense_macs"] for layer in table.to_dict()["layers"]) == table.dense_macs


GROUPED = Spec(  # ShuffleNetV1 units: grouped 1x1 convs (g = 3) around a depthwise one, and TF padding (Lite0)
    stem=Stem(chs=24, stride=2),
    stages=(Stage("shufflev1", repeats=2, stride=2, out_chs=240, groups=3, expand=0.25),),
    head=Head(chs=0),
    resolution=64,
)


@pytest.mark.parametrize(
    "spec", [GROUPED, *map(get_preset, ("efficientnet_lite0", "shufflenet_v1_g8"))], ids=lambda spec: spec.name
)
def test_dense_baseline_equals_our_model_made_dense_where_torchvision_has_none(spec):
    with torch.device("meta"):
        model = build(spec)
    table = analyze(spec)
    assert (table.dense_params, table.dense_macs) == dense_counts(model, spec.resolution)
    assert table.dense_params > table.params and table.dense_macs > table.macs


TIMM = [name for name, preset in PRESETS.items() if preset.timm]


@pytest.mark.parametrize("name", TIMM)
def test_dense_baseline_equals_timms_model_with_every_grouped_conv_made_dense(name):
    """MobileNetV4, GhostNet (whose ghost maps come from depthwise convs) and MobileOne (as trained: every branch
    of its depthwise convs made dense), against timm's own model made dense."""
    import timm

    spec = get_preset(name)
    with torch.device("meta"):
        reference = timm.create_model(PRESETS[name].timm, pretrained=False)
    table = analyze(spec)
    assert (table.dense_params, table.dense_macs) == dense_counts(reference, spec.resolution)
    assert table.dense_macs > 8 * table.macs  # depthwise convs are what make all four light


def test_dense_baseline_of_mobileones_inference_form_is_its_folded_model_made_dense():
    from lwviz.reparam import inference_spec

    spec = inference_spec(get_preset("mobileone_s0"))
    with torch.device("meta"):
        model = build(spec)
    table = analyze(spec)
    assert (table.dense_params, table.dense_macs) == dense_counts(model, spec.resolution) == (9_185_048, 2_315_141_120)
    # per block, a MobileOne block is a depthwise KxK + a 1x1: cheaper than the one dense KxK conv of its baseline
    assert table.macs < table.baseline_macs


def test_dense_baseline_answers_what_depthwise_saves_and_the_per_block_one_what_a_plain_conv_would_cost():
    v1, v2 = analyze(get_preset("mobilenet_v1")), analyze(get_preset("mobilenet_v2"))
    # MobileNetV1 made dense: 3x3 convs M -> M before each 1x1, close to the paper's Conv MobileNet (one 3x3
    # conv M -> N per block, the per-block baseline: 29.3M, 4866M).
    assert (v1.dense_params, v1.dense_macs) == (29_300_936, 4_828_758_016)
    # MobileNetV2 looks 1.17x its per-block baseline (it expands inside the block, which one M -> N conv does
    # not); made dense it is 18x more: its depthwise convs are what make it light.
    assert v2.macs / v2.baseline_macs == pytest.approx(1.168, abs=1e-3)
    assert (v2.dense_params, v2.dense_macs) == (44_050_952, 5_549_139_968)
    plain = analyze(get_preset("mobilenet_v1").with_(block="conv").validate())
    assert (plain.dense_params, plain.dense_macs) == (plain.params, plain.macs)  # nothing grouped: itself


def test_baseline_of_a_standard_conv_network_is_itself():
    spec = get_preset("mobilenet_v1").with_(block="conv").validate()
    table = analyze(spec)
    assert table.macs == table.baseline_macs and table.params == table.baseline_params
    assert table.peak_memory == table.baseline_peak_memory
    assert all(layer.peak_memory == layer.baseline_peak_memory for layer in table.layers)


def test_peak_activation_memory_by_hand():
    """Stem 3->8 (stride 2) on 16x16, an inverted residual 8->48->8 with its skip, a dw-separable 8->64, FC 64->10.

    Every number below is worked out by hand (float32, 4 bytes per value) from the rule: the largest input +
    output of any op, plus the block input while a residual keeps it alive.
    """
    spec = Spec(
        stem=Stem(8, 3, 2, "relu"),
        stages=(Stage("ir", out_chs=8, expand=6.0), Stage("dws", out_chs=64)),
        head=Head(0),
        resolution=16,
        num_classes=10,
    ).validate()
    table = analyze(spec)
    stem, ir, dws, classifier = table.layers
    assert stem.peak_memory == 4 * (3 * 16 * 16 + 8 * 8 * 8)  # 5120: the image and the stem's output
    # On 8x8 maps, with the skip holding the 8-channel input (+ 8): the expanding 1x1 conv 8 + 48 (+ 8), the 3x3
    # depthwise conv 48 + 48 (+ 8), the projection 48 + 8 (+ 8), the residual add 8 + 8 (+ 8) channels.
    assert ir.has_skip and ir.peak_memory == 4 * (48 + 48 + 8) * 64 == 26624
    assert dws.peak_memory == 4 * (8 + 64) * 64  # the pointwise conv 8 -> 64 channels; no skip
    assert classifier.peak_memory == 4 * (64 * 64 + 64)  # global pooling: 64x8x8 in, 64 out
    assert table.peak_memory == 26624
    # The standard-conv version replaces each block by one dense 3x3 conv: its input + output, no expansion,
    # no skip. The IR block's becomes (8 + 8) * 64 values; the dws block's (8 + 64) * 64 is now the largest.
    assert ir.baseline_peak_memory == 4 * (8 + 8) * 64 and dws.baseline_peak_memory == 4 * (8 + 64) * 64
    assert (stem.baseline_peak_memory, classifier.baseline_peak_memory) == (stem.peak_memory, classifier.peak_memory)
    assert table.baseline_peak_memory == 4 * (8 + 64) * 64 == 18432
    assert table.totals["baseline_peak_memory"] == 18432


def test_elementwise_ops_are_counted_not_zero():
    table = analyze(get_preset("efficientnet_b0"))
    se = next(o for o in table.ops if o.name.endswith(".se"))
    c, h, w = se.in_shape
    rd = (se.params - c) // (2 * c + 1)
    assert se.elementwise == 2 * c * h * w + rd + c  # pool, act, gate, scale
    skip = [o for o in table.ops if o.name.endswith("skip_add")]
    assert len(skip) == 9 and all(o.elementwise == o.out_shape[0] * o.out_shape[1] ** 2 for o in skip)
    assert table.elementwise > 0


def test_to_dict_has_the_cli_fields():
    d = analyze(get_preset("mobilenet_v2")).to_dict()
    assert {"params", "macs", "baseline_params", "baseline_macs", "layers"} <= set(d)
    assert sum(layer["macs"] for layer in d["layers"]) == d["macs"]
    assert {"name", "params", "macs", "baseline_params", "baseline_macs"} <= set(d["layers"][0])


def test_skip_adds_are_priced_exactly_where_the_block_adds():
    """has_skip is decided once per resolved layer: the priced add, the diagram's loop and the module agree.
    A stride-2 ShuffleNetV1 unit that keeps its width neither concatenates nor adds."""
    spec = Spec(
        stem=Stem(24, 3, 2, "relu"),
        stages=(
            Stage("shufflev1", out_chs=24, stride=2, groups=4, expand=0.25),
            Stage("shufflev1", out_chs=24, stride=1, groups=4, expand=0.25),
        ),
        head=Head(0),
        resolution=32,
        num_classes=10,
    )
    table, model = assert_analytic_equals_traced(spec)
    down, same = model.stages[0][0], model.stages[1][0]
    assert [layer.has_skip for layer in table.layers[1:3]] == [False, True] == [down.has_skip, same.has_skip]
    assert [op.name for op in table.layers[1].ops if "skip" in op.name] == []
    assert [op.elementwise for op in table.layers[2].ops if op.name.endswith("skip_add")] == [24 * 8 * 8]
