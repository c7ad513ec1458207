"""Live curves of a training run: the loss and the training batches' accuracy, step by step."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lwviz.i18n import N_, Translate, english

SMOOTH = 10  # steps in the moving average drawn over the noisy per-batch values


def moving_average(values: Sequence[float], window: int = SMOOTH) -> np.ndarray:
    """The mean of the last ``window`` values at each step (fewer at the start)."""
    sums = np.cumsum(np.asarray(values, dtype=float))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    shifted = np.concatenate([np.zeros(window), sums])[: len(values)]
    return (sums - shifted) / counts


def training_curves(
    runs: dict[str, tuple[Sequence[float], Sequence[float]]], height: int = 340, _: Translate = english
) -> go.Figure:
    """Loss (left) and batch accuracy (right) per step of each named run: ``{name: (losses, accuracies)}``, the
    names already translated.

    Faint lines are the raw per-batch values; strong lines their moving average over ``SMOOTH`` steps.
    """
    fig = go.Figure()
    colors = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
    for (name, (losses, accuracies)), color in zip(runs.items(), colors):
        for values, axis, what, dash in (
            (losses, "y", N_("loss"), None),
            (accuracies, "y2", N_("batch accuracy"), "dot"),
        ):
            if not len(values):
                continue
            steps = np.arange(1, len(values) + 1)
            fig.add_scatter(
                x=steps,
                y=values,
                yaxis=axis,
                line=dict(color=color, width=1, dash=dash),
                opacity=0.25,
                showlegend=False,
                hoverinfo="skip",
            )
            fig.add_scatter(
                x=steps,
                y=moving_average(values),
                yaxis=axis,
                name=_("{run}: {quantity}", run=name, quantity=_(what)),
                line=dict(color=color, width=2.5, dash=dash),
            )
    fig.update_layout(
        height=height,
        margin=dict(t=20, b=40, l=60, r=60),
        xaxis_title=_("training step"),
        yaxis=dict(title=_("loss"), rangemode="tozero"),
        yaxis2=dict(
            title=_("accuracy on the training batches"),
            overlaying="y",
            side="right",
            range=[0, 1.0],
            dtick=0.25,
            tickformat=".0%",
            showgrid=False,
        ),
        legend=dict(orientation="h", y=-0.22),
    )
    return fig
