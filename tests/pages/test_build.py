import io
import time
from dataclasses import replace

import pandas as pd
import plotly.io as pio
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from lwviz.cost import analyze
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Spec, Stage
from lwviz.ui.language import plain
from lwviz.ui.state import CHOICES, SLIDERS
from lwviz.viz.cost_charts import baseline_words
from tests.pages.apptest import metrics, open_page


def show_view(at, view):
    """Choose one of the results' views; the page draws only the chosen one."""
    at.segmented_control("build_view").set_value(view).run()
    assert not at.exception, at.exception
    return at


def layer_table(at):
    """The per-layer table of the Table view, whichever view was shown (it is shown again after)."""
    before = at.segmented_control("build_view").value
    table = next(d for d in show_view(at, "table").dataframe if d.editing_mode == "read_only").value
    show_view(at, before)
    return table


def headline(at):
    """{label: (value, delta, caption)} of the six headline metrics, each with the caption under it."""
    cells = [c for c in at.columns if len(c.metric) == 1]
    return {c.metric[0].label: (c.metric[0].value, c.metric[0].delta, c.caption[0].value) for c in cells}


def assert_shows(at, spec):
    """The headline numbers and the table are lwviz's totals for ``spec``, compared with the preset and with the
    two baselines of the same network."""
    table = analyze(spec)
    preset = analyze(get_preset(spec.name)) if spec.name in PRESETS else table
    mib = lambda n: f"{n / 2**20:.1f} MiB"  # noqa: E731
    expected = {  # label: (shown value, this network, the preset, its dense version, one conv per block)
        "Parameters": (f"{table.params / 1e6:.2f} M", table.params, preset.params, table.dense_params,
                       table.baseline_params),
        "MACs": (f"{table.macs / 1e6:.1f} M", table.macs, preset.macs, table.dense_macs, table.baseline_macs),
        "FLOPs (2 × MACs)": (f"{table.flops / 1e6:.1f} M", table.flops, preset.flops, 2 * table.dense_macs,
                             2 * table.baseline_macs),
        "Size, fp32": (mib(4 * table.params), table.params, preset.params, table.dense_params, table.baseline_params),
        "Size, int8": (mib(table.params), table.params, preset.params, table.dense_params, table.baseline_params),
        "Peak activation memory": (mib(table.peak_memory), table.peak_memory, preset.peak_memory, table.peak_memory,
                                   table.baseline_peak_memory),
    }  # fmt: skip
    shown = headline(at)
    assert list(shown) == list(expected)
    for label, (value, mine, preset_value, dense, per_block) in expected.items():
        delta = f"{mine / preset_value - 1:+.0%} vs the preset" if mine != preset_value else ""  # "": none shown
        assert shown[label] == (value, delta, baseline_words(mine, dense, per_block)), label
    df = layer_table(at)
    assert df["MACs"].sum() == table.macs and df["params"].sum() == table.params
    assert at.query_params["spec"] in (spec.to_string(), spec.name)


@pytest.fixture
def downloads(monkeypatch):
    """The bytes behind every media URL the app serves (AppTest's media store lives only during a run)."""
    files = {}
    store = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):
        file_id = store(self, data, mimetype, kind, filename)
        files[file_id] = data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return lambda url: files[url.rsplit("/", 1)[-1].split(".")[0]]


def test_default_is_mobilenet_v2_at_300_8m_macs():
    at = open_page()
    assert metrics(at)["MACs"] == "300.8 M"
    assert_shows(at, get_preset("mobilenet_v2"))
    assert len(at.get("plotly_chart")) == 3


@pytest.mark.parametrize(
    "key, value, change",
    [
        ("knob_width", 0.5, dict(width=0.5)),
        ("knob_resolution", 160, dict(resolution=160)),
        ("knob_depth", 1.5, dict(depth=1.5)),
        ("knob_block", "dws", dict(block="dws")),
        ("knob_kernel", 5, dict(kernel=5)),
        ("knob_expand", 4.0, dict(expand=4.0)),
        ("knob_se", 0.25, dict(se=0.25)),
        ("knob_act", "hswish", dict(act="hswish")),
    ],
)
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


