"""lwviz: run with ``streamlit run app.py``."""
import streamlit as st

st.set_page_config(page_title="lwviz: lightweight CNNs, layer by layer", page_icon=":material/memory:", layout="wide")
st.navigation([
    st.Page("pages/build.py", title="Build", icon=":material/construction:", default=True),
]).run()
