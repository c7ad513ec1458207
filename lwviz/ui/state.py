"""The current design, shared by every page through session state and mirrored in the URL.

The URL holds ``?spec=<compact spec string>`` (or a bare preset name), so a link opens
the same network on a student's machine. A bad or hand-edited URL gives a warning and
falls back to the default preset; it never raises. A valid design from a link is kept as it
is: the Build page's knob widgets widen to show any value the spec allows.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import streamlit as st

from lwviz.presets import PRESETS, get_preset, spec_from_text
from lwviz.spec import Spec
from lwviz.ui.language import _, error_text, plain
from lwviz.ui.nav import require_frame

DEFAULT_PRESET = "mobilenet_v2"
# What the Build page's knob widgets offer a class (lo, hi, step for a slider; options for a selectbox).
# A design from a link may hold any value its spec allows: the widget widens to show it, see below.
SLIDERS = {"width": (0.25, 2.0, 0.05), "resolution": (32, 320, 8), "depth": (0.5, 2.0, 0.1)}
CHOICES = {"kernel": (3, 5, 7), "expand": (1.0, 2.0, 3.0, 4.0, 6.0, 8.0), "se": (0.0, 0.125, 0.25, 0.5)}
_LIMITS = {f.name: f.metadata for f in fields(Spec)}


def spec_from_url(value: str | None) -> tuple[Spec, ValueError | None]:
    """(spec, problem) from the ``spec`` query parameter; the default preset on any problem."""
    if not value:
        return get_preset(DEFAULT_PRESET), None
    try:
        return spec_from_text(value), None
    except ValueError as exc:
        return get_preset(DEFAULT_PRESET), exc


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
        problem = error_text(st.session_state.url_warning)
        st.warning(
            _(
                "The link's network could not be read ({problem}); showing {name}.",
                problem=problem,
                name=plain(DEFAULT_PRESET),
            )
        )
    return st.session_state.spec


def set_spec(spec: Spec) -> None:
    """Make ``spec`` the session's design and put it in the URL (a preset stays a readable name)."""
    st.session_state.spec = spec
    st.session_state.url_warning = None
    unchanged_preset = spec.name in PRESETS and spec == get_preset(spec.name)
    st.query_params["spec"] = spec.name if unchanged_preset else spec.to_string()


def slider_range(knob: str, value: float) -> dict[str, Any]:
    """``min_value``/``max_value``/``step`` of a knob's slider that can show ``value`` exactly.

    The usual range, opened to the spec's own limit on a side where ``value`` lies beyond it (a
    shared link with width 3.0): the design stays as linked, and the slider keeps its usual grid.
    """
    lo, hi, step = SLIDERS[knob]
    limits = _LIMITS[knob]
    return dict(min_value=limits["lo"] if value < lo else lo, max_value=limits["hi"] if value > hi else hi, step=step)


def choice_options(knob: str, value: Any) -> list:
    """A knob's usual options, plus ``value`` in order when a link sets another valid one (None: no override)."""
    usual = CHOICES[knob]
    return list(usual) if value is None or value in usual else sorted({*usual, value})
