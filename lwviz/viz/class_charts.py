"""The Class page's chart: MACs against the milliseconds the class's own devices measured.

The lesson is "FLOPs are not latency": the same MACs take very different times on different
devices, and on one device two networks with equal MACs can differ by much more than their MACs
say (memory traffic, depthwise convolutions, what the runtime has fast kernels for).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from lwviz.device_reports import Row
from lwviz.i18n import Translate, english

if TYPE_CHECKING:
    from lwviz.export import DeviceModelInfo

# Plotly's category10, so presenter mode maps each to its colour-blind-safe counterpart.
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
SYMBOLS = {False: "circle", True: "diamond"}  # float32, int8
HEIGHT = 460


def plain_label(model: DeviceModelInfo) -> str:
    return model.label


def network_words(
    model: DeviceModelInfo, _: Translate = english, label: Callable[[DeviceModelInfo], str] = plain_label
) -> str:
    """A device file's network as the table and the legend name it: label, resolution, precision."""
    return _(
        "{network}, {resolution} px, {precision}",
        network=label(model),
        resolution=model.resolution,
        precision="int8" if model.int8 else "float32",
    )


def macs_ms_figure(
    rows: Sequence[Row], _: Translate = english, label: Callable[[DeviceModelInfo], str] = plain_label
) -> go.Figure:
    """One point per device and network: the network's MACs (x) against the device's median model ms (y),
    coloured by network (diamonds: int8). ``label`` names a network in the page's language."""
    fig = go.Figure()
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.model.model_id, []).append(row)
    for i, members in enumerate(groups.values()):
        first = members[0]
        name = network_words(first.model, _, label)
        fig.add_trace(
            go.Scatter(
                x=[r.model.macs / 1e6 for r in members],
                y=[r.model_ms for r in members],
                mode="markers",
                name=name,
                marker=dict(size=14, color=COLORS[i % len(COLORS)], symbol=SYMBOLS[first.model.int8], opacity=0.85),
                customdata=[[r.device.label(_), f"{r.fps:.1f}"] for r in members],
                hovertemplate=f"%{{customdata[0]}}<br>{name}<br>"
                + _("{macs} MACs: {ms} ms, {fps} FPS", macs="%{x:.0f}M", ms="%{y:.1f}", fps="%{customdata[1]}")
                + "<extra></extra>",
            )
        )
    fig.update_layout(
        title=_("FLOPs are not latency: the same MACs take different times on different devices"),
        xaxis_title=_("MACs (millions) of the network"),
        yaxis_title=_("model time per frame, median (ms)"),
        height=HEIGHT,
        legend=dict(title=_("Network")),
        margin=dict(t=60, b=50, l=60, r=20),
    )
    fig.update_xaxes(rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    return fig
