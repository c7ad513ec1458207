"""The current design, shared by every page through session state and mirrored in the URL.

The URL holds ``?spec=<compact spec string>`` (or a bare preset name), so a link opens
the same network on a student's machine. A bad or hand-edited URL gives a warning and
falls back to the default preset; it never raises.
"""
from __future__ import annotations

import streamlit as st

from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Spec

DEFAULT_PRESET = "mobilenet_v2"


def spec_from_url(value: str | None) -> tuple[Spec, str | None]:
    """(spec, warning) from the ``spec`` query parameter; the default preset on any problem."""
    if not value:
        return get_preset(DEFAULT_PRESET), None
    try:
        spec = get_preset(value) if value in PRESETS else Spec.from_string(value).validate()
        return spec, None
    except ValueError as exc:
        return get_preset(DEFAULT_PRESET), f"The link's network could not be read ({exc}); showing {DEFAULT_PRESET}."


def current_spec() -> Spec:
    """The design in this session, read once from the URL on the first run."""
    if "spec" not in st.session_state:
        spec, warning = spec_from_url(st.query_params.get("spec"))
        set_spec(spec)  # a bad link is replaced by what is shown
        st.session_state.url_warning = warning
    return st.session_state.spec


def set_spec(spec: Spec) -> None:
    """Make ``spec`` the session's design and put it in the URL (a preset stays a readable name)."""
    st.session_state.spec = spec
    unchanged_preset = spec.name in PRESETS and spec == get_preset(spec.name)
    st.query_params["spec"] = spec.name if unchanged_preset else spec.to_string()


def base_of(spec: Spec) -> Spec:
    """The spec without the global knobs: the network the sliders start from."""
    return spec.with_(width=1.0, depth=1.0, resolution=224, block=None, kernel=None, expand=None, se=None, act=None)


def plain(text: str) -> str:
    """Escape Markdown in a library message (field names like ``stages[2]`` and ``net_...``)."""
    for char in "\\`*_[]<>#":
        text = text.replace(char, "\\" + char)
    return text