ODD_LINKS = {  # valid designs whose knobs lie outside what the widgets usually offer
    "w3": dict(width=3.0),
    "w0.15": dict(width=0.15),
    "res512": dict(resolution=512),
    "d3": dict(depth=3.0),
    "k9": dict(kernel=9),
    "e5": dict(expand=5.0),
    "se0.3": dict(se=0.3),
}


def knob_widget(at, knob):
    return at.slider(f"knob_{knob}") if knob in SLIDERS else at.selectbox(f"knob_{knob}")


@pytest.mark.parametrize("case", list(ODD_LINKS))
def test_odd_but_valid_link_is_kept_and_shown_exactly(case):
    ((knob, value),) = ODD_LINKS[case].items()
    spec = get_preset("mobilenet_v2").with_(**ODD_LINKS[case]).validate()
    at = open_page(spec=spec.to_string())
    assert not at.exception and not at.error and not at.warning
    assert at.session_state.spec == spec and at.query_params["spec"] == spec.to_string()
    assert_shows(at, spec)
    widget = knob_widget(at, knob)
    assert widget.value == value
    if knob in SLIDERS:  # the range opened to show it, keeping the usual step
        assert widget.min <= value <= widget.max and widget.step == SLIDERS[knob][2]
    else:
        assert value not in CHOICES[knob] and len(widget.options) == len(CHOICES[knob]) + 2  # + "as in the preset"
    at.run()  # nothing drifts on the next run either
    assert at.session_state.spec == spec and not at.exception


def test_knobs_move_from_an_odd_link_without_jumping():
    spec = get_preset("mobilenet_v2").with_(width=3.0, kernel=9)
    at = open_page(spec=spec.to_string())
    at.slider("knob_resolution").set_value(160).run()
    assert_shows(at, spec.with_(resolution=160))
    at.slider("knob_width").set_value(1.5).run()
    at.selectbox("knob_kernel").set_value(5).run()
    at.run()
    assert not at.exception and not at.error
    assert (at.slider("knob_width").value, at.selectbox("knob_kernel").value) == (1.5, 5)
    assert_shows(at, spec.with_(resolution=160, width=1.5, kernel=5))
    at.slider("knob_width").set_value(3.0).run()  # the link's value stays reachable
    assert_shows(at, spec.with_(resolution=160, kernel=5))
    at.selectbox("knob_preset").set_value("mobilenet_v3_small").run()  # a preset brings the usual ranges back
    width = at.slider("knob_width")
    assert (width.value, width.min, width.max) == (1.0, *SLIDERS["width"][:2])
    assert_shows(at, get_preset("mobilenet_v3_small"))


def test_a_design_that_is_not_a_preset_says_so():
    spec = get_preset("mobilenet_v2").with_(name="my_net", width=0.5)
    at = open_page(spec=spec.to_string())
    assert not at.exception and not at.error
    preset_box = at.selectbox("knob_preset")
    assert preset_box.value is None and preset_box.proto.placeholder == "my_net (not a preset)"
    assert_shows(at, spec)  # compared with itself: no delta
    at.selectbox("knob_preset").set_value("mobilenet_v3_small").run()
    assert_shows(at, get_preset("mobilenet_v3_small"))


def test_a_design_set_elsewhere_is_shown_not_replaced():
    at = edit_stages(open_page(), edited={0: {"out_chs": 24}})
    edited = at.session_state.spec
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/build.py").run()  # the page's widgets were forgotten meanwhile
    assert at.session_state.spec == edited and not at.data_editor  # the table is closed again
    assert open_stage_table(at).data_editor[0].value["out_chs"].tolist()[0] == 24
    other = get_preset("mobilenet_v3_small").with_(width=0.75)
    at.switch_page("pages/home.py").run()
    at.session_state["spec"], at.query_params["spec"] = other, other.to_string()  # as set_spec on another page
    at.switch_page("pages/build.py").run()
    assert not at.exception and at.session_state.spec == other
    assert at.selectbox("knob_preset").value == "mobilenet_v3_small" and at.slider("knob_width").value == 0.75
    assert_shows(at, other)


