"""Streamlit glue: the only place in lwviz that imports streamlit."""
