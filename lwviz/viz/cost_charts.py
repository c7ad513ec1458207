"""Figures of where a network's parameters and MACs go, against the standard-conv baseline."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lwviz.cost.analytic import CostTable, LayerCost
from lwviz.families import OP_KINDS
from lwviz.i18n import N_, Translate, english

KIND_COLORS = {
    "standard": "#d62728",
    "depthwise": "#1f77b4",
    "pointwise": "#2ca02c",
    "grouped": "#9467bd",
    "fc": "#ff7f0e",
    "elementwise": "#7f7f7f",
}
BASELINE_COLOR = "rgba(120, 120, 120, 0.35)"
METRICS = {"macs": N_("MACs"), "params": N_("Parameters")}
KIND_WORDS = {  # the legend's words for lwviz.families.OP_KINDS
    "standard": N_("standard conv"),
    "depthwise": N_("depthwise conv"),
    "pointwise": N_("pointwise conv"),
    "grouped": N_("grouped conv"),
    "fc": N_("fully connected"),
    "elementwise": N_("elementwise"),
}
MAX_BARS = 60  # more layers than this are drawn a stage per bar: hundreds of bars are unreadable and slow to draw


def short_name(layer_name: str) -> str:
    """'stages.3.1' -> 's3.b1' so fifty layers fit under a chart."""
    if layer_name.startswith("stages."):
        _, stage, block = layer_name.split(".")
        return f"s{stage}.b{block}"
    return layer_name


def bar_groups(layers: Sequence[LayerCost]) -> list[tuple[str, list[LayerCost]]]:
    """(label, layers) per bar: one layer each, or, past :data:`MAX_BARS` layers, one stage each ("s3 ×5")."""
    if len(layers) <= MAX_BARS:
        return [(short_name(layer.name), [layer]) for layer in layers]
    groups: dict[str, list[LayerCost]] = {}  # the stem, head and classifier stay bars of their own
    for layer in layers:
        groups.setdefault(f"s{layer.stage}" if layer.is_block else layer.name, []).append(layer)
    return [(f"{key} ×{len(group)}" if group[0].is_block else key, group) for key, group in groups.items()]


def per_layer_figure(table: CostTable, metric: str = "macs", log: bool = False, _: Translate = english) -> go.Figure:
    """Each layer's cost stacked by operation kind, beside its standard-conv baseline (a stage per bar for
    very deep designs, see :func:`bar_groups`)."""
    groups = bar_groups(table.layers)
    what = _(METRICS[metric])
    names = [label for label, _ in groups]
    fig = go.Figure()
    for kind in OP_KINDS:
        values = [sum(getattr(o, metric) for layer in g for o in layer.ops if o.kind == kind) for _, g in groups]
        if any(values):
            fig.add_bar(
                x=names,
                y=values,
                name=_(KIND_WORDS[kind]),
                marker_color=KIND_COLORS[kind],
                offsetgroup="net",
                legendgroup="net",
                hovertemplate=f"%{{x}}: %{{y:,}} {what} ({_(KIND_WORDS[kind])})<extra></extra>",
            )
    fig.add_bar(
        x=names,
        y=[sum(getattr(layer, f"baseline_{metric}") for layer in group) for _, group in groups],
        name=_("one standard conv per block"),
        marker_color=BASELINE_COLOR,
        offsetgroup="baseline",
        hovertemplate=f"%{{x}}: %{{y:,}} {what} " + _("as one standard conv") + "<extra></extra>",
    )
    fig.update_layout(
        barmode="relative",
        bargap=0.15,
        height=380,
        margin=dict(l=10, r=10, t=40, b=10),
        title=_("{metric} per layer: this network (by operation) vs one standard conv", metric=what)
        if len(groups) == len(table.layers)
        else _("{metric} per stage: this network (by operation) vs one standard conv", metric=what),
        legend=dict(orientation="h", y=-0.25),
        yaxis_type="log" if log else "linear",
        yaxis_title=what,
    )
    return fig


def share_by_kind(table: CostTable) -> dict[str, dict[str, float]]:
    """Fraction of MACs and params that each operation kind accounts for."""
    out = {}
    for metric in METRICS:
        total = getattr(table, metric) or 1
        out[metric] = {k: sum(getattr(o, metric) for o in table.ops if o.kind == k) / total for k in OP_KINDS}
    return out


def share_figure(table: CostTable, _: Translate = english) -> go.Figure:
    """Horizontal 100% bars: where the MACs and the parameters go."""
    shares = share_by_kind(table)
    fig = go.Figure()
    for kind in OP_KINDS:
        xs = [shares[m][kind] for m in METRICS]
        if any(xs):
            fig.add_bar(
                y=[_(METRICS[m]) for m in METRICS],
                x=xs,
                name=_(KIND_WORDS[kind]),
                orientation="h",
                marker_color=KIND_COLORS[kind],
                text=[f"{x:.0%}" if x >= 0.04 else "" for x in xs],
                textposition="inside",
                hovertemplate=_(KIND_WORDS[kind]) + ": %{x:.1%}<extra></extra>",
            )
    fig.update_layout(
        barmode="stack",
        height=200,
        margin=dict(l=10, r=10, t=40, b=10),
        title=_("Where the cost goes"),
        xaxis=dict(tickformat=".0%", range=[0, 1]),
        legend=dict(orientation="h", y=-0.4),
    )
    return fig


def savings_figure(table: CostTable, _: Translate = english) -> go.Figure:
    """Measured MACs / standard-conv MACs per block beside the depthwise-separable theory 1/N + 1/K^2."""
    groups = bar_groups([layer for layer in table.layers if layer.is_block])
    names = [label for label, _ in groups]
    fig = go.Figure()
    fig.add_scatter(
        x=names,
        y=[group[-1].theory_ratio for _, group in groups],  # a stage's blocks share their output channels and kernel
        mode="lines",
        name=_("theory 1/N + 1/K²"),
        line=dict(dash="dash", color="#ff7f0e", width=3),
        hovertemplate="%{x}: %{y:.3f}<extra></extra>",
    )
    fig.add_scatter(
        x=names,
        y=[sum(b.macs for b in group) / sum(b.baseline_macs for b in group) for _, group in groups],
        mode="markers",
        name=_("this network: MACs / standard conv"),
        marker=dict(color="#1f77b4", size=9),
        hovertemplate="%{x}: %{y:.3f}<extra></extra>",
    )
    fig.add_hline(
        y=1,
        line=dict(color="gray", width=1),
        annotation_text=_("as costly as a standard conv"),
        annotation_position="top left",
    )
    ticks = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]
    fig.update_yaxes(type="log", tickvals=ticks, ticktext=[f"{t:g}×" for t in ticks])
    fig.update_layout(
        height=320,
        margin=dict(l=10, r=10, t=40, b=10),
        title=_("Cost of each block relative to one standard convolution (lower is cheaper)"),
        legend=dict(orientation="h", y=-0.3),
    )
    return fig


def baseline_words(mine: int, dense: int, per_block: int, _: Translate = english) -> str:
    """A headline number against the network's dense version and against one standard conv per block."""
    if mine == dense:
        against_dense = _("the same as its dense version")
    else:
        times = dense / mine
        against_dense = _("1/{times} of its dense version", times=f"{times:.1f}" if times < 10 else f"{times:.0f}")
    return f"**{against_dense}**  \n" + _("{times}× one conv per block", times=f"{mine / per_block:.2f}")


