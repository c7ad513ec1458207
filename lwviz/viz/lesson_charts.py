"""The Lesson page's figures: few marks, large type, one point each (a 1280x720 projector, the last row).

Every builder takes the page's translate function ``_`` and passes every word it shows through it: titles,
axes, legends and hover text. Colours are the app's category10 ones, so presenter mode maps them to its
colour-blind-safe palette.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lwviz.i18n import Translate, english
from lwviz.lesson.numbers import Footprint, shuffle_order
from lwviz.lesson.scaling import Scaled, fitted_phi, rule
from lwviz.lesson.spiral import SpiralResult, spiral
from lwviz.viz.cost_charts import KIND_COLORS

FONT = dict(size=18)
GROUP_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
STANDARD, LIGHT = KIND_COLORS["standard"], KIND_COLORS["depthwise"]


def _layout(fig: go.Figure, height: int, **more) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=50, b=10), font=FONT, **more)
    return fig


def footprint_figure(
    dense: Footprint, mobile: Footprint, ms: tuple[float, float] | None = None, _: Translate = english
) -> go.Figure:
    """MobileNet as a percentage of its standard-convolution version: parameters, MACs, storage and, once
    measured, time."""
    labels = [_("parameters"), _("MACs"), _("storage (float32)")]
    shares = [mobile.params / dense.params, mobile.macs / dense.macs, mobile.megabytes / dense.megabytes]
    if ms is not None:
        labels.append(_("measured time"))
        shares.append(ms[1] / ms[0])
    fig = go.Figure(
        go.Bar(
            x=[100 * s for s in shares],
            y=labels,
            orientation="h",
            marker_color=LIGHT,
            text=[f"{100 * s:.0f}%" for s in shares],
            textposition="outside",
            hovertemplate=_("%{y}: %{x:.1f}% (standard convolution = 100%)") + "<extra></extra>",
            name="MobileNet",
        )
    )
    fig.add_vline(x=100, line=dict(color=STANDARD, width=3, dash="dash"))
    return _layout(
        fig,
        300,
        title=_("MobileNet as a share of the standard-convolution network (dashed line: 100%)"),
        xaxis=dict(title=_("share of the standard-convolution network (%)"), range=[0, 115]),
        yaxis=dict(autorange="reversed"),
        showlegend=False,
    )


def spiral_figure(results: Sequence[SpiralResult], chosen: int | None = None, _: Translate = english) -> go.Figure:
    """The input spiral, then what comes back through ReLU in n dimensions, one panel per n (``chosen`` is
    framed)."""
    x = spiral()
    titles = [_("input")] + [_("n = {n}", n=r.n) for r in results]
    fig = make_subplots(rows=1, cols=len(results) + 1, subplot_titles=titles, horizontal_spacing=0.02)
    colour = np.linspace(0, 1, len(x))
    panels = [(x, _("input")), *((r.recovered, _("n = {n}", n=r.n)) for r in results)]
    for col, (points, name) in enumerate(panels, start=1):
        fig.add_trace(
            go.Scatter(
                x=points[:, 0],
                y=points[:, 1],
                mode="markers",
                marker=dict(size=4, color=colour, colorscale="Viridis"),
                name=name,
                hovertemplate=name + ": (%{x:.2f}, %{y:.2f})<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(visible=False, range=[-1.1, 1.1], row=1, col=col)
        fig.update_yaxes(visible=False, range=[-1.1, 1.1], scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    for col, r in enumerate(results, start=2):
        if r.n == chosen:
            fig.add_shape(
                type="rect", xref=f"x{col} domain", yref=f"y{col} domain", x0=0, x1=1, y0=0, y1=1,
                line=dict(color=STANDARD, width=4),
            )  # fmt: skip
    return _layout(fig, 260, showlegend=False, title=_("A spiral through ReLU in n dimensions and back"))


def spiral_error_figure(
    results: Sequence[SpiralResult], chosen: int | None = None, _: Translate = english
) -> go.Figure:
    """How much of the spiral is lost, against n: it falls to zero."""
    ns, errors = [r.n for r in results], [r.error for r in results]
    fig = go.Figure(
        go.Scatter(
            x=ns,
            y=errors,
            mode="lines+markers+text",
            line=dict(width=3, color=LIGHT),
            marker=dict(size=[16 if n == chosen else 9 for n in ns], color=LIGHT),
            text=[f"{e:.3f}" for e in errors],
            textposition="top right",
            name=_("information lost"),
            hovertemplate=_("n = %{x}: %{y:.4f} of the spiral lost") + "<extra></extra>",
        )
    )
    return _layout(
        fig,
        260,
        title=_("Information lost, against the number of dimensions n"),
        xaxis=dict(title=_("dimensions n"), type="log", tickvals=ns),
        yaxis=dict(title=_("error"), rangemode="tozero"),
        showlegend=False,
    )


def gate_figure(gates: np.ndarray, _: Translate = english) -> go.Figure:
    """One SE block's gates for one picture, largest first: a few channels open, many half shut."""
    order = np.argsort(gates)[::-1]
    fig = go.Figure(
        go.Bar(
            x=list(range(len(gates))),
            y=gates[order],
            marker_color=LIGHT,
            customdata=order,
            name=_("gate"),
            hovertemplate=_("channel %{customdata}: gate %{y:.3f}") + "<extra></extra>",
        )
    )
    return _layout(
        fig,
        280,
        title=_("The gate of every channel for this picture, largest first"),
        xaxis=dict(title=_("channels, most excited first"), showticklabels=False),
        yaxis=dict(title=_("gate s"), range=[0, 1]),
        showlegend=False,
    )


