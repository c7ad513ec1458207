"""Figures of measured latency beside MACs: FLOPs are not latency.

Each op kind keeps the color it has in the cost charts, so "depthwise" is the same
blue on every page of the app.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from lwviz.cost.latency import LatencyReport
from lwviz.families import OP_KINDS
from lwviz.viz.cost_charts import KIND_COLORS

FONT = dict(size=16)  # read from the back of a classroom
AVERAGE_COLOR = "#444444"


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks spanning ``[lo, hi]`` on a log axis: every tick labelled in full, none crowded."""
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    return [m * 10.0**e for e in decades for m in (1, 2, 5) if lo / 2.5 <= m * 10.0**e <= hi * 2.5]


def _subtitle(report: LatencyReport) -> str:
    threads = f"{report.threads} thread" + ("s" if report.threads > 1 else "")
    return (
        f"{report.spec.name} at {report.spec.resolution}×{report.spec.resolution}, batch 1, {threads}, "
        f"median of {report.runs} run{'s' if report.runs > 1 else ''} per op on this machine"
    )


def _layout(fig: go.Figure, report: LatencyReport, title: str, **layout) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, subtitle=dict(text=_subtitle(report))),
        font=FONT,
        margin=dict(l=10, r=10, t=80, b=10),
        **layout,
    )
    return fig


def time_share_figure(report: LatencyReport) -> go.Figure:
    """For each op kind, its share of the MACs (hatched) beside its share of the measured time (solid)."""
    shares = report.shares()
    fig = go.Figure()
    for kind, kind_total in report.by_kind().items():
        ys = [shares["macs"][kind], shares["time"][kind]]
        fig.add_bar(
            x=[[kind, kind], ["MACs", "time"]],
            y=ys,
            name=kind,
            marker_color=KIND_COLORS[kind],
            marker_pattern_shape=["/", ""],
            text=[f"{y:.1%}" if 0 < y < 0.01 else f"{y:.0%}" for y in ys],
            textposition="outside",
            cliponaxis=False,
            customdata=[["MACs", f"{kind_total.macs / 1e6:,.1f}M MACs"], ["time", f"{kind_total.ms:.2f} ms"]],
            hovertemplate=f"{kind}: " + "%{y:.1%} of the %{customdata[0]} (%{customdata[1]})<extra></extra>",
        )
    return _layout(
        fig,
        report,
        "Share of MACs vs share of measured time, by operation kind",
        height=440,
        bargap=0.25,
        showlegend=False,
        yaxis=dict(tickformat=".0%", title="share"),
    )


def ms_per_gmac_figure(report: LatencyReport) -> go.Figure:
    """Milliseconds per billion MACs of each op kind, beside the network's average."""
    bars = [(k, KIND_COLORS[k.name]) for k in report.by_kind().values() if k.macs]
    bars.append((report.average(), AVERAGE_COLOR))
    fig = go.Figure()
    for k, color in bars:
        fig.add_bar(
            x=[k.name],
            y=[k.ms_per_gmac],
            name=k.name,
            marker_color=color,
            text=[f"{k.ms_per_gmac:,.0f}"],
            textposition="outside",
            cliponaxis=False,
            customdata=[[k.macs / 1e6, k.ms, k.macs / k.ms / 1e6]],
            hovertemplate=(
                f"{k.name}: " + "%{y:,.0f} ms per GMAC<br>%{customdata[0]:,.1f}M MACs in "
                "%{customdata[1]:.2f} ms = %{customdata[2]:.1f} GMAC/s<extra></extra>"
            ),
        )
    return _layout(
        fig,
        report,
        "Time per billion MACs (higher: each MAC costs more time)",
        height=420,
        showlegend=False,
        yaxis_title="ms per GMAC",
    )


def macs_vs_time_figure(report: LatencyReport) -> go.Figure:
    """Every op as a point, MACs against measured time on log axes, beside the line "time proportional to MACs".

    Points above the line take longer than their MACs predict. Ops without MACs (pools)
    cannot sit on a log axis and are left out.
    """
    fig = go.Figure()
    timed = [o for o in report.ops if o.macs]
    for kind in OP_KINDS:
        ops = [o for o in timed if o.kind == kind]
        if ops:
            fig.add_scatter(
                x=[o.macs for o in ops],
                y=[o.ms for o in ops],
                mode="markers",
                name=kind,
                marker=dict(color=KIND_COLORS[kind], size=12, line=dict(width=1, color="white")),
                text=[o.name for o in ops],
                customdata=[o.ms_per_gmac for o in ops],
                hovertemplate="%{text}<br>%{x:,} MACs, %{y:.3f} ms<br>%{customdata:,.0f} ms per GMAC"
                "<extra>" + kind + "</extra>",
            )
    yaxis = dict(type="log", title="median time (ms)")
    if timed:
        span = [min(o.macs for o in timed), max(o.macs for o in timed)]
        fig.add_scatter(
            x=span,
            y=[m * report.average().ms_per_gmac / 1e9 for m in span],
            mode="lines",
            name="time ∝ MACs (network average)",
            hoverinfo="skip",
            line=dict(dash="dash", color=AVERAGE_COLOR, width=2),
        )
        ticks = _log_ticks(min(o.ms for o in timed), max(o.ms for o in timed))
        yaxis.update(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    return _layout(
        fig,
        report,
        "Each op: MACs vs measured time (above the line: slower than its MACs suggest)",
        height=480,
        legend=dict(orientation="h", y=-0.2),
        yaxis=yaxis,
        xaxis=dict(type="log", title="MACs", tickformat="~s", dtick="D2"),
    )
