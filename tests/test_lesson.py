"""The lesson's numbers: every formula's figures from lwviz's cost model, the papers' tables, the experiments."""

import re
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
import torch

from lwviz.cost import analyze
from lwviz.layers import ChannelShuffle
from lwviz.lesson import STEPS, step_number
from lwviz.lesson import numbers as num
from lwviz.lesson.scaling import MODELS, alone_to, comparison, efficientnet, family, fitted_phi, rule
from lwviz.lesson.spiral import DIMENSIONS, experiment, spiral
from lwviz.presets import PRESETS, get_preset
from lwviz.viz import lesson_charts as charts


def test_eleven_steps_in_the_issues_order_each_with_every_text_and_a_page():
    assert [s.key for s in STEPS] == [
        "why", "standard", "separable", "multipliers", "inverted", "se", "shuffle", "fire", "compound", "compress",
        "demo",
    ]  # fmt: skip
    for step in STEPS:
        assert all([step.title, step.idea, step.question, step.answer, step.page_title])
        assert step.page.startswith("pages/") and step.page.endswith(".py")


@pytest.mark.parametrize(
    "raw, step", [("3", 3), ("11", 11), ("1", 1), ("0", 1), ("12", 1), ("99", 1), ("-2", 1), ("abc", 1), ("", 1),
                  (None, 1), ("2.5", 1), (" 4 ", 4)]
)  # fmt: skip
def test_step_number_falls_back_to_step_one(raw, step):
    assert step_number(raw) == step


def test_why_lightweight_is_mobilenet_v1_beside_its_dense_version():
    dense, mobile = num.why_lightweight()
    table = analyze(get_preset("mobilenet_v1"))
    assert (dense.params, dense.macs) == (table.dense_params, table.dense_macs) == (29_300_936, 4_828_758_016)
    assert (mobile.params, mobile.macs) == (4_231_976, 568_740_352)
    assert mobile.flops == 1_137_480_704 and round(mobile.megabytes, 1) == 16.9 and round(dense.megabytes, 1) == 117.2
    small_dense, small = num.why_lightweight(128)
    assert small.params == mobile.params and small.macs == analyze(num.mobilenet_v1(128)).macs


