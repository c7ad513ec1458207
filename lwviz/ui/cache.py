"""``st.cache_*`` wrappers. Cached objects are shared by every session: never mutate them."""
from __future__ import annotations

import threading

import streamlit as st
import torch

from lwviz.builder import Net, build
from lwviz.cost import CostTable, analyze
from lwviz.explain import Explainer
from lwviz.spec import Spec
from lwviz.weights import get_source


@st.cache_data(max_entries=256, show_spinner=False)
def cost_table(spec: Spec) -> CostTable:
    return analyze(spec)


@st.cache_resource(max_entries=4, show_spinner=False)
def pretrained_model(source_name: str) -> Net:
    """A weight source's eval-mode model (``lwviz.weights.get_source``), loaded once per server."""
    return get_source(source_name).load()


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
