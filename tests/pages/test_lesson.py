"""The Lesson page: every step in order, its control moving its formula's numbers (checked against lwviz's cost
model), answers on click, previous and next, and ``?step=`` both ways."""

from pathlib import Path

import pytest

from lwviz.explain.se_gates import se_blocks
from lwviz.lesson import STEPS
from lwviz.lesson import numbers as num
from lwviz.lesson.scaling import comparison, family
from lwviz.lesson.spiral import experiment
from lwviz.viz.layer_figures import count
from tests.pages.apptest import metrics, open_page

FRAGMENT = Path("/tmp/lwviz_po/lesson.po")  # see test_chinese_walk


def tex(n: int) -> str:
    return f"{n:,}".replace(",", "{,}")


def latex(at) -> str:
    return "\n".join(item.value for item in at.latex)


def assert_on(at, k: int, title: str | None = None) -> None:
    assert not at.exception, at.exception
    step = STEPS[k - 1]
    assert at.title[0].value == f"{k}. {title or step.title}"
    assert at.query_params["step"] == str(k)


def reveal(at, k: int) -> None:
    step = STEPS[k - 1]
    assert not at.success
    at.button(f"lesson_show_{step.key}").click().run()
    assert at.success[0].value == step.answer


def move(at, k: int) -> None:
    """Move step ``k``'s control and check its formula's numbers against lwviz's cost model."""
    key = STEPS[k - 1].key
    if key == "why":
        at.select_slider("lesson_why_res").set_value(160).run()
        dense, mobile = num.why_lightweight(160)
        assert rf"2 \times {tex(mobile.macs)} = {tex(mobile.flops)}" in latex(at)
        assert mobile.macs == 290_675_200
        shown = metrics(at)
        assert shown["MACs"] == "290.68 M" and shown["Parameters"] == "4.23 M"
        assert {m.label: m.delta for m in at.metric}["MACs"] == f"standard convolution: {count(dense.macs)}"
        assert count(dense.macs) == "2.46 G"
        at.select_slider("lesson_why_res").set_value(128).run()
        at.button("lesson_why_measure").click().run()
        assert not at.exception, at.exception
        assert metrics(at)["Time on this laptop"].endswith(" ms")
    elif key == "standard":
        at.slider("lesson_std_n").set_value(64).run()
        at.select_slider("lesson_std_k").set_value(5).run()
        layer = num.one_layer(5, 512, 64, 14)
        assert rf"= 5 \cdot 5 \cdot 512 \cdot 64 \cdot 14 \cdot 14 = {tex(layer.standard.macs)}" in latex(at)
        assert layer.standard.macs == 160_563_200 and f"= {tex(layer.standard.params)}" in latex(at)
    elif key == "separable":
        at.slider("lesson_sep_n").set_value(32).run()
        layer = num.one_layer(3, 512, 32, 14)
        assert rf"\frac{{{tex(layer.separable_macs)}}}{{{tex(layer.standard.macs)}}}" in latex(at)
        assert rf"\frac{{1}}{{32}} + \frac{{1}}{{9}} = {1 / 32 + 1 / 9:.4f}" in latex(at)
        assert metrics(at)["Fewer by"] == f"{layer.standard.macs / layer.separable_macs:.1f}×" == "7.0×"
    elif key == "multipliers":
        at.select_slider("lesson_alpha").set_value(0.5).run()
        at.select_slider("lesson_rho").set_value(160).run()
        cost, full = num.multiplier_footprint(0.5, 160), num.multiplier_footprint(1.0, 224)
        assert rf"\frac{{{tex(cost.macs)}}}{{{tex(full.macs)}}} = {cost.macs / full.macs:.3f}" in latex(at)
        assert rf"\alpha^2 \rho^2 = {0.25 * (160 / 224) ** 2:.3f}" in latex(at)
        tables = [frame.value for frame in at.dataframe]
        assert list(tables[0]["MACs, ours (M)"]) == [569, 325, 149, 41]
        assert list(tables[0]["MACs, paper (M)"]) == [569, 325, 149, 41]
        assert list(tables[1]["MACs, ours (M)"]) == [569, 418, 291, 186]
    elif key == "inverted":
        at.select_slider("lesson_spiral_n").set_value(30).run()
        error = next(r.error for r in experiment() if r.n == 30)
        assert r"T \in \mathbb{R}^{30 \times 2}" in latex(at) and f"= {error:.4f}" in latex(at)
        block = num.InvertedResidual()
        assert block.macs == 10_311_168
        assert (
            r"t = 6:\ 14^2 \cdot 64 \cdot 384 + 14^2 \cdot 384 \cdot 9 + 14^2 \cdot 384 \cdot 64 = 10{,}311{,}168"
            in (latex(at))
        )
        assert len(at.get("plotly_chart")) == 2
    elif key == "se":
        at.button("lesson_se_train").click().run()
        assert not at.exception, at.exception
        at.slider("lesson_digit").set_value(3).run()
        model = at.session_state["lesson_se_explainer"][0]
        squeeze = list(se_blocks(model).values())[-1]
        chs, reduced = squeeze.fc2.out_channels, squeeze.fc1.out_channels
        assert f"= {tex(num.se_cost(chs, reduced)[0])}" in latex(at)
        assert rf"W_1 \in \mathbb{{R}}^{{{reduced} \times {chs}}}" in latex(at)
    elif key == "shuffle":
        at.slider("lesson_groups").set_value(4).run()
        at.slider("lesson_per_group").set_value(6).run()
        conv = num.group_conv(24, 4, 28)
        assert rf"\frac{{28^2 \cdot 24 \cdot 24}}{{4}} = {tex(conv.macs)}" in latex(at) and conv.macs == 112_896
    elif key == "fire":
        at.select_slider("lesson_fire").set_value(4).run()
        fire = num.Fire(ratio=4.0)
        assert rf"= 96 \cdot 32 + 32 \cdot 64 + 9 \cdot 32 \cdot 64 = {tex(fire.weights)}" in latex(at)
        assert f"= {tex(fire.params)})" in latex(at) and f"= {tex(fire.standard_params)}" in latex(at)
    elif key == "compound":
        at.select_slider("lesson_phi").set_value(4).run()
        b4, b0 = family()[4], family()[0]
        assert b4.params == 19_341_616 and b4.macs == 4_393_771_024
        assert rf"\frac{{{tex(b4.macs)}}}{{{tex(b0.macs)}}} = {b4.macs / b0.macs:.2f}" in latex(at)
        table = at.dataframe[0].value
        assert list(table["r"]) == ["380", "224", "—", str(comparison(4)[3].resolution)]
    elif key == "compress":
        at.slider("lesson_sparsity").set_value(80).run()
        params = num.compressed_params()
        assert rf"{tex(params)} \times (1 - 0.8) = {tex(num.kept_weights(params, 0.8))}" in latex(at)
        assert f"= {num.storage(params, 8):.1f}" in latex(at)
    elif key == "demo":
        at.slider("lesson_fps").set_value(15).run()
        macs = num.demo_macs()
        assert rf"= {tex(macs)} \times 15 = {tex(macs * 15)}" in latex(at)
    assert not at.exception, at.exception


