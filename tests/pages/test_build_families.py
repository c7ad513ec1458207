"""The Build page with the families after 2019: their presets, the block selector, their knobs in the stage table,
and MobileOne's two forms side by side (lwviz.ui.reparam)."""

from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from lwviz.cost import analyze
from lwviz.families import FAMILIES
from lwviz.presets import get_preset
from lwviz.reparam import inference_spec
from tests.pages.apptest import open_page
from tests.pages.test_build import assert_shows, edit_stages

NEW_PRESETS = ["mobilenetv4_conv_small", "mobilenetv4_conv_medium", "ghostnet_100", "mobileone_s0"]


@pytest.mark.parametrize("name", NEW_PRESETS)
def test_each_new_preset_is_offered_and_priced(name):
    at = open_page()
    at.selectbox("knob_preset").set_value(name).run()
    assert not at.exception and not at.error
    assert at.session_state.spec == get_preset(name)
    assert_shows(at, get_preset(name))


@pytest.mark.parametrize("block", ["ghost", "mobileone", "uib"])
def test_block_selector_offers_each_new_family(block):
    at = open_page()
    assert FAMILIES[block].label in at.selectbox("knob_block").options  # shown in words
    at.selectbox("knob_block").set_value(block).run()
    assert not at.exception and not at.error
    assert_shows(at, get_preset("mobilenet_v2").with_(block=block))


def test_the_new_knobs_in_the_stage_table_change_the_design():
    """mobilenet_v2's stages 2-4 become an ExtraDW UIB without its middle conv, a ghost bottleneck of ratio 3 and a
    MobileOne block of 2 branches: each knob is a column, and the totals follow."""
    at = edit_stages(
        open_page(),
        edited={
            2: {"block": "uib", "dw_start": 5, "mid_dw": False},
            3: {"block": "ghost", "ratio": 3, "expand": 3.0},
            4: {"block": "mobileone", "branches": 2},
        },
    )
    assert not at.exception and not at.error
    editor = at.data_editor[0].value
    assert {"dw_start", "mid_dw", "ratio", "branches"} <= set(editor.columns)
    base = get_preset("mobilenet_v2")
    stages = list(base.stages)
    stages[2] = replace(stages[2], block="uib", dw_start=5, mid_dw=False)
    stages[3] = replace(stages[3], block="ghost", ratio=3, expand=3.0)
    stages[4] = replace(stages[4], block="mobileone", branches=2)
    expected = base.with_(stages=tuple(stages))
    assert at.session_state.spec == expected
    assert_shows(at, expected)


def test_a_bad_new_knob_names_its_cell_and_keeps_the_design():
    at = edit_stages(open_page(), edited={2: {"block": "uib", "dw_start": 4}})
    assert not at.exception
    assert "stages\\[2\\].dw\\_start" in at.error[0].value
    assert_shows(at, get_preset("mobilenet_v2"))


def _reparam_page(name: str) -> None:
    from lwviz.presets import get_preset
    from lwviz.ui.reparam import reparam_view

    reparam_view(get_preset(name))


def test_mobileone_shows_both_forms_side_by_side_and_measures_them():
    at = AppTest.from_function(_reparam_page, args=("mobileone_s0",), default_timeout=120).run()
    assert not at.exception
    trained, folded = analyze(get_preset("mobileone_s0")), analyze(inference_spec(get_preset("mobileone_s0")))
    shown = [(m.label, m.value, m.delta) for m in at.metric]
    assert shown == [
        ("Parameters", f"{trained.params / 1e6:.2f} M", ""),
        ("MACs", f"{trained.macs / 1e6:.1f} M", ""),
        ("Parameters", f"{folded.params / 1e6:.2f} M", "-61%"),
        ("MACs", f"{folded.macs / 1e6:.1f} M", "-74%"),
    ]
    at.number_input("reparam_runs").set_value(2)
    at.toggle("reparam_measure").set_value(True).run()
    assert not at.exception
    latency = [m for m in at.metric if m.label == "Latency, 1 thread"]
    assert len(latency) == 2 and all(m.value.endswith(" ms") and float(m.value[:-3]) > 0 for m in latency)
    (caption,) = [c.value for c in at.caption if "forward passes" in c.value]
    assert "Median of 2 forward passes" in caption and "would look 3.8× heavier" in caption


def test_other_designs_show_no_second_form():
    at = AppTest.from_function(_reparam_page, args=("mobilenet_v2",), default_timeout=60).run()
    assert not at.exception and not at.metric and not at.markdown
