"""The cost charts plot the cost table's numbers: nothing is recomputed, dropped or double counted."""

import pytest

from lwviz.cost import analyze
from lwviz.families import OP_KINDS
from lwviz.presets import get_preset
from lwviz.spec import Head, Spec, Stage, Stem
from lwviz.viz.cost_charts import (
    KIND_WORDS,
    MAX_BARS,
    METRICS,
    against_standard_figure,
    baseline_words,
    per_layer_figure,
    savings_figure,
    share_by_kind,
    share_figure,
    short_name,
)

NETWORKS = ["mobilenet_v2", "efficientnet_b0", "shufflenet_v2_x1_0", "squeezenet1_0", "mobilenet_v1"]


def kind_total(table, metric, kind):
    return sum(getattr(o, metric) for o in table.ops if o.kind == kind)


@pytest.fixture(scope="module", params=NETWORKS)
def table(request):
    return analyze(get_preset(request.param))


@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize("log", [False, True])
def test_per_layer_bars_are_the_table(table, metric, log):
    fig = per_layer_figure(table, metric, log)
    names = [short_name(layer.name) for layer in table.layers]
    net = [t for t in fig.data if t.offsetgroup == "net"]
    (baseline,) = (t for t in fig.data if t.offsetgroup == "baseline")
    assert all(list(t.x) == names for t in fig.data)
    # one stack per layer: its kinds add up to the layer's cost, and all bars to the network's
    for i, layer in enumerate(table.layers):
        assert sum(t.y[i] for t in net) == getattr(layer, metric)
    assert sum(sum(t.y) for t in net) == getattr(table, metric)
    assert {t.name: sum(t.y) for t in net} == {
        KIND_WORDS[k]: kind_total(table, metric, k) for k in OP_KINDS if kind_total(table, metric, k)
    }
    assert list(baseline.y) == [getattr(layer, f"baseline_{metric}") for layer in table.layers]
    assert sum(baseline.y) == getattr(table, f"baseline_{metric}")
    assert fig.layout.yaxis.type == ("log" if log else "linear") and fig.layout.yaxis.title.text == METRICS[metric]


def test_share_by_kind_is_the_table(table):
    shares = share_by_kind(table)
    for metric in METRICS:
        assert set(shares[metric]) == set(OP_KINDS)
        assert sum(shares[metric].values()) == pytest.approx(1, rel=1e-12)
        for kind in OP_KINDS:
            assert shares[metric][kind] == kind_total(table, metric, kind) / getattr(table, metric)


def test_share_figure_plots_the_shares(table):
    shares, fig = share_by_kind(table), share_figure(table)
    kinds = [k for k in OP_KINDS if any(shares[m][k] for m in METRICS)]
    assert [t.name for t in fig.data] == [KIND_WORDS[k] for k in kinds]
    for kind, trace in zip(kinds, fig.data):
        assert list(trace.y) == list(METRICS.values())
        assert list(trace.x) == [shares[m][kind] for m in METRICS]
    for i in range(len(METRICS)):  # each bar is 100%
        assert sum(t.x[i] for t in fig.data) == pytest.approx(1, rel=1e-12)


def test_share_by_kind_by_hand():
    """Stem 3x3 conv 3->32, one dw-separable block 32->64, FC 64->10 on 16x16: MACs by kind worked out by hand."""
    spec = Spec(
        stem=Stem(32, 3, 1, "relu"),
        stages=(Stage("dws", out_chs=64, kernel=3, stride=1),),
        head=Head(0),
        resolution=16,
        num_classes=10,
    ).validate()
    standard, depthwise, pointwise, fc = 16 * 16 * 32 * 3 * 9, 16 * 16 * 32 * 9, 16 * 16 * 32 * 64, 64 * 10
    total = standard + depthwise + pointwise + fc
    assert analyze(spec).macs == total == 819_840
    assert share_by_kind(analyze(spec))["macs"] == dict(
        standard=standard / total,
        depthwise=depthwise / total,
        pointwise=pointwise / total,
        grouped=0.0,
        fc=fc / total,
        elementwise=0.0,
    )


def test_savings_points_are_each_blocks_ratio_beside_theory(table):
    fig = savings_figure(table)
    blocks = [layer for layer in table.layers if layer.is_block]
    theory, measured = fig.data
    assert list(theory.x) == list(measured.x) == [short_name(layer.name) for layer in blocks]
    assert list(measured.y) == [layer.macs / layer.baseline_macs for layer in blocks]
    assert list(theory.y) == [1 / layer.out_shape[0] + 1 / layer.kernel**2 for layer in blocks]


def test_mobilenet_v1_blocks_sit_on_the_theory_line():
    """Depthwise-separable blocks cost exactly 1/N + 1/K^2 of a standard conv (MobileNet, section 3.1)."""
    theory, measured = savings_figure(analyze(get_preset("mobilenet_v1"))).data
    assert len(measured.y) == 13
    assert list(measured.y) == pytest.approx(list(theory.y), rel=1e-12)


def test_a_very_deep_design_is_drawn_a_stage_per_bar_with_the_same_totals():
    deep = get_preset("mobilenet_v2").with_(depth=4.0)  # 68 blocks: more bars than a chart can show
    table = analyze(deep)
    assert len(table.layers) > MAX_BARS
    fig = per_layer_figure(table)
    net = [t for t in fig.data if t.offsetgroup == "net"]
    assert list(net[0].x) == [
        "stem",
        "s0 ×4",
        "s1 ×8",
        "s2 ×12",
        "s3 ×16",
        "s4 ×12",
        "s5 ×12",
        "s6 ×4",
        "head",
        "classifier",
    ]
    assert sum(sum(t.y) for t in net) == table.macs and fig.layout.title.text.startswith("MACs per stage")
    (baseline,) = (t for t in fig.data if t.offsetgroup == "baseline")
    assert sum(baseline.y) == table.baseline_macs
    theory, measured = savings_figure(table).data
    blocks = [layer for layer in table.layers if layer.is_block and layer.stage == 3]
    assert measured.y[3] == sum(b.macs for b in blocks) / sum(b.baseline_macs for b in blocks)
    assert theory.y[3] == blocks[0].theory_ratio
    assert len(per_layer_figure(analyze(get_preset("mobilenet_v2"))).data[0].x) == 20  # 20 layers: one bar each


def test_against_standard_figure_is_the_mobilenet_papers_table_4():
    table = analyze(get_preset("mobilenet_v1"))
    params, macs = against_standard_figure(table).data
    assert list(params.x) == [table.baseline_params, table.params] == [29_294_088, 4_231_976]
    assert list(macs.x) == [table.baseline_macs, table.macs] == [4_867_293_184, 568_740_352]  # paper: 4866M, 569M
    assert params.text[1] == "4.2 M (6.9× fewer)" and macs.text[1] == "568.7 M (8.6× fewer)"
    assert list(params.y) == ["standard convolutions", "mobilenet_v1"]


def test_baseline_words_lead_with_the_dense_version():
    v2, v1 = analyze(get_preset("mobilenet_v2")), analyze(get_preset("mobilenet_v1"))
    assert baseline_words(v2.macs, v2.dense_macs, v2.baseline_macs) == (
        "**1/18 of its dense version**  \n1.17× one conv per block"
    )
    assert baseline_words(v1.params, v1.dense_params, v1.baseline_params) == (
        "**1/6.9 of its dense version**  \n0.14× one conv per block"
    )
    assert baseline_words(100, 100, 50).startswith("**the same as its dense version**")  # nothing grouped