def against_standard_figure(table: CostTable, _: Translate = english) -> go.Figure:
    """A network beside its standard-conv version, parameters and MACs, its words translated by ``_``: the
    headline of the MobileNet paper (Table 4: MobileNetV1 has 7x fewer parameters and 8.6x fewer MACs than
    the same network of dense convs)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[_("Parameters"), _("MACs")], horizontal_spacing=0.04)
    names = (_("standard convolutions"), table.spec.name)
    for col, (mine, baseline) in enumerate(
        ((table.params, table.baseline_params), (table.macs, table.baseline_macs)), start=1
    ):
        fewer = _("{value} M ({times}× fewer)", value=f"{mine / 1e6:,.1f}", times=f"{baseline / mine:.1f}")
        fig.add_bar(
            x=[baseline, mine],
            y=list(names),
            orientation="h",
            marker_color=[BASELINE_COLOR, KIND_COLORS["depthwise"]],
            text=[f"{baseline / 1e6:,.1f} M", fewer],
            textposition="auto",
            textfont_size=15,
            hoverinfo="skip",
            showlegend=False,
            row=1,
            col=col,
        )
        fig.update_xaxes(visible=False, row=1, col=col)
    fig.update_yaxes(tickfont_size=15)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_annotations(font_size=16)  # the subplot titles
    fig.update_layout(height=220, margin=dict(l=10, r=10, t=40, b=10), bargap=0.25)
    return fig
