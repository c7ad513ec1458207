"""The top-k answer of a classifier as a bar chart that reads from the back of the room."""

from __future__ import annotations

import plotly.graph_objects as go

from lwviz.classify import Classification
from lwviz.i18n import Translate, english


def topk_figure(result: Classification, title: str = "", _: Translate = english) -> go.Figure:
    """Horizontal bars, most probable on top, probabilities written on the bars (``title`` comes translated)."""
    labels = [p.label for p in result.predictions][::-1]
    probs = [p.prob for p in result.predictions][::-1]
    fig = go.Figure(
        go.Bar(
            x=probs,
            y=labels,
            orientation="h",
            text=[f"{p:.1%}" for p in probs],
            textposition="auto",
            marker_color=["#1f77b4"] * (len(probs) - 1) + ["#d62728"],
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or None,
        xaxis=dict(range=[0, 1], tickformat=".0%", title=_("probability")),
        yaxis=dict(tickfont=dict(size=16)),
        height=90 + 48 * len(labels),
        margin=dict(l=10, r=10, t=50 if title else 10, b=40),
        font=dict(size=15),
    )
    return fig
