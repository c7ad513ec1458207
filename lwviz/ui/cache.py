"""``st.cache_*`` wrappers. Cached objects are shared by every session: never mutate them."""
from __future__ import annotations

import threading

import streamlit as st

from lwviz.builder import Net
from lwviz.cost import CostTable, analyze
from lwviz.spec import Spec
from lwviz.weights import get_source


@st.cache_data(max_entries=256, show_spinner=False)
def cost_table(spec: Spec) -> CostTable:
    return analyze(spec)


@st.cache_resource(max_entries=4, show_spinner=False)
def pretrained_model(source_name: str) -> Net:
    """A weight source's eval-mode model (``lwviz.weights.get_source``), loaded once per server."""
    return get_source(source_name).load()


@st.cache_resource
def timing_lock() -> threading.Lock:
    """One timing at a time across sessions: torch's thread count is process-wide and timings share the CPU."""
    return threading.Lock()


@st.cache_resource(max_entries=4, show_spinner=False)
def pretrained_model(source_name: str):
    """A source's network with its weights, in eval mode, shared by every session: only run it, never change it."""
    from lwviz.weights.sources import get_source

    return get_source(source_name).load()
