"""``st.cache_*`` wrappers. Cached objects are shared by every session: never mutate them."""
from __future__ import annotations

import threading

import streamlit as st
import torch

from lwviz.builder import Net, build
from lwviz.cost import CostTable, analyze
from lwviz.explain import Explainer
from lwviz.spec import Spec
from lwviz.ui.state import plain
from lwviz.weights import LITE0, WeightsUnavailable, available_sources, get_source


@st.cache_data(max_entries=256, show_spinner=False)
def cost_table(spec: Spec) -> CostTable:
    return analyze(spec)


@st.cache_resource(max_entries=4, show_spinner=False)
def pretrained_model(source_name: str) -> Net:
    """A weight source's eval-mode model (``lwviz.weights.get_source``), loaded once per server."""
    return get_source(source_name).load()


def load_problem(name: str) -> str | None:
    """Why weight source ``name`` does not load (``WeightsUnavailable``'s message), or None: it is then cached."""
    try:
        pretrained_model(name)
    except WeightsUnavailable as exc:
        return str(exc)
    return None


def usable_source(name: str) -> str | None:
    """``name`` if its weights load, else the first offline source that does (Lite0 first), or None if none does.

    A file can be in the hub cache and still be damaged; pages choose a source by name, so they ask
    here first and carry on with what works, showing the library's message (what is wrong and how to
    fix it) instead of a traceback. Failures are not cached: a file mended on disk loads on the next rerun.
    """
    if (problem := load_problem(name)) is None:
        return name
    fallback = next((s for s in sorted(available_sources(), key=lambda s: s.name != LITE0.name)
                     if s.name != name and load_problem(s.name) is None), None)
    st.error(plain(problem if fallback is None else f"{problem} Using {fallback.label} meanwhile."),
             icon=":material/broken_image:")
    return None if fallback is None else fallback.name


@st.cache_resource(max_entries=4, show_spinner=False)
def design_model(design: Spec) -> Net:
    """The design with the same random weights for everyone (seed 0), in eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build(design).eval()


@st.cache_resource
def timing_lock() -> threading.Lock:
    """One timing at a time across sessions: torch's thread count is process-wide and timings share the CPU."""
    return threading.Lock()


@st.cache_resource(max_entries=4, show_spinner=False)
def source_explainer(name: str) -> Explainer:
    """A private copy of the shared pretrained model: hooks never touch what other sessions run."""
    return Explainer(pretrained_model(name))


@st.cache_resource(max_entries=8, show_spinner=False)
def design_explainer(design: Spec) -> Explainer:
    """The shared design model wrapped for Grad-CAM and gates (the explainer works on its own copy)."""
    return Explainer(design_model(design))
