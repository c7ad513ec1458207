"""Every page in Chinese and in presenter mode, in a real browser: no exception, and screenshots to look at."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lwviz.ui.nav import PAGES

from .conftest import screenshot

PATHS = ["", *(Path(p.path).stem for p in PAGES)]  # "" is the landing page


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("h1")
    page.wait_for_function(  # drawn: no skeletons (pages that refresh live keep a running status, so not that)
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=60_000
    )
    page.wait_for_timeout(1500)


def test_chinese_renders_with_a_cjk_font():
    if not shutil.which("fc-list"):
        pytest.skip("fontconfig is not installed")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if not fonts and not os.environ.get("CI"):
        pytest.skip("no CJK font (Debian: apt-get install -y fonts-noto-cjk): Chinese would show as boxes")
    assert fonts, "CI installs fonts-noto-cjk (.ci/run): without it Chinese shows as boxes"


@pytest.mark.parametrize("query", ["lang=zh", "lang=zh&present=1", "lang=en&present=1"])
def test_every_page_opens_in_chinese_and_in_presenter_mode(app_url, browser, query):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        for path in PATHS:
            _open(page, f"{app_url}/{path}?{query}")
            assert page.locator('[data-testid="stException"]').count() == 0, f"/{path}?{query}"
            if "zh" in query:
                assert any("\u4e00" <= c <= "\u9fff" for c in page.locator("h1").first.inner_text()), path
            if "present=1" in query:  # 24 px body text, the sidebar folded
                assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "24px"
                assert page.locator('[data-testid="stSidebar"][aria-expanded="true"]').count() == 0
            screenshot(page, f"{path or 'home'}_{query.replace('=', '-').replace('&', '_')}")
    finally:
        context.close()
