from lwviz.cost import analyze
from lwviz.presets import get_preset
from tests.pages.apptest import metrics, open_page


def test_default_shows_mobilenet_v2():
    at = open_page("layer_costs")
    table = analyze(get_preset("mobilenet_v2"))
    assert metrics(at)["MACs"] == f"{table.macs / 1e6:.1f} M" == "300.8 M"
    assert metrics(at)["Parameters"] == f"{table.params / 1e6:.2f} M"
    df = at.dataframe[0].value
    assert list(df["layer"]) == [l.name for l in table.layers]
    assert df["MACs"].sum() == table.macs


def test_controls_change_the_totals():
    at = open_page("layer_costs")
    at.selectbox[0].set_value("efficientnet_b0").run()
    at.select_slider[0].set_value(0.5).run()
    at.select_slider[1].set_value(160).run()
    assert not at.exception
    table = analyze(get_preset("efficientnet_b0").with_(width=0.5, resolution=160))
    assert metrics(at)["MACs"] == f"{table.macs / 1e6:.1f} M"
    assert at.dataframe[0].value["params"].sum() == table.params
