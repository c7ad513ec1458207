"""One network's compressed variants side by side: file size, latency and accuracy, each against the float original."""

from __future__ import annotations

import re
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lwviz.compress.variants import Row
from lwviz.i18n import N_, Translate, english

COLORS = {
    "float": "#6b6b6b",
    "int8": "#1f77b4",
    "weights zeroed": "#ff7f0e",
    "channels kept": "#2ca02c",
    "distilled": "#9467bd",
}


# The names lwviz.compress.variants gives its variants (and the Compress page its extra rows), in the catalog:
# a table measured once keeps its English names and is shown in the reader's language.
VARIANT_WORDS = {
    "float": N_("float"),
    "int8 dynamic": N_("int8 dynamic"),
    "int8 static": N_("int8 static"),
    "int8 QAT": N_("int8 QAT"),
    "distilled student": N_("distilled student"),
    "its teacher": N_("its teacher"),
}
SHARED_WORDS = (  # names that start with a share: "50% weights zeroed"
    (re.compile(r"(\d+%) weights zeroed"), N_("{share} weights zeroed")),
    (re.compile(r"(\d+%) channels kept"), N_("{share} channels kept")),
)


def variant_name(name: str, _: Translate = english) -> str:
    """A variant's name in the language of ``_`` (a name it does not know stays as it is)."""
    if name in VARIANT_WORDS:
        return _(VARIANT_WORDS[name])
    for pattern, message in SHARED_WORDS:
        if match := pattern.fullmatch(name):
            return _(message, share=match[1])
    return name


def color_of(variant: str) -> str:
    """The colour of a variant, by its (English) name."""
    return next((c for key, c in COLORS.items() if key in variant), "#8c564b")


def variants_figure(rows: Sequence[Row], score_label: str, _: Translate = english) -> go.Figure:
    """Three panels sharing the variants' axis: file size (zipped as a second bar), latency, and the score
    (``score_label`` comes translated)."""
    shown = [r for r in rows if r.size_bytes is not None]
    names = [variant_name(r.variant, _) for r in shown][::-1]  # the float original on top
    fig = make_subplots(
        rows=1,
        cols=3,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=(_("File size (MB)"), _("Latency (ms, batch 1, 1 thread)"), score_label),
    )
    ordered = shown[::-1]
    colors = [color_of(r.variant) for r in ordered]
    # sizes span 0.05 MB (a digits network) to 20 MB (Lite0): three significant digits, written beside the bar
    fig.add_bar(
        y=names,
        x=[r.size_bytes / 1e6 for r in ordered],
        orientation="h",
        marker_color=colors,
        name=_("saved file"),
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
        name=_("zipped file"),
        text=[_("zipped {mb}", mb=f"{r.zipped_bytes / 1e6:.3g}") for r in ordered],
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
        hovertemplate="%{y}: %{x:.1f} ms<extra></extra>",  # no trace name: an unnamed trace would say "trace 2"
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
        hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
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
