"""lwviz: run with ``streamlit run app.py``."""

import streamlit as st

from lwviz.perf import keep_freed_memory
from lwviz.ui.nav import PAGES

keep_freed_memory()  # faster forward passes for every page (see lwviz/perf.py)
st.set_page_config(page_title="lwviz: lightweight CNNs, layer by layer", page_icon=":material/memory:", layout="wide")
home = st.Page("pages/home.py", title="Home", icon=":material/school:", default=True)
st.navigation([home, *(st.Page(p.path, title=p.title, icon=p.icon) for p in PAGES)]).run()