def test_walk_every_step_in_order():
    at = open_page("lesson")
    for k in range(1, len(STEPS) + 1):
        assert_on(at, k)
        assert at.get("progress")[0].proto.text == f"Lesson · step {k} of {len(STEPS)}"
        move(at, k)
        reveal(at, k)
        assert at.button("lesson_prev").disabled == (k == 1)
        assert at.button("lesson_next").disabled == (k == len(STEPS))
        if k < len(STEPS):
            at.button("lesson_next").click().run()
    assert_on(at, len(STEPS))


def test_previous_goes_back_and_keeps_the_url_in_step():
    at = open_page("lesson", step="3")
    assert_on(at, 3)
    at.button("lesson_prev").click().run()
    assert_on(at, 2)
    at.button("lesson_prev").click().run()
    assert_on(at, 1)


def test_a_link_or_an_edited_address_opens_its_step():
    at = open_page("lesson", step="8")
    assert_on(at, 8)
    at.query_params["step"] = "5"
    at.run()
    assert_on(at, 5)
    at.button("lesson_next").click().run()
    assert_on(at, 6)


@pytest.mark.parametrize("bad", ["0", "99", "abc", "", "-1", "2.5"])
def test_bad_step_values_fall_back_to_step_one(bad):
    at = open_page("lesson", step=bad)
    assert_on(at, 1)
    assert not at.error and not at.warning


def test_the_measured_compression_figures():
    at = open_page("lesson", step="10")
    at.button("lesson_compress_measure").click().run(timeout=300)  # quantizing Lite0 on a busy 2-core laptop
    assert not at.exception, at.exception
    measured = at.session_state["lesson_compressed"]
    assert measured.int8_bytes < measured.float_bytes / 3  # int8 weights: about a quarter of the float file
    assert 0 < measured.int8_ms and 0 < measured.float_ms and 0 <= measured.agreement <= 1
    shown = metrics(at)
    assert shown["int8 file"] == f"{measured.int8_bytes / 1e6:.1f} MB"
    assert shown["Same answer as float32"] == f"{measured.agreement:.0%}"


def _catalog() -> dict[str, str]:
    from babel.messages.pofile import read_po

    with FRAGMENT.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def test_chinese_walk():
    """Every step's title in Chinese, walking with next. Passes once the lead has merged the lesson's catalog
    fragment into lwviz/locale (the titles must then come out as that fragment translates them)."""
    zh = _catalog()
    at = open_page("lesson", lang="zh")
    for k, step in enumerate(STEPS, start=1):
        assert_on(at, k, zh[step.title])
        assert at.get("progress")[0].proto.text == zh["Lesson · step {k} of {n}"].format(k=k, n=len(STEPS))
        if k < len(STEPS):
            at.button("lesson_next").click().run()
