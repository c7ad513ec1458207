"""``st.cache_*`` wrappers. Cached objects are shared by every session: never mutate them."""
from __future__ import annotations

import streamlit as st

from lwviz.cost import CostTable, analyze
from lwviz.spec import Spec


@st.cache_data(max_entries=256, show_spinner=False)
def cost_table(spec: Spec) -> CostTable:
    return analyze(spec)
