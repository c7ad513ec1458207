from dataclasses import replace

import pytest

from lwviz.cost import analyze
from lwviz.presets import get_preset
from lwviz.spec import Spec
from tests.pages.apptest import metrics, open_page


def layer_table(at):
    return next(d for d in at.dataframe if d.editing_mode == "read_only").value


def assert_shows(at, spec):
    """The headline numbers and the table are lwviz's totals for ``spec``."""
    table = analyze(spec)
    shown = metrics(at)
    assert shown["Parameters"] == f"{table.params / 1e6:.2f} M"
    assert shown["MACs"] == f"{table.macs / 1e6:.1f} M"
    assert shown["FLOPs (2 × MACs)"] == f"{table.flops / 1e6:.1f} M"
    assert shown["Size, fp32"] == f"{4 * table.params / 2**20:.1f} MiB"
    df = layer_table(at)
    assert df["MACs"].sum() == table.macs and df["params"].sum() == table.params
    assert at.query_params["spec"] in (spec.to_string(), spec.name)


def test_default_is_mobilenet_v2_at_300_8m_macs():
    at = open_page()
    assert metrics(at)["MACs"] == "300.8 M"
    assert_shows(at, get_preset("mobilenet_v2"))
    assert len(at.get("plotly_chart")) == 3


@pytest.mark.parametrize("key, value, change", [
    ("knob_width", 0.5, dict(width=0.5)),
    ("knob_resolution", 160, dict(resolution=160)),
    ("knob_depth", 1.5, dict(depth=1.5)),
    ("knob_block", "dws", dict(block="dws")),
    ("knob_kernel", 5, dict(kernel=5)),
    ("knob_expand", 4.0, dict(expand=4.0)),
    ("knob_se", 0.25, dict(se=0.25)),
    ("knob_act", "hswish", dict(act="hswish")),
])
def test_each_control_updates_the_totals(key, value, change):
    at = open_page()
    widget = at.slider(key) if key in ("knob_width", "knob_resolution", "knob_depth") else at.selectbox(key)
    widget.set_value(value).run()
    assert not at.exception and not at.error
    spec = get_preset("mobilenet_v2").with_(**change)
    assert_shows(at, spec)
    if analyze(spec).macs != analyze(get_preset("mobilenet_v2")).macs:
        assert str(at.metric[1].delta).endswith("vs the preset")


def test_changing_the_preset_resets_the_knobs():
    at = open_page()
    at.slider("knob_width").set_value(0.5).run()
    at.selectbox("knob_preset").set_value("shufflenet_v2_x1_0").run()
    assert at.slider("knob_width").value == 1.0
    assert_shows(at, get_preset("shufflenet_v2_x1_0"))


def test_invalid_combination_shows_the_message_and_keeps_the_last_design():
    at = open_page()
    at.selectbox("knob_preset").set_value("shufflenet_v2_x1_0").run()
    at.slider("knob_width").set_value(0.25).run()
    at.selectbox("knob_block").set_value("shufflev1").run()
    assert not at.exception
    assert "groups" in at.error[0].value and "last valid design" in at.error[0].value
    assert_shows(at, get_preset("shufflenet_v2_x1_0").with_(width=0.25))


def test_link_opens_the_same_network():
    spec = get_preset("efficientnet_b0").with_(width=0.75, kernel=5, resolution=192)
    at = open_page(spec=spec.to_string())
    assert_shows(at, spec)
    assert at.slider("knob_width").value == 0.75 and at.selectbox("knob_kernel").value == 5


@pytest.mark.parametrize("bad", ["bogus", "net_w9-stem-ir_c16-head", "net_w1-stem_k4-ir_c16-head", "%%%"])
def test_bad_link_warns_and_falls_back(bad):
    at = open_page(spec=bad)
    assert at.warning and "could not be read" in at.warning[0].value
    assert_shows(at, get_preset("mobilenet_v2"))


def test_downloads_are_offered():
    at = open_page()
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Per-layer table (CSV)", "Spec (JSON)"]
    assert at.button(key="export_onnx").label == "Export to ONNX"
    assert Spec.from_json(get_preset("mobilenet_v2").to_json()) == get_preset("mobilenet_v2")


def edit_stages(at, edited=None, added=(), deleted=(), version=0):
    at.session_state[f"stage_editor_{version}"] = {
        "edited_rows": edited or {}, "added_rows": list(added), "deleted_rows": list(deleted)}
    return at.run()


