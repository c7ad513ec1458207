"""Plotly figure builders. They return figures and never call Streamlit."""
