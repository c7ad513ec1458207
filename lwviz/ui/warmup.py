"""Warm what every class needs as soon as the server starts, so that nobody's first visit waits for it.

A fresh server's first visit to a page took 3.5 to 6.5 s: importing torch, torchvision, plotly and
captum, loading the offline Lite0 weights, pricing the Zoo (which traces VGG-16) and drawing the
first Plotly figure. ``streamlit run app.py`` serves app.py's ``st.App`` and enters its lifespan
before the first visitor; :func:`warming_up` starts this work there, on a thread of its own, so the
server answers at once while it runs.
"""

from __future__ import annotations

import ast
import importlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from lwviz.ui.nav import PAGES

log = logging.getLogger(__name__)
STARTED, IMPORTED = threading.Event(), threading.Event()  # the warm-up began; its imports are done (or failed)


def wait_for_imports(timeout: float = 120.0) -> None:
    """Let a page run only once the warm-up's imports are done (app.py calls it first on every run).

    Two threads importing the same packages at once (a page's first run, the warm-up) can meet in a
    cycle, and Python then hands one of them a partly initialized module: "partially initialized
    module 'pandas' has no attribute 'Series'" on the first visit. The page would import the same
    modules anyway; waiting costs it nothing. Without a warm-up (tests, AppTest) it returns at once.
    """
    if STARTED.is_set():
        IMPORTED.wait(timeout)


def page_imports(root: Path) -> list[str]:
    """The modules the app's pages import at their top, read from their source (a page runs per visit, its
    imports once).

    Only the top: what a page imports inside a function it imports late on purpose. A module that declares a
    custom component (streamlit-webrtc) registers it with the server only when first imported during a
    script run; imported here first, its component would never be served.
    """
    names: dict[str, None] = {}
    for page in ["pages/home.py", *(p.path for p in PAGES)]:
        for node in ast.parse((root / page).read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module:
                names[node.module] = None
            elif isinstance(node, ast.Import):
                names.update(dict.fromkeys(alias.name for alias in node.names))
    return list(names)


def warm_up(root: Path) -> float:
    """Import what the pages import, fill the caches every class uses, then freeze what lives on; returns seconds."""
    start = time.perf_counter()
    from lwviz.perf import one_thread_by_default

    one_thread_by_default()
    try:
        for name in page_imports(root):
            importlib.import_module(name)
    finally:
        IMPORTED.set()
    from lwviz.i18n import DEFAULT_LANGUAGE
    from lwviz.perf import freeze_long_lived
    from lwviz.presets import get_preset
    from lwviz.ui.cache import cost_figures, home_figure, pretrained_model, zoo_macs_figure
    from lwviz.ui.state import DEFAULT_PRESET
    from lwviz.weights import LITE0

    pretrained_model(LITE0.name)  # the default network of Classify, Webcam and Look inside
    first_views = [
        home_figure(DEFAULT_LANGUAGE),
        *cost_figures(get_preset(DEFAULT_PRESET), "macs", False, DEFAULT_LANGUAGE),
        zoo_macs_figure(DEFAULT_LANGUAGE),
    ]
    for figure in first_views:
        figure.to_json()  # plotly's first figure is slow
    freeze_long_lived()  # the collector's full passes would walk all of the above, GIL held, every time
    return time.perf_counter() - start


def _warm_up_logged(root: Path) -> None:
    try:
        log.info("lwviz warmed up in %.1f s", warm_up(root))
    except Exception:  # a failed warm-up only means a slower first visit: each page loads what it needs itself
        log.exception("lwviz warm-up failed")


@asynccontextmanager
async def warming_up(root: Path) -> AsyncIterator[None]:
    """An ``st.App`` lifespan (with ``root`` bound) that starts :func:`warm_up` on a thread as the server starts."""
    STARTED.set()
    threading.Thread(target=_warm_up_logged, args=(root,), name="lwviz-warm-up", daemon=True).start()
    yield
