"""Choosing the language: the link, then the browser, then English; the sidebar switch keeps the design."""

from streamlit.testing.v1 import AppTest

from .apptest import ROOT, open_page


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