def test_the_dense_model_timed_is_the_one_the_dense_baseline_prices():
    from lwviz.builder import build

    with torch.device("meta"):
        model = num.made_dense(build(get_preset("mobilenet_v1")))
    assert all(m.groups == 1 for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert sum(p.numel() for p in model.parameters()) == num.why_lightweight()[0].params


def test_measured_speeds_are_two_positive_times():
    dense_ms, mobile_ms = num.measure_speeds(resolution=64, runs=1)
    assert dense_ms > 0 and mobile_ms > 0


@pytest.mark.parametrize("dk, m, n, df", [(3, 512, 512, 14), (1, 32, 64, 7), (5, 3, 1024, 112), (7, 1024, 1, 1)])
def test_standard_and_separable_costs_are_the_papers_products(dk, m, n, df):
    layer = num.one_layer(dk, m, n, df)
    assert layer.standard.macs == dk * dk * m * n * df * df
    assert layer.standard.params == dk * dk * m * n
    assert layer.separable_macs == dk * dk * m * df * df + m * n * df * df
    assert num.separable_ratio(layer) == Fraction(1, n) + Fraction(1, dk * dk)


def test_tables_6_and_7_are_our_presets_and_round_to_the_papers_numbers():
    v1 = get_preset("mobilenet_v1")
    for row in num.width_table() + num.resolution_table():
        table = analyze(replace(v1, width=row.alpha, resolution=row.resolution))
        assert (row.params, row.macs) == (table.params, table.macs)
        assert abs(row.macs / 1e6 - row.paper_macs) < 1  # the paper's whole millions: 290.68M is its "290"
        assert round(row.params / 1e6, 1) == row.paper_params  # and every parameter count
    assert [r.macs for r in num.width_table()] == [568_740_352, 325_400_448, 149_497_088, 41_030_272]
    assert [r.macs for r in num.resolution_table()] == [568_740_352, 418_121_728, 290_675_200, 186_400_768]
    rounded = [round(r.macs / 1e6) for r in num.width_table() + num.resolution_table()]
    assert rounded == [569, 325, 149, 41, 569, 418, 291, 186]  # only 160 x 160 differs, truncated in the paper
    assert len({r.params for r in num.resolution_table()}) == 1  # resolution does not change the weights


def test_cost_falls_about_as_alpha_squared_rho_squared():
    full = num.multiplier_footprint(1.0, 224).macs
    for alpha in num.ALPHAS:
        for res in num.RESOLUTIONS:
            share = num.multiplier_footprint(alpha, res).macs / full
            # pointwise convs scale as alpha^2 rho^2, depthwise ones as alpha rho^2: the share sits between
            assert alpha**2 * num.rho(res) ** 2 <= share <= 1.01 * alpha * num.rho(res) ** 2
            assert share / (alpha**2 * num.rho(res) ** 2) < 1.17  # and close to alpha^2 rho^2: pointwise dominates


def test_inverted_residual_costs_expand_depthwise_and_linear_projection():
    block = num.InvertedResidual()
    t, m, n, df = block.expand, block.in_chs, block.out_chs, block.size
    assert block.ops["conv_pw"][1] == df * df * m * t * m
    assert block.ops["conv_dw"][1] == df * df * t * m * 9
    assert block.ops["conv_pwl"][1] == df * df * t * m * n
    assert block.macs == 10_311_168


def test_spiral_information_lost_falls_with_n_and_vanishes_for_many_dimensions():
    results = experiment()
    assert tuple(r.n for r in results) == DIMENSIONS == (2, 3, 5, 15, 30)
    errors = [r.error for r in results]
    assert all(a > b for a, b in zip(errors, errors[1:]))
    assert errors[0] > 0.2 and errors[1] > 0.1  # n = 2, 3: whole parts of the spiral are gone
    assert errors[-2] < 1e-3 and errors[-1] < 1e-4  # n = 15, 30: kept
    again = experiment.__wrapped__()  # seeded: the same numbers computed afresh
    assert [r.error for r in again] == errors
    assert all(np.array_equal(a.recovered, b.recovered) for a, b in zip(again, results))
    assert results[0].recovered.shape == spiral().shape


def test_n_equal_two_without_relu_would_be_exact():
    """The loss is the ReLU's: with n = 2 the pseudo-inverse is T's inverse."""
    x = spiral()
    t = np.random.default_rng(7).standard_normal((2, 2))
    assert np.allclose((x @ t.T) @ np.linalg.pinv(t).T, x)


def test_se_cost_is_two_small_layers_with_bias():
    assert num.se_cost(32, 8) == (2 * 32 * 8 + 8 + 32, 2 * 32 * 8)


@pytest.mark.parametrize("chs, groups", [(12, 3), (24, 4), (8, 8), (6, 1), (64, 8)])
def test_group_conv_costs_one_gth_and_the_shuffle_is_lwvizs_channel_shuffle(chs, groups):
    assert num.group_conv(chs, groups, 28).macs * groups == num.group_conv(chs, 1, 28).macs == 28 * 28 * chs * chs
    x = torch.arange(chs, dtype=torch.float32).view(1, chs, 1, 1)
    shuffled = ChannelShuffle(groups)(x).flatten().long().tolist()
    assert num.shuffle_order(chs, groups) == shuffled


def test_group_conv_refuses_channels_that_do_not_split():
    with pytest.raises(ValueError, match="groups"):
        num.group_conv(10, 3, 7)
    with pytest.raises(ValueError, match="groups"):
        num.shuffle_order(10, 4)


def test_fire_module_is_squeezenets_fire2_as_lwviz_prices_it():
    fire = num.Fire()
    assert fire.channels == (16, 64, 64)
    assert fire.weights == 96 * 16 + 16 * 64 + 9 * 16 * 64 == 11_776
    assert fire.params == fire.weights + 16 + 64 + 64  # biases: SqueezeNet has no batch norm
    squeezenet = analyze(get_preset("squeezenet1_0"))
    fire2 = next(layer for layer in squeezenet.layers if layer.name == "stages.0.0")
    assert fire2.params == fire.params and fire2.in_shape[0] == fire.in_chs
    assert fire.standard_params == 9 * 96 * 128 + 128


def test_compound_scaling_rule():
    assert rule() == pytest.approx(1.92, abs=0.01)
    assert fitted_phi(0) == 0
    phis = [fitted_phi(b) for b in MODELS]
    assert all(a < b for a, b in zip(phis, phis[1:]))


@pytest.mark.parametrize("b", range(1, 8))
def test_b1_to_b7_equal_torchvisions_models_params_and_macs(b):
    """Exact to torchvision's parameter counts; MACs equal its ``_ops`` (GMACs, 3 decimals) at its weights' crop."""
    from torchvision.models import get_model_weights

    meta = get_model_weights(f"efficientnet_b{b}").IMAGENET1K_V1
    spec = efficientnet(b)
    table = analyze(spec)
    assert table.params == meta.meta["num_params"] == family()[b].params
    assert table.macs == family()[b].macs
    crop = meta.transforms().crop_size[0]  # B2's weights run at 288, the paper's B2 at 260
    assert round(analyze(replace(spec, resolution=crop)).macs / 1e9, 3) == meta.meta["_ops"]
    if spec.name in PRESETS:  # the same numbers as the preset, when lwviz registers one
        assert (table.params, table.macs) == (
            analyze(get_preset(spec.name)).params,
            analyze(get_preset(spec.name)).macs,
        )


def test_one_dimension_alone_reaches_the_same_macs_only_just():
    for b in (1, 2, 3, 4):
        compound, *alone = comparison(b)
        for scaled in alone:
            if scaled is None:
                continue
            assert scaled.macs >= compound.macs
            dimension = scaled.dimension
            step = 1 if dimension == "resolution" else 0.01
            lower = replace(get_preset("efficientnet_b0"), **{dimension: getattr(scaled, dimension) - step})
            assert analyze(lower).macs < compound.macs  # as little as possible
    width = alone_to("width", comparison(4)[0].macs)
    assert width.params > 2 * comparison(4)[0].params  # width alone: far more parameters for the same MACs
    assert comparison(7)[1:] == (None, None, None)  # beyond what a spec may ask
    assert comparison(0)[1].width == 1.0


def test_compression_and_demo_numbers():
    params = analyze(get_preset("efficientnet_lite0")).params
    assert num.compressed_params() == params
    assert num.storage(params, 32) == pytest.approx(4 * num.storage(params, 8))
    assert num.kept_weights(1000, 0.9) == 100 and num.kept_weights(params, 0) == params
    assert num.demo_macs() == analyze(get_preset("efficientnet_lite0")).macs


def _words(fig) -> list[str]:
    layout = fig.layout
    found = [layout.title.text or ""] + [a.text for a in layout.annotations]
    for axis in (layout.xaxis, layout.yaxis):
        found.append(axis.title.text or "")
    found += [t.name or "" for t in fig.data] + [getattr(t, "hovertemplate", "") or "" for t in fig.data]
    return [w for w in found if w]


def test_every_figure_passes_every_word_through_the_translate_function():
    seen = []

    def _(message, **params):
        seen.append(message)
        return "«" + (message.format(**params) if params else message) + "»"

    dense, mobile = num.why_lightweight()
    figures = [
        charts.footprint_figure(dense, mobile, (100.0, 20.0), _),
        charts.spiral_figure(experiment(), 15, _),
        charts.spiral_error_figure(experiment(), 15, _),
        charts.gate_figure(np.linspace(0, 1, 16, dtype=np.float32), _),
        charts.shuffle_figure(12, 3, _),
        charts.scaling_figure(family(), 3, _),
    ]
    for fig in figures:
        for word in _words(fig):
            plain = re.sub(r"%\{[^}]*\}|<extra></extra>|MobileNet|B\d", "", word)
            assert "«" in plain or not any(c.isalpha() and c.isascii() for c in plain), word
    assert len(seen) > 20


def test_shuffle_figure_draws_each_channel_where_the_shuffle_puts_it():
    fig = charts.shuffle_figure(6, 3)
    lines = [t for t in fig.data if t.mode == "lines"]
    assert sorted((int(t.x[0]), int(t.x[1])) for t in lines) == sorted(
        (source, position) for position, source in enumerate(num.shuffle_order(6, 3))
    )
