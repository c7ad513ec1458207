"""Choosing the language: the link, then the browser, then English; the sidebar switch keeps the design."""

import re
from pathlib import Path
from unittest import mock

import pytest
import streamlit_webrtc
from streamlit.testing.v1 import AppTest

from lwviz.i18n import LANGUAGES
from lwviz.ui.nav import PAGES
from lwviz.weights import class_names_for

from .apptest import ROOT, open_page
from .shown_text import english_in, shown_text


@pytest.fixture
def fake_webrtc():
    """The Webcam page's live video needs a browser: AppTest gets a stand-in that draws nothing."""
    with mock.patch.object(
        streamlit_webrtc, "webrtc_streamer", return_value=mock.MagicMock(state=mock.MagicMock(playing=False))
    ):
        yield


def nav_titles(at) -> list[str]:
    return [link.label for link in at.get("page_link")]


def test_lang_in_the_link_wins_and_stays_in_the_url():
    at = open_page("home", lang="zh")
    assert at.title[0].value == "lwviz：轻量级 CNN 如何变小、变快"
    assert "搭建网络" in nav_titles(at) and "模型库" in nav_titles(at)
    assert at.query_params["lang"] == "zh"
    english = open_page("home", lang="en")
    assert english.title[0].value == "lwviz: how lightweight CNNs get small and fast"


def test_without_a_link_the_browsers_language_then_english():
    at = open_page("home")
    assert at.session_state.lang == "en"  # AppTest's browser locale is unset


def test_the_switch_wins_over_the_url_this_session_wrote():
    """As a run right after the sidebar switch moved (AppTest runs app.py's frame on a session's first run only,
    so the earlier runs' state is set by hand): the design stays."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(spec="mnasnet1_0", lang="en")
    for key, value in dict(lang="en", lang_in_url="en", lang_switch="zh").items():
        at.session_state[key] = value
    at.switch_page("pages/home.py").run()
    assert at.session_state.lang == "zh" and at.title[0].value.startswith("lwviz：")
    assert at.query_params["lang"] == "zh" and at.session_state.spec.name == "mnasnet1_0"
    edited = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)  # an edited address wins over the switch
    edited.query_params["lang"] = "zh"
    for key, value in dict(lang="en", lang_in_url="en", lang_switch="en").items():
        edited.session_state[key] = value
    edited.switch_page("pages/home.py").run()
    assert edited.session_state.lang == "zh"


IMAGENET_CLASSES = set(class_names_for(1000))
ALL_PAGES = ["home", *(Path(p.path).stem for p in PAGES)]


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_speaks_chinese_and_nothing_bypasses_the_catalog(page, fake_webrtc):
    """On a zh page no English phrase is left (names such as MobileNet, ImageNet, ONNX aside): a text that
    does not go through the catalog, or a message the catalog lacks, would show in English."""
    at = open_page(page, lang="zh")
    texts = [t for t in shown_text(at) if t not in IMAGENET_CLASSES]  # English where shown: the page says so
    assert len(texts) >= 3 and any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)
    assert english_in(texts) == []


def test_the_english_page_shows_no_chinese():
    at = open_page("build", lang="en")
    switch = {"语言 · Language", *LANGUAGES.values()}  # the language switch names each language in itself
    assert not [t for t in shown_text(at) if re.search(r"[\u4e00-\u9fff]", t) and t not in switch]


@pytest.mark.parametrize("bad", ["xx", "", "x" * 300, "<script>", "fr-FR"])
def test_a_bad_lang_falls_back_to_english(bad):
    at = open_page("build", lang=bad)
    assert at.session_state.lang == "en" and at.title[0].value == "Build a lightweight network"
    assert at.query_params["lang"] == "en"


def test_presenter_mode_from_the_link_and_the_switch():
    at = open_page("build", present="1")
    assert at.session_state.present and at.query_params["present"] == "1"
    assert any(e.label == "More controls" for e in at.get("expander"))  # the secondary knobs, folded
    # the switch turned off (as on a run right after it moved: AppTest runs app.py's frame on a first run only)
    off = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    off.query_params["present"] = "1"
    for key, value in dict(present=True, present_in_url=True, present_switch=False).items():
        off.session_state[key] = value
    off.switch_page("pages/build.py").run()
    assert not off.session_state.present and "present" not in off.query_params
    assert not [e for e in off.get("expander") if e.label == "More controls"]


@pytest.mark.parametrize("page", ["build", "explain", "compress", "train"])
def test_presenter_mode_folds_the_secondary_controls_of_a_page(page):
    folded = [e for e in open_page(page, present="1").get("expander") if e.label == "More controls"]
    assert len(folded) == 1 and folded[0].children  # the controls are in it
    assert not [e for e in open_page(page).get("expander") if e.label == "More controls"]


@pytest.mark.parametrize("step", ["4", "9"])
def test_presenter_mode_puts_the_lessons_tables_under_each_other_not_side_by_side(step):
    """At 24 px a table of six columns fits only the whole width of a 1280 px projector."""
    side_by_side, stacked = open_page("lesson", step=step), open_page("lesson", step=step, present="1")
    assert len(side_by_side.columns) - len(stacked.columns) == 2
    assert len(stacked.dataframe) == len(side_by_side.dataframe) >= 1


def test_library_refusals_are_said_in_the_readers_language():
    """A link beyond the design limits: lwviz refuses it with a catalog message, so the warning is all Chinese."""
    from lwviz.presets import get_preset
    from lwviz.spec import Stage

    hostile = get_preset("mobilenet_v2").with_(stages=(Stage(block="ir", repeats=64, out_chs=64),) * 10)
    at = open_page("build", lang="zh", spec=hostile.to_string())
    assert at.warning[0].value == (
        "无法读取链接中的网络（这个设计有 640 个模块，但一个设计最多只能有 300（请降低深度乘子或重复次数））；"
        "改为显示 mobilenet\\_v2。"
    )
