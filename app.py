"""lwviz: run with ``streamlit run app.py``."""
import streamlit as st

st.set_page_config(page_title="lwviz: lightweight CNNs, layer by layer", page_icon="🔬", layout="wide")
st.navigation([
    st.Page("pages/layer_costs.py", title="Layer costs", icon="📊", default=True),
]).run()
