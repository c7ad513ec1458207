"""The server warms what every class needs as it starts (lwviz.ui.warmup, entered through app.py's st.App)."""

import subprocess
import sys
from pathlib import Path

from streamlit.web.server.app_discovery import discover_asgi_app

from lwviz.ui.warmup import page_imports

ROOT = Path(__file__).parents[1]


def test_streamlit_run_serves_app_py_as_an_app_with_a_start_up():
    found = discover_asgi_app(ROOT / "app.py")
    assert found.is_asgi_app and found.app_name == "app"


def test_the_warm_up_imports_what_the_pages_import():
    names = page_imports(ROOT)
    assert {"lwviz.limits", "lwviz.viz.diagram", "lwviz.ui.network_picker", "lwviz.zoo"} <= set(names)
    assert len(names) == len(set(names))
    assert "streamlit_webrtc" not in names  # its component registers only when imported during a script run


def test_warming_up_loads_the_libraries_lite0_and_the_zoo_freezes_them_and_sets_one_thread():
    script = (
        "import gc, sys; from pathlib import Path; from lwviz.ui.warmup import warm_up; "
        f"warm_up(Path({str(ROOT)!r})); "
        "from lwviz.zoo import zoo_entries; from lwviz.ui.cache import pretrained_model; "
        "from lwviz.weights import LITE0; "
        "print(all(m in sys.modules for m in ('torch', 'torchvision', 'plotly.graph_objects', 'captum')), "
        "zoo_entries.cache_info().currsize, gc.get_freeze_count() > 100_000, "
        "pretrained_model(LITE0.name) is pretrained_model(LITE0.name), sys.modules['torch'].get_num_threads())"
    )
    shown = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert shown.stdout.split() == ["True", "1", "True", "True", "1"], shown.stderr[-2000:]


def test_a_first_visit_waits_for_the_warm_ups_imports_only_when_there_is_a_warm_up(monkeypatch):
    import threading
    import time

    from lwviz.ui import warmup

    monkeypatch.setattr(warmup, "STARTED", threading.Event())
    monkeypatch.setattr(warmup, "IMPORTED", threading.Event())
    start = time.perf_counter()
    warmup.wait_for_imports(timeout=5)  # no warm-up (AppTest, tests): no wait
    assert time.perf_counter() - start < 0.1
    warmup.STARTED.set()
    threading.Timer(0.3, warmup.IMPORTED.set).start()
    start = time.perf_counter()
    warmup.wait_for_imports(timeout=5)
    assert 0.25 < time.perf_counter() - start < 3