def test_stage_table_shows_the_stages():
    at = open_page()
    editor = at.data_editor[0]
    assert editor.editing_mode == "dynamic"
    stages = get_preset("mobilenet_v2").stages
    assert editor.value["out_chs"].tolist() == [s.out_chs for s in stages]
    assert editor.value["repeats"].tolist() == [s.repeats for s in stages]


def test_editing_a_stage_changes_the_design():
    at = edit_stages(open_page(), edited={2: {"kernel": 7, "block": "mbconv", "se": 0.25}}, deleted=[6])
    assert not at.exception and not at.error
    base = get_preset("mobilenet_v2")
    stages = list(base.stages)
    stages[2] = replace(stages[2], kernel=7, block="mbconv", se=0.25)
    del stages[6]
    assert_shows(at, base.with_(stages=tuple(stages)))


def test_added_stage_and_knobs_combine():
    at = open_page()
    at.slider("knob_width").set_value(0.5)
    row = dict(block="dws", repeats=2, kernel=5, stride=2, out_chs=512, expand=1.0, se=0.0, act="relu6", groups=1)
    at = edit_stages(at, added=[row])
    assert not at.exception and not at.error
    base = get_preset("mobilenet_v2")
    assert_shows(at, base.with_(stages=(*base.stages, Spec.from_dict({"stages": [row]}).stages[0]), width=0.5))


@pytest.mark.parametrize("edit, message", [
    ({0: {"kernel": 4}}, "stages[0].kernel"),
    ({1: {"out_chs": None}}, "stages[1].out_chs"),
])
def test_invalid_stage_edit_names_the_cell_and_keeps_the_design(edit, message):
    at = edit_stages(open_page(), edited=edit)
    assert not at.exception
    assert message.replace("[", "\\[").replace("]", "\\]").replace("_", "\\_") in at.error[0].value
    assert_shows(at, get_preset("mobilenet_v2"))


def test_new_preset_reseeds_the_stage_table():
    at = edit_stages(open_page(), edited={0: {"out_chs": 24}})
    at.selectbox("knob_preset").set_value("mobilenet_v3_small").run()
    assert at.data_editor[0].value["out_chs"].tolist() == [s.out_chs for s in get_preset("mobilenet_v3_small").stages]
    assert_shows(at, get_preset("mobilenet_v3_small"))


def test_onnx_export_offers_the_file():
    at = open_page(spec=get_preset("mobilenet_v3_small").with_(resolution=96).to_string())
    at.button(key="export_onnx").click().run()
    assert not at.exception and not at.error
    labels = [b.label for b in at.get("download_button")]
    assert labels[-1].startswith("Model (ONNX, ") and "MiB" in labels[-1]


def test_onnx_export_failure_is_a_message(monkeypatch):
    import torch

    def broken(*args, **kwargs):
        raise RuntimeError("no such op")

    monkeypatch.setattr(torch.onnx, "export", broken)
    at = open_page(spec=get_preset("mobilenet_v3_small").with_(resolution=96).to_string())
    at.button(key="export_onnx").click().run()
    assert not at.exception
    assert "ONNX export failed: no such op" in at.error[0].value


def test_diagram_follows_the_design():
    from lwviz.viz.diagram import network_dot

    at = open_page()
    at.slider("knob_width").set_value(0.5).run()
    assert at.get("graphviz_chart")[0].proto.spec == network_dot(get_preset("mobilenet_v2").with_(width=0.5))


def test_latency_toggle_times_every_layer_of_the_design():
    spec = get_preset("mobilenet_v3_small").with_(resolution=96)
    at = open_page(spec=spec.to_string())
    charts = len(at.get("plotly_chart"))
    at.number_input("latency_runs").set_value(1)
    at.toggle("latency_on").set_value(True).run()
    assert not at.exception and not at.error
    report = at.session_state.latency_report
    assert report.spec == spec and report.runs == 1 and report.threads == 1
    assert [l.name for l in report.layers] == [l.name for l in analyze(spec).layers]
    assert len(at.get("plotly_chart")) == charts + 3
    assert f"{report.ms:.1f} ms per image" in " ".join(c.value for c in at.caption)
    at.slider("knob_width").set_value(0.5).run()  # a new design is measured again
    assert at.session_state.latency_report.spec == spec.with_(width=0.5)