def figure(at, index=0):
    return pio.from_json(at.get("plotly_chart")[index].proto.spec)


@pytest.mark.parametrize("metric, log", [("MACs", False), ("parameters", True), ("MACs", True)])
def test_per_layer_chart_follows_its_controls(metric, log):
    at = open_page()
    at.radio("chart_metric").set_value(metric)
    at.toggle("chart_log").set_value(log).run()
    fig, table = figure(at), analyze(get_preset("mobilenet_v2"))
    key = "macs" if metric == "MACs" else "params"
    assert fig.layout.yaxis.type == ("log" if log else "linear")
    assert fig.layout.yaxis.title.text == ("MACs" if key == "macs" else "Parameters")
    net = [t for t in fig.data if t.offsetgroup == "net"]
    assert sum(sum(t.y) for t in net) == getattr(table, key)
    (baseline,) = (t for t in fig.data if t.offsetgroup == "baseline")
    assert sum(baseline.y) == getattr(table, f"baseline_{key}")


def test_downloads_are_the_shown_table_and_spec(downloads):
    at = open_page()
    at.slider("knob_width").set_value(0.5).run()
    spec = get_preset("mobilenet_v2").with_(width=0.5)
    csv, js = show_view(at, "table").get("download_button")
    assert (csv.label, js.label) == ("Per-layer table (CSV)", "Spec (JSON)")
    assert at.button(key="export_onnx").label == "Export to ONNX"
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(downloads(csv.proto.url))), layer_table(at))
    pd.testing.assert_frame_equal(layer_table(at), analyze(spec).to_frame())
    shown = Spec.from_json(downloads(js.proto.url).decode())
    assert shown == spec == at.session_state.spec


def open_stage_table(at, open_it=True):
    """The stage table is drawn only while its expander is open (as a person clicking it does)."""
    at.session_state["build_stages"] = open_it
    return at.run()


def edit_stages(at, edited=None, added=(), deleted=(), version=0):
    if not at.session_state["build_stages"]:
        open_stage_table(at)
    at.session_state[f"stage_editor_{version}"] = {
        "edited_rows": edited or {},
        "added_rows": list(added),
        "deleted_rows": list(deleted),
    }
    return at.run()


def test_stage_table_is_drawn_only_while_open_and_closing_it_keeps_its_edits():
    at = open_page()
    assert not at.data_editor and at.expander[0].label == "Edit the stages one by one"
    at = edit_stages(at, edited={0: {"out_chs": 24}})
    edited = at.session_state.spec
    assert edited.stages[0].out_chs == 24
    at = open_stage_table(at, False)
    assert not at.data_editor and at.session_state.spec == edited
    at.slider("knob_width").set_value(0.5).run()  # the knobs still apply on top of the edited stages
    assert at.session_state.spec == edited.with_(width=0.5)
    at = open_stage_table(at)
    assert at.data_editor[0].value["out_chs"].tolist()[0] == 24 and at.session_state.spec == edited.with_(width=0.5)


def test_stage_table_shows_the_stages():
    at = open_stage_table(open_page())
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


@pytest.mark.parametrize(
    "edit, message",
    [
        ({0: {"kernel": 4}}, "stages[0].kernel"),
        ({1: {"out_chs": None}}, "stages[1].out_chs"),
    ],
)
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
    at = show_view(open_page(spec=get_preset("mobilenet_v3_small").with_(resolution=96).to_string()), "table")
    at.button(key="export_onnx").click().run()
    assert not at.exception and not at.error
    labels = [b.label for b in at.get("download_button")]
    assert labels[-1].startswith("Model (ONNX, ") and "MiB" in labels[-1]


