"""The app's Streamlit settings are in effect where the README runs it (the repository's root)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_streamlit_does_not_collect_garbage_after_every_rerun():
    """Its full collections stalled training threads on pages that refresh (.streamlit/config.toml says why)."""
    shown = subprocess.run(
        [sys.executable, "-c", "from streamlit import config; print(config.get_option('runner.postScriptGC'))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown == "False"
