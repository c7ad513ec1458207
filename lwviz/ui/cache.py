"""``st.cache_*`` wrappers. Cached objects are shared by every session: never mutate them."""

from __future__ import annotations

import threading

import plotly.graph_objects as go
import streamlit as st

from lwviz.builder import Net
from lwviz.cost import CostTable, analyze
from lwviz.explain import Explainer
from lwviz.i18n import Phrase, translator
from lwviz.networks import load_pretrained, untrained_model
from lwviz.presets import get_preset
from lwviz.spec import Spec
from lwviz.viz.cost_charts import against_standard_figure, per_layer_figure, savings_figure, share_figure
from lwviz.viz.zoo_charts import macs_figure
from lwviz.weights import WeightsUnavailable
from lwviz.zoo import zoo_entries

# A spec's compact string is lossless (it round-trips) and 10x quicker than Streamlit hashing the dataclass tree,
# which was a fifth of a Build rerun: every rerun looks a design up several times.
BY_SPEC_STRING = {Spec: Spec.to_string}


@st.cache_resource(max_entries=256, show_spinner=False, hash_funcs=BY_SPEC_STRING)
def cost_table(spec: Spec) -> CostTable:
    """A resource, not data: a cost table is immutable (frozen, tuples), so it is shared, not unpickled per call."""
    return analyze(spec)


@st.cache_resource(max_entries=256, show_spinner=False, hash_funcs=BY_SPEC_STRING)
def cost_figures(spec: Spec, metric: str, log: bool, lang: str) -> tuple[go.Figure, go.Figure, go.Figure]:
    """The Build page's three cost charts of a design, built once per server: a class explores the same designs,
    and building the figures is most of a slider step's server time."""
    table = cost_table(spec)
    _ = translator(lang)
    return per_layer_figure(table, metric, log, _), share_figure(table, _), savings_figure(table, _)


@st.cache_resource(show_spinner=False)
def home_figure(lang: str) -> go.Figure:
    """MobileNetV1 beside its standard-conv version on the landing page. Being a Plotly chart, it also loads
    the browser's Plotly code while the class reads the page: 1.5 s the first chart of a tab would take."""
    return against_standard_figure(cost_table(get_preset("mobilenet_v1")), translator(lang))


@st.cache_resource(show_spinner=False)
def zoo_macs_figure(lang: str) -> go.Figure:
    """The Zoo's accuracy-against-MACs chart: the same for everyone, so built once per server and language."""
    return macs_figure(zoo_entries(), translator(lang))


@st.cache_resource(max_entries=4, show_spinner=False)
def pretrained_model(source_name: str) -> Net:
    """A weight source's eval-mode model (``lwviz.networks.load_pretrained``), loaded once per server."""
    return load_pretrained(source_name)


def load_problem(name: str) -> Phrase | None:
    """Why weight source ``name`` does not load (``WeightsUnavailable``'s phrase), or None: it is then cached."""
    try:
        pretrained_model(name)
    except WeightsUnavailable as exc:
        return exc.phrase
    return None


@st.cache_resource(max_entries=4, show_spinner=False, hash_funcs=BY_SPEC_STRING)
def design_model(design: Spec) -> Net:
    """The design with the same random weights for everyone (``lwviz.networks.untrained_model``)."""
    return untrained_model(design)


@st.cache_resource
def timing_lock() -> threading.Lock:
    """One timing at a time across sessions: torch's thread count is process-wide and timings share the CPU."""
    return threading.Lock()


@st.cache_resource(max_entries=4, show_spinner=False)
def source_explainer(name: str) -> Explainer:
    """A private copy of the shared pretrained model: hooks never touch what other sessions run."""
    return Explainer(pretrained_model(name))


@st.cache_resource(max_entries=8, show_spinner=False, hash_funcs=BY_SPEC_STRING)
def design_explainer(design: Spec) -> Explainer:
    """The shared design model wrapped for Grad-CAM and gates (the explainer works on its own copy)."""
    return Explainer(design_model(design))
