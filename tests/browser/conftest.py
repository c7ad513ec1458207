"""A real app server and Debian's Chromium driven by Playwright.

CI (``CI`` set, as ``.ci/run`` does) must have Chromium: a missing browser fails there.
Elsewhere the browser tests skip with a message saying what to install.

Two browsers share one Playwright: ``browser`` with Chromium's built-in fake camera (a test
pattern), and ``camera_browser`` whose camera plays a known photo from a Y4M clip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import skimage.data

from lwviz.realtime import cover, write_y4m

ROOT = Path(__file__).parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots, for a person to look at
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _missing(what: str) -> None:
    message = f"browser tests need {what} (Debian: apt-get install -y chromium; pip install playwright)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class AppServer:
    url: str
    pid: int  # of the server process, to watch its threads and memory


@contextmanager
def serve_app(jobs: int | None = None) -> Iterator[AppServer]:
    """``streamlit run app.py`` on a free port until the block ends (the benchmarks use it too).

    ``jobs``: heavy jobs at once (``LWVIZ_JOBS``), for a queue that behaves the same on any machine.
    """
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env={**os.environ, **({"LWVIZ_JOBS": str(jobs)} if jobs else {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the app server did not start: {server.stderr.read().decode()[-2000:]}"
                    ) from None
                time.sleep(0.3)
        yield AppServer(url, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="session")
def app_server():
    with serve_app(jobs=1) as server:
        yield server


@pytest.fixture(scope="session")
def app_url(app_server):
    return app_server.url


@dataclass(frozen=True)
class Chromium:
    """Debian's Chromium under one Playwright (a second ``sync_playwright`` cannot run beside it)."""

    playwright: object
    executable: str

    def launch(self, *extra_flags: str):
        return self.playwright.chromium.launch(executable_path=self.executable, args=[*CHROMIUM_FLAGS, *extra_flags])


def chromium_executable() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="package")  # Playwright's event loop must be gone before AppTests run
def chromium():
    executable = chromium_executable()
    if not executable:
        _missing("Chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package")
    with sync_playwright() as p:
        yield Chromium(p, executable)


def _new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


@pytest.fixture(scope="package")  # Playwright's event loop must be gone before AppTests run
def browser(chromium):
    browser = chromium.launch()
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    context, page = _new_page(browser)
    yield page
    context.close()


CAMERA_SIZE = (640, 480)


@pytest.fixture(scope="session")
def camera_clip(tmp_path_factory) -> Path:
    """skimage's coffee photo as a still 640x480 camera (Chromium loops the one frame)."""
    return write_y4m(
        tmp_path_factory.mktemp("camera") / "coffee.y4m", [cover(skimage.data.coffee(), *CAMERA_SIZE)], fps=30
    )


@pytest.fixture(scope="package")  # Playwright's event loop must be gone before AppTests run
def camera_browser(chromium, camera_clip):
    browser = chromium.launch(f"--use-file-for-fake-video-capture={camera_clip}")
    yield browser
    browser.close()


@pytest.fixture
def camera_page(camera_browser):
    context, page = _new_page(camera_browser)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