def test_onnx_export_failure_is_a_message(monkeypatch):
    import torch

    def broken(*args, **kwargs):
        raise RuntimeError("no such op")

    monkeypatch.setattr(torch.onnx, "export", broken)
    at = show_view(open_page(spec=get_preset("mobilenet_v3_small").with_(resolution=96).to_string()), "table")
    at.button(key="export_onnx").click().run()
    assert not at.exception
    assert "ONNX export failed: no such op" in at.error[0].value


def test_diagram_follows_the_design():
    from lwviz.viz.diagram import network_dot

    at = show_view(open_page(), "diagram")
    at.slider("knob_width").set_value(0.5).run()
    assert at.get("graphviz_chart")[0].proto.spec == network_dot(get_preset("mobilenet_v2").with_(width=0.5))


def test_latency_toggle_times_every_layer_of_the_design():
    spec = get_preset("mobilenet_v3_small").with_(resolution=96)
    at = show_view(open_page(spec=spec.to_string()), "speed")
    charts = len(at.get("plotly_chart"))
    at.number_input("latency_runs").set_value(1)
    at.toggle("latency_on").set_value(True).run()
    assert not at.exception and not at.error
    report = at.session_state.latency_report
    assert report.spec == spec and report.runs == 1 and report.threads == 1
    assert [layer.name for layer in report.layers] == [layer.name for layer in analyze(spec).layers]
    assert len(at.get("plotly_chart")) == charts + 3
    assert f"{report.ms:.1f} ms per image" in " ".join(c.value for c in at.caption)
    at.slider("knob_width").set_value(0.5).run()  # a new design is measured again
    assert at.session_state.latency_report.spec == spec.with_(width=0.5)


def test_a_hostile_link_warns_within_a_second_and_shows_the_default():
    hostile = get_preset("mobilenet_v2").with_(stages=(Stage(block="ir", repeats=64, out_chs=64, expand=16),) * 100)
    start = time.perf_counter()
    at = open_page(spec=hostile.to_string())
    assert time.perf_counter() - start < 5  # AppTest's own start-up included; the library refuses it in ms
    assert at.warning[0].value == plain(
        "The link's network could not be read (this design has 6,400 blocks, but a design may have at most 300 "
        "(lower the depth or the repeats)); showing mobilenet_v2."
    )
    assert_shows(at, get_preset("mobilenet_v2"))


TOO_BIG_TO_RUN = get_preset("mobilenet_v2").with_(width=4.0, depth=4.0, resolution=1024)


def test_a_design_too_big_to_run_is_priced_but_neither_timed_nor_exported():
    at = open_page(spec=TOO_BIG_TO_RUN.to_string())
    assert_shows(at, TOO_BIG_TO_RUN)
    assert show_view(at, "table").button("export_onnx").disabled
    show_view(at, "speed").toggle("latency_on").set_value(True).run()
    assert not at.exception and "latency_report" not in at.session_state
    assert at.warning[0].value == plain(
        "Not measured: this design has 172M parameters, but a network run on this server may have at most 50M "
        "(lower the width, depth or resolution)."
    )


def test_only_the_chosen_view_is_drawn():
    def drawn():
        tables = [d for d in at.dataframe if d.editing_mode == "read_only"]  # not the stage editor
        return (
            len(at.get("plotly_chart")),
            len(at.get("graphviz_chart")),
            len(tables),
            sum(t.key == "latency_on" for t in at.toggle),
        )

    at = open_page()
    assert at.segmented_control("build_view").value == "costs" and drawn() == (3, 0, 0, 0)
    assert show_view(at, "diagram") and drawn() == (0, 1, 0, 0)
    assert show_view(at, "table") and drawn() == (0, 0, 1, 0)
    assert show_view(at, "speed") and drawn() == (0, 0, 0, 1)
