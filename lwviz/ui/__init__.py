"""Streamlit glue (session state, URL, caches): the only place in lwviz that imports streamlit."""
