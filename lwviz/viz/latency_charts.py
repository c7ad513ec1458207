"""Figures of measured latency beside MACs: FLOPs are not latency.

Each op kind keeps the color it has in the cost charts, so "depthwise" is the same
blue on every page of the app.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from lwviz.cost.latency import LatencyReport
from lwviz.families import OP_KINDS
from lwviz.i18n import N_, Translate, english
from lwviz.timing import thread_words
from lwviz.viz.cost_charts import KIND_COLORS, KIND_WORDS

FONT = dict(size=16)  # read from the back of a classroom
AVERAGE_COLOR = "#444444"
AVERAGE_WORDS = N_("network average")


def _kind_words(name: str, _: Translate) -> str:
    """An op kind in words, or the network's average (``LatencyReport.average``)."""
    return _(KIND_WORDS[name]) if name in KIND_WORDS else _(AVERAGE_WORDS)


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks spanning ``[lo, hi]`` on a log axis: every tick labelled in full, none crowded."""
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    return [m * 10.0**e for e in decades for m in (1, 2, 5) if lo / 2.5 <= m * 10.0**e <= hi * 2.5]


def _subtitle(report: LatencyReport, _: Translate) -> str:
    return _(
        "{name} at {size}×{size}, batch 1, {threads}, median of {runs} per op on this machine",
        name=report.spec.name,
        size=report.spec.resolution,
        threads=thread_words(report.threads, _),
        runs=_("1 run") if report.runs == 1 else _("{n} runs", n=report.runs),
    )


def _layout(fig: go.Figure, report: LatencyReport, title: str, _: Translate, **layout) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, subtitle=dict(text=_subtitle(report, _))),
        font=FONT,
        margin=dict(l=10, r=10, t=80, b=10),
        **layout,
    )
    return fig


def time_share_figure(report: LatencyReport, _: Translate = english) -> go.Figure:
    """For each op kind, its share of the MACs (hatched) beside its share of the measured time (solid)."""
    shares = report.shares()
    fig = go.Figure()
    macs, time = _("MACs"), _("time")
    for kind, kind_total in report.by_kind().items():
        ys = [shares["macs"][kind], shares["time"][kind]]
        words = _kind_words(kind, _)
        fig.add_bar(
            x=[[words, words], [macs, time]],
            y=ys,
            name=words,
            marker_color=KIND_COLORS[kind],
            marker_pattern_shape=["/", ""],
            text=[f"{y:.1%}" if 0 < y < 0.01 else f"{y:.0%}" for y in ys],
            textposition="outside",
            cliponaxis=False,
            customdata=[[macs, f"{kind_total.macs / 1e6:,.1f}M MACs"], [time, f"{kind_total.ms:.2f} ms"]],
            hovertemplate=f"{words} · %{{customdata[0]}}: %{{y:.1%}} (%{{customdata[1]}})<extra></extra>",
        )
    return _layout(
        fig,
        report,
        _("Share of MACs vs share of measured time, by operation kind"),
        _,
        height=440,
        bargap=0.25,
        showlegend=False,
        yaxis=dict(tickformat=".0%", title=_("share")),
    )


def ms_per_gmac_figure(report: LatencyReport, _: Translate = english) -> go.Figure:
    """Milliseconds per billion MACs of each op kind, beside the network's average."""
    bars = [(k, KIND_COLORS[k.name]) for k in report.by_kind().values() if k.macs]
    bars.append((report.average(), AVERAGE_COLOR))
    fig = go.Figure()
    for k, color in bars:
        words = _kind_words(k.kind, _)
        fig.add_bar(
            x=[words],
            y=[k.ms_per_gmac],
            name=words,
            marker_color=color,
            text=[f"{k.ms_per_gmac:,.0f}"],
            textposition="outside",
            cliponaxis=False,
            customdata=[[k.macs / 1e6, k.ms, k.macs / k.ms / 1e6]],
            hovertemplate=f"{words}: %{{y:,.0f}} {_('ms per GMAC')}<br>%{{customdata[0]:,.1f}}M MACs → "
            "%{customdata[1]:.2f} ms = %{customdata[2]:.1f} GMAC/s<extra></extra>",
        )
    return _layout(
        fig,
        report,
        _("Time per billion MACs (higher: each MAC costs more time)"),
        _,
        height=420,
        showlegend=False,
        yaxis_title=_("ms per GMAC"),
    )


def macs_vs_time_figure(report: LatencyReport, _: Translate = english) -> go.Figure:
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
                name=_(KIND_WORDS[kind]),
                marker=dict(color=KIND_COLORS[kind], size=12, line=dict(width=1, color="white")),
                text=[o.name for o in ops],
                customdata=[o.ms_per_gmac for o in ops],
                hovertemplate="%{text}<br>%{x:,} MACs, %{y:.3f} ms<br>%{customdata:,.0f} "
                + _("ms per GMAC")
                + f"<extra>{_(KIND_WORDS[kind])}</extra>",
            )
    yaxis = dict(type="log", title=_("median time (ms)"))
    if timed:
        span = [min(o.macs for o in timed), max(o.macs for o in timed)]
        fig.add_scatter(
            x=span,
            y=[m * report.average().ms_per_gmac / 1e9 for m in span],
            mode="lines",
            name=_("time ∝ MACs (network average)"),
            hoverinfo="skip",
            line=dict(dash="dash", color=AVERAGE_COLOR, width=2),
        )
        ticks = _log_ticks(min(o.ms for o in timed), max(o.ms for o in timed))
        yaxis.update(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    return _layout(
        fig,
        report,
        _("Each op: MACs vs measured time (above the line: slower than its MACs suggest)"),
        _,
        height=480,
        legend=dict(orientation="h", y=-0.2),
        yaxis=yaxis,
        xaxis=dict(type="log", title="MACs", tickformat="~s", dtick="D2"),
    )
