import pytest

from lwviz.cost import analyze
from lwviz.cost.one_layer import OneLayer
from lwviz.plan import resolve
from lwviz.presets import get_preset
from lwviz.viz.layer_figures import count, fewer
from tests.pages.apptest import metrics, open_page

PAPER = dict(in_chs=512, out_chs=512, kernel=3, height=14, width=14, stride=1)


def _tex(n: int) -> str:
    return f"{n:,}".replace(",", "{,}")


def assert_shows(at, layer: OneLayer):
    """The metrics are lwviz's one-layer costs, and the formulas carry the same numbers in full."""
    assert not at.exception and not at.error
    assert metrics(at) == {
        "Standard params": count(layer.standard.params),
        "Standard MACs": count(layer.standard.macs),
        "Separable params": count(layer.separable_params),
        "Separable MACs": count(layer.separable_macs),
    }
    deltas = {m.label: m.delta for m in at.metric if m.delta}
    assert deltas == {
        "Separable params": fewer(float(layer.params_ratio)),
        "Separable MACs": fewer(float(layer.macs_ratio)),
    }
    latex = " ".join(item.value for item in at.latex)
    k, m, n, ho, wo = layer.kernel, layer.in_chs, layer.out_chs, layer.out_height, layer.out_width
    assert rf"= {k} \cdot {k} \cdot {m} \cdot {n} \cdot {ho} \cdot {wo} \\ &= {_tex(layer.standard.macs)} " in latex
    assert rf"{k} \cdot {k} \cdot {m} \cdot {ho} \cdot {wo} + {m} \cdot {n} \cdot {ho} \cdot {wo}" in latex
    assert f"= {_tex(layer.separable_macs)} " in latex and f"= {_tex(layer.separable_params)} " in latex
    assert rf"\frac{{1}}{{{n}}} + \frac{{1}}{{{k * k}}}" in latex
    assert len(at.get("plotly_chart")) == 2


def test_opens_on_the_mobilenet_paper_example():
    at = open_page("layer")
    assert_shows(at, OneLayer(**PAPER))
    assert metrics(at)["Standard MACs"] == "462.42 M" and metrics(at)["Separable MACs"] == "52.28 M"
    assert "462{,}422{,}016" in at.latex[0].value and "52{,}283{,}392" in at.latex[1].value


@pytest.mark.parametrize(
    "field, value",
    [
        ("in_chs", 32),
        ("out_chs", 64),
        ("kernel", 5),
        ("kernel", 1),
        ("height", 7),
        ("width", 9),
        ("stride", 2),
        ("stride", 4),
    ],
)
def test_each_control_updates_the_totals(field, value):
    at = open_page("layer")
    at.number_input(f"layer_{field}").set_value(value).run()
    assert_shows(at, OneLayer(**PAPER | {field: value}))


def test_controls_combine():
    at = open_page("layer")
    change = dict(in_chs=24, out_chs=40, kernel=7, height=57, width=31, stride=3)
    for field, value in change.items():
        at.number_input(f"layer_{field}").set_value(value).run()
    assert_shows(at, OneLayer(**change))


def test_an_even_kernel_shows_the_message_and_nothing_else():
    at = open_page("layer")
    at.number_input("layer_kernel").set_value(4).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Kernel size K (kernel) must be an odd integer in 1..11, got 4"]
    assert not at.metric and not at.latex and not at.get("plotly_chart")
    at.number_input("layer_kernel").set_value(5).run()  # fixing it brings everything back
    assert_shows(at, OneLayer(**PAPER | {"kernel": 5}))


def test_start_from_a_block_of_the_current_design():
    """A block's numbers fill the controls; its standard MACs are the Build page's baseline for it."""
    spec = get_preset("mobilenet_v1")
    block = resolve(spec).blocks[1]  # 64 -> 128 channels, 3x3, 112x112, stride 2
    at = open_page("layer", spec="mobilenet_v1")
    at.selectbox("layer_source").set_value(block.name).run()
    assert [at.number_input(f"layer_{f}").value for f in PAPER] == [64, 128, 3, 112, 112, 2]
    layer = OneLayer(64, 128, 3, 112, 112, 2)
    assert_shows(at, layer)
    assert layer.standard.macs == next(row for row in analyze(spec).layers if row.name == block.name).baseline_macs
    at.selectbox("layer_source").set_value("paper").run()
    assert_shows(at, OneLayer(**PAPER))


def test_in_chinese_with_the_same_numbers():
    """Every word in Chinese, every number as in English; switching the language keeps the controls' values."""
    at = open_page("layer", lang="zh")
    assert not at.exception and not at.error
    assert at.title[0].value == "单层卷积：标准卷积 vs 深度可分离卷积"
    assert [s.value for s in at.subheader] == ["乘加运算 (MACs)", "权重"]
    assert [at.number_input(f"layer_{f}").label for f in PAPER] == [
        "输入通道数 M",
        "输出通道数 N",
        "卷积核大小 K",
        "输入高度 H",
        "输入宽度 W",
        "步长",
    ]
    assert at.number_input("layer_kernel").help == "1..11，奇数"
    assert metrics(at) == {
        "标准卷积的参数量": "2.36 M",
        "标准卷积的乘加运算 (MACs)": "462.42 M",
        "深度可分离卷积的参数量": "266.8 k",
        "深度可分离卷积的乘加运算 (MACs)": "52.28 M",
    }
    assert {m.delta for m in at.metric if m.delta} == {"仅为 1/8.8"}
    assert at.selectbox("layer_source").options[0] == "MobileNet 论文中的例子：512 → 512 个通道，3×3，14×14，步长 1"
    latex = " ".join(item.value for item in at.latex)
    assert r"\text{标准卷积} &=" in latex and r"= 266{,}752 \text{ 个权重}" in latex
    assert r"\frac{\text{深度卷积 + 逐点卷积}}{\text{标准卷积}}" in latex

    at.number_input("layer_in_chs").set_value(32).run()
    at.session_state["lang"] = "en"  # what the sidebar switch sets
    at.run()
    assert at.title[0].value == "One layer: standard vs depthwise-separable convolution"
    assert at.number_input("layer_in_chs").value == 32
    assert_shows(at, OneLayer(**PAPER | {"in_chs": 32}))
