"""The app's Streamlit settings are in effect where the README runs it (the repository's root)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize(
    "option, value",
    [
        # full collections after every rerun stalled training threads on pages that refresh
        ("runner.postScriptGC", "False"),
        # no English-only "Deploy" button or developer menu in front of a class
        ("client.toolbarMode", "viewer"),
    ],
)
def test_streamlit_runs_with_the_apps_settings(option, value):
    """.streamlit/config.toml says why each is set."""
    shown = subprocess.run(
        [sys.executable, "-c", f"from streamlit import config; print(config.get_option({option!r}))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown == value
