"""Presenter mode: the app as a 1280x720 projector shows it to the last row of a classroom.

``?present=1`` in the URL (a link the teacher keeps) or the sidebar switch turns it on: text at 24 px and
up, large headline numbers, the sidebar folded away, charts restyled (lwviz.viz.presenter), and pages
show the controls of their topic with the rest behind one expander (:func:`more_controls`).
"""

from __future__ import annotations

import streamlit as st

from lwviz.ui.language import _
from lwviz.viz.presenter import presenter_style

# Streamlit sizes its text in rem: a 24 px root makes body text 24 px and scales headings with it.
CSS = """
<style>
html { font-size: 24px; }
[data-testid="stMetricValue"] { font-size: 2.6rem; line-height: 1.1; }
[data-testid="stMetricLabel"] p { font-size: 1rem; }
/* a label cut to "...(MA…" at 24 px is unreadable: wrap it instead */
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stMainBlockContainer"] { padding: 4.5rem 1.5rem 3rem; max-width: 100%; }
h1 { font-size: 2rem !important; padding-top: 0 !important; }
</style>
"""


def choose_presenting() -> bool:
    """Settle this run's presenter mode (app.py calls it before any page) and mirror it in the URL.

    As with the language: a ``?present=`` other than the one this session put there last wins, then the switch.
    """
    state, in_url = st.session_state, st.query_params.get("present") == "1"
    if in_url != state.get("present_in_url", False):
        state.present = in_url
    elif "present_switch" in state:
        state.present = state.present_switch
    state.present = state.present_switch = bool(state.get("present", False))
    if state.present:
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]
    state.present_in_url = state.present
    return state.present


def presenting() -> bool:
    return bool(st.session_state.get("present", False))


def presenter_switch() -> None:
    """The sidebar's presenter-mode switch (read by :func:`choose_presenting` on the next run)."""
    st.sidebar.toggle(
        _("Presenter mode"),
        key="present_switch",
        help=_("Large text and charts for a projector; the same as ?present=1 in the address."),
    )


def presenter_css() -> None:
    if presenting():
        st.html(CSS)


def chart(fig, **kwargs) -> None:
    """``st.plotly_chart``, restyled for the back row in presenter mode (on a copy: ``fig`` may be cached), and
    without the toolbar there, which would cover a title set at 26 px."""
    if presenting():
        fig, kwargs["config"] = presenter_style(fig), {**kwargs.get("config", {}), "displayModeBar": False}
    st.plotly_chart(fig, **kwargs)


def columns(spec):
    """``st.columns(spec)``, or the same number of full-width blocks one under the other in presenter mode: a
    table or chart at 24 px does not fit in part of a 1280 px screen."""
    count = spec if isinstance(spec, int) else len(spec)
    return [st.container() for _block in range(count)] if presenting() else st.columns(spec)


def more_controls():
    """Where a page puts its secondary controls: one expander in presenter mode, in line otherwise."""
    return st.expander(_("More controls"), icon=":material/tune:") if presenting() else st.container()
