"""The current design, shared by every page through session state and mirrored in the URL.

The URL holds ``?spec=<compact spec string>`` (or a bare preset name), so a link opens
the same network on a student's machine. A bad or hand-edited URL gives a warning and
falls back to the default preset; it never raises.
"""
from __future__ import annotations

from dataclasses import fields

import streamlit as st

from lwviz.presets import PRESETS, get_preset, spec_from_text
from lwviz.spec import KNOBS, Spec
from lwviz.ui.nav import require_frame

DEFAULT_PRESET = "mobilenet_v2"


def spec_from_url(value: str | None) -> tuple[Spec, str | None]:
    """(spec, warning) from the ``spec`` query parameter; the default preset on any problem."""
    if not value:
        return get_preset(DEFAULT_PRESET), None
    try:
        return spec_from_text(value), None
    except ValueError as exc:
        return get_preset(DEFAULT_PRESET), f"The link's network could not be read ({exc}); showing {DEFAULT_PRESET}."


def current_spec() -> Spec:
    """The design in this session, read once from the URL on the first run.

    Every page calls this first; a bad link's warning shows on each page until the design changes.
    """
    require_frame()
    if "spec" not in st.session_state:
        spec, warning = spec_from_url(st.query_params.get("spec"))
        set_spec(spec)  # a bad link is replaced by what is shown
        st.session_state.url_warning = warning
    if st.session_state.url_warning:
        st.warning(plain(st.session_state.url_warning))
    return st.session_state.spec


def set_spec(spec: Spec) -> None:
    """Make ``spec`` the session's design and put it in the URL (a preset stays a readable name)."""
    st.session_state.spec = spec
    st.session_state.url_warning = None
    unchanged_preset = spec.name in PRESETS and spec == get_preset(spec.name)
    st.query_params["spec"] = spec.name if unchanged_preset else spec.to_string()


def base_of(spec: Spec) -> Spec:
    """The spec with every global knob at its default: the network the sliders start from."""
    return spec.with_(**{f.name: f.default for f in fields(Spec) if f.name in KNOBS})


def plain(text: str) -> str:
    """Escape Markdown in a library message (field names like ``stages[2]`` and ``net_...``)."""
    for char in "\\`*_[]<>#":
        text = text.replace(char, "\\" + char)
    return text
