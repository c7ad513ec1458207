"""AppTest of the first page: the displayed totals are lwviz's totals for the chosen spec."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lwviz.cost import analyze
from lwviz.presets import get_preset


def _app():
    at = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception
    return at


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_default_page_shows_mobilenet_v2():
    at = _app()
    table = analyze(get_preset("mobilenet_v2"))
    assert _metrics(at)["MACs"] == f"{table.macs / 1e6:.1f} M" == "300.8 M"
    assert _metrics(at)["Parameters"] == f"{table.params / 1e6:.2f} M"
    df = at.dataframe[0].value
    assert list(df["layer"]) == [l.name for l in table.layers]
    assert df["MACs"].sum() == table.macs


def test_controls_change_the_totals():
    at = _app()
    at.selectbox[0].set_value("efficientnet_b0").run()
    at.select_slider[0].set_value(0.5).run()
    at.select_slider[1].set_value(160).run()
    assert not at.exception
    table = analyze(get_preset("efficientnet_b0").with_(width=0.5, resolution=160))
    assert _metrics(at)["MACs"] == f"{table.macs / 1e6:.1f} M"
    assert at.dataframe[0].value["params"].sum() == table.params
