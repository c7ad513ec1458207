"""Figures of squeeze-and-excitation gates: all blocks at once, one block's channels, the maps they gate."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lwviz.explain.se_gates import GateCapture
from lwviz.i18n import Translate, english
from lwviz.viz.cost_charts import short_name

GATE_SCALE = "Viridis"
DIFF_SCALE = "RdBu"


def gate_matrix(gates: tuple[np.ndarray, ...] | list[np.ndarray], sort: bool = False) -> np.ndarray:
    """``[blocks, max channels]``; blocks have different channel counts, so the short rows end in NaN (blank)."""
    width = max(len(g) for g in gates)
    matrix = np.full((len(gates), width), np.nan, dtype=np.float32)
    for row, gate in zip(matrix, gates):
        row[: len(gate)] = np.sort(gate)[::-1] if sort else gate
    return matrix


def _heatmap(z: np.ndarray, blocks: tuple[str, ...], hover: str, _: Translate, **colors) -> go.Figure:
    """``hover``: the Plotly hover template of a cell, translated, after its block and channel."""
    fig = go.Figure(
        go.Heatmap(
            z=z,
            y=[short_name(b) for b in blocks],
            hoverongaps=False,
            hovertemplate=_("%{y}, channel %{x}") + f": {hover}<extra></extra>",
            **colors,
        )
    )
    fig.update_layout(
        height=120 + 22 * len(blocks),
        margin=dict(l=10, r=10, t=10, b=40),
        font=dict(size=14),
        xaxis_title=_("channel"),
        yaxis=dict(autorange="reversed", title=_("block (input → output)")),
    )
    return fig


def gate_heatmap(capture: GateCapture, sort: bool = False, _: Translate = english) -> go.Figure:
    """Every SE block (rows, input to output) by its channels (columns), colored by gate; ``sort``: largest first."""
    fig = _heatmap(
        gate_matrix(capture.gates, sort),
        capture.blocks,
        _("gate %{z:.3f}"),
        _,
        colorscale=GATE_SCALE,
        zmin=0,
        zmax=1,
        colorbar=dict(title=_("gate")),
    )
    if sort:
        fig.update_xaxes(title=_("channels, most excited first"))
    return fig


def gate_difference_heatmap(a: GateCapture, b: GateCapture, _: Translate = english) -> go.Figure:
    """Gates of picture A minus picture B, block by channel: red where A needs a channel more, blue where B does."""
    if a.blocks != b.blocks:
        raise ValueError("captures: they come from different networks")
    diff = gate_matrix(a.gates) - gate_matrix(b.gates)
    return _heatmap(
        diff,
        a.blocks,
        "A − B = %{z:+.3f}",
        _,
        colorscale=DIFF_SCALE,
        reversescale=True,
        zmin=-1,
        zmax=1,
        zmid=0,
        colorbar=dict(title="A − B"),
    )


def gate_divergence_figure(a: GateCapture, b: GateCapture, _: Translate = english) -> go.Figure:
    """Mean |gate A − gate B| per block: early gates barely depend on the picture, late ones on its class."""
    spread = [float(np.abs(ga - gb).mean()) for ga, gb in zip(a.gates, b.gates)]
    fig = go.Figure(
        go.Bar(
            x=[short_name(n) for n in a.blocks],
            y=spread,
            marker_color="#9467bd",
            hovertemplate=_("%{x}: mean |A − B| = %{y:.3f}") + "<extra></extra>",
        )
    )
    fig.update_layout(
        height=300,
        margin=dict(l=10, r=10, t=10, b=40),
        font=dict(size=14),
        yaxis_title=_("mean |A − B|"),
        xaxis_title=_("block (input → output)"),
    )
    return fig


def gate_bars(gate: np.ndarray, block: str, _: Translate = english) -> go.Figure:
    """One block's gate per channel, in channel order."""
    fig = go.Figure(
        go.Bar(
            x=np.arange(len(gate)),
            y=gate,
            marker=dict(color=gate, colorscale=GATE_SCALE, cmin=0, cmax=1),
            hovertemplate=_("channel %{x}: gate %{y:.3f}") + "<extra></extra>",
        )
    )
    fig.update_layout(
        height=300,
        margin=dict(l=10, r=10, t=40, b=40),
        font=dict(size=14),
        bargap=0.05,
        title=_("{block}: {channels} channels", block=short_name(block), channels=len(gate)),
        xaxis_title=_("channel"),
        yaxis=dict(range=[0, 1], title=_("gate")),
    )
    return fig


def extreme_channels(gate: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` most and least excited channels, most excited first / least excited first."""
    order = np.argsort(-gate, kind="stable")
    count = min(count, len(gate) // 2) or 1
    return order[:count], order[::-1][:count]


def feature_maps_figure(features: np.ndarray, gate: np.ndarray, count: int = 4, _: Translate = english) -> go.Figure:
    """The maps entering the SE block: its ``count`` most excited channels on top, least excited below."""
    if len(features) != len(gate):
        raise ValueError(f"features: {len(features)} channels but the gate has {len(gate)}")
    top, bottom = extreme_channels(gate, count)
    cols = len(top)
    titles = [_("ch {channel}: gate {gate}", channel=c, gate=f"{gate[c]:.2f}") for c in (*top, *bottom)]
    fig = make_subplots(rows=2, cols=cols, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.12)
    for i, channel in enumerate((*top, *bottom)):
        fig.add_trace(
            go.Heatmap(
                z=features[channel],
                colorscale="gray",
                showscale=False,
                hovertemplate="x %{x}, y %{y}: %{z:.2f}<extra></extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    for axis in range(2, 2 * cols + 1):  # each map square, keyed to its own x axis
        fig.layout[f"yaxis{axis}"].scaleanchor = f"x{axis}"
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10), font=dict(size=13))
    return fig
