"""One network's compressed variants side by side: file size, latency and accuracy, each against the float original."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lwviz.compress.variants import Row

COLORS = {
    "float": "#6b6b6b",
    "int8": "#1f77b4",
    "weights zeroed": "#ff7f0e",
    "channels kept": "#2ca02c",
    "distilled": "#9467bd",
}


def color_of(variant: str) -> str:
    return next((c for key, c in COLORS.items() if key in variant), "#8c564b")


def variants_figure(rows: Sequence[Row], score_label: str) -> go.Figure:
    """Three panels sharing the variants' axis: file size (zipped as a second bar), latency, and the score."""
    shown = [r for r in rows if r.size_bytes is not None]
    names = [r.variant for r in shown][::-1]  # the float original on top
    fig = make_subplots(
        rows=1,
        cols=3,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=("File size (MB)", "Latency (ms, batch 1, 1 thread)", score_label),
    )
    ordered = shown[::-1]
    colors = [color_of(r.variant) for r in ordered]
    # sizes span 0.05 MB (a digits network) to 20 MB (Lite0): three significant digits, written beside the bar
    fig.add_bar(
        y=names,
        x=[r.size_bytes / 1e6 for r in ordered],
        orientation="h",
        marker_color=colors,
        name="saved file",
        text=[f"{r.size_bytes / 1e6:.3g}" for r in ordered],
        textposition="outside",
        textangle=0,
        cliponaxis=False,
        row=1,
        col=1,
    )
    fig.add_bar(
        y=names,
        x=[r.zipped_bytes / 1e6 for r in ordered],
        orientation="h",
        marker_color=colors,
        opacity=0.45,
        name="zipped file",
        text=[f"zipped {r.zipped_bytes / 1e6:.3g}" for r in ordered],
        textposition="outside",
        textangle=0,
        cliponaxis=False,
        row=1,
        col=1,
    )
    fig.add_bar(
        y=names,
        x=[r.latency_ms for r in ordered],
        orientation="h",
        marker_color=colors,
        text=[f"{r.latency_ms:.1f}" for r in ordered],
        textposition="auto",
        row=1,
        col=2,
    )
    fig.add_bar(
        y=names,
        x=[100 * r.score for r in ordered],
        orientation="h",
        marker_color=colors,
        text=[f"{r.score:.0%}" for r in ordered],
        textposition="auto",
        row=1,
        col=3,
    )
    fig.update_xaxes(range=[0, 1.45 * max(r.size_bytes for r in ordered) / 1e6], row=1, col=1)  # room for the text
    fig.update_xaxes(range=[0, 100], row=1, col=3)
    fig.update_layout(
        height=120 + 42 * len(shown),
        showlegend=False,
        barmode="group",
        bargap=0.25,
        margin=dict(t=40, b=20, l=10, r=10),
    )
    return fig