def shuffle_figure(chs: int, groups: int, _: Translate = english) -> go.Figure:
    """The channels before and after a channel shuffle, coloured by the group they come from, with a line
    from each channel to where it lands."""
    order = shuffle_order(chs, groups)
    per = chs // groups
    group = [c // per for c in range(chs)]
    fig = go.Figure()
    for position, source in enumerate(order):  # where channel ``source`` goes
        fig.add_trace(
            go.Scatter(
                x=[source, position],
                y=[1, 0],
                mode="lines",
                line=dict(color=GROUP_COLORS[group[source] % len(GROUP_COLORS)], width=2),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    rows = ((1, list(range(chs)), _("before")), (0, order, _("after shuffle")))
    for y, channels, row in rows:
        for g in range(groups):
            xs = [x for x, c in enumerate(channels) if group[c] == g]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[y] * len(xs),
                    mode="markers",
                    marker=dict(symbol="square", size=max(8, min(28, 700 // chs)), color=GROUP_COLORS[g % 8]),
                    customdata=[channels[x] for x in xs],
                    name=_("group {g}", g=g + 1),
                    legendgroup=str(g),
                    showlegend=y == 1,
                    hovertemplate=_("{row}: channel %{{customdata}} of group {g}", row=row, g=g + 1)
                    + "<extra></extra>",
                )
            )
    return _layout(
        fig,
        300,
        title=_("{chs} channels in {groups} groups, before and after the shuffle", chs=chs, groups=groups),
        xaxis=dict(title=_("channel position"), showgrid=False, zeroline=False),
        yaxis=dict(
            tickvals=[1, 0],
            ticktext=[_("before"), _("after shuffle")],
            range=[-0.4, 1.4],
            showgrid=False,
            zeroline=False,
        ),
        legend=dict(orientation="h", y=-0.35),
    )


def scaling_figure(models: Sequence[Scaled], chosen: int, _: Translate = english) -> go.Figure:
    """B0 ... B7's MACs as multiples of B0's against the rule's 2^φ (φ fitted to each model's multipliers)."""
    base = models[0].macs
    names = [f"B{b}" for b in range(len(models))]
    phis = [fitted_phi(b) for b in range(len(models))]
    fig = go.Figure(
        [
            go.Bar(
                x=names,
                y=[m.macs / base for m in models],
                marker_color=[STANDARD if b == chosen else LIGHT for b in range(len(models))],
                name=_("MACs ÷ B0's MACs"),
                hovertemplate=_("%{x}: %{y:.1f}× B0's MACs") + "<extra></extra>",
            ),
            go.Scatter(
                x=names,
                y=[rule() ** phi for phi in phis],
                mode="lines+markers",
                line=dict(color="#7f7f7f", width=3, dash="dot"),
                name="(α·β²·γ²)^φ",
                hovertemplate=_("%{x}: the rule gives %{y:.1f}×") + "<extra></extra>",
            ),
        ]
    )
    return _layout(
        fig,
        300,
        title=_("EfficientNet B0 … B7: MACs against the compound-scaling rule"),
        yaxis=dict(title=_("× B0's MACs"), type="log"),
        legend=dict(orientation="h", y=-0.2),
    )
