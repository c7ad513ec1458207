"""A figure restyled for a projector: larger text, thicker lines, and a colour-blind-safe palette.

The app's charts use Plotly's default (D3 "category10") colours, which are hard to tell apart for the
one student in twelve with red-green colour blindness and wash out on a projector. Each is mapped to the
nearest of Okabe and Ito's eight colours, so every page keeps its colour meanings (depthwise stays blue).
"""

from __future__ import annotations

import plotly.graph_objects as go

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO = {
    "#1f77b4": "#0072B2",  # blue
    "#ff7f0e": "#E69F00",  # orange
    "#2ca02c": "#009E73",  # bluish green
    "#d62728": "#D55E00",  # vermillion
    "#9467bd": "#CC79A7",  # reddish purple
    "#8c564b": "#8C510A",  # brown, darker for contrast
    "#e377c2": "#882255",  # wine (Paul Tol), apart from the purple above
    "#7f7f7f": "#6E6E6E",  # grey, darker for contrast
    "#bcbd22": "#F0E442",  # yellow
    "#17becf": "#56B4E9",  # sky blue
}
FONT_PX, TITLE_PX, TICK_PX = 22, 26, 20
LINE_SCALE, MARKER_SCALE, HEIGHT_SCALE = 2.0, 1.5, 1.25


def _recolour(value):
    """A colour or list of colours with every category10 colour replaced by its Okabe-Ito counterpart."""
    if isinstance(value, str):
        return OKABE_ITO.get(value.lower(), value)
    if isinstance(value, list | tuple):
        return [_recolour(v) for v in value]
    return value


def _fewer_log_ticks(axis) -> None:
    if axis.type == "log" and axis.dtick is None and axis.tickvals is None:
        axis.dtick = "D2"  # 1, 2 and 5 in each decade


def presenter_style(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` for the back row of a classroom (``fig`` itself may be a shared, cached figure)."""
    fig = go.Figure(fig)
    for trace in fig.data:
        marker, line = getattr(trace, "marker", None), getattr(trace, "line", None)
        if marker is not None and marker.color is not None:
            marker.color = _recolour(marker.color)
        if isinstance(getattr(marker, "size", None), int | float):  # bars' markers have no size
            marker.size = marker.size * MARKER_SCALE
        if line is not None:
            if line.color is not None:
                line.color = _recolour(line.color)
            line.width = (line.width or 2) * LINE_SCALE
    fig.update_layout(
        font_size=FONT_PX,
        title_font_size=TITLE_PX,
        legend_font_size=FONT_PX,
        hoverlabel_font_size=FONT_PX,
        height=round((fig.layout.height or 450) * HEIGHT_SCALE),
    )
    fig.update_xaxes(tickfont_size=TICK_PX, title_font_size=FONT_PX, linewidth=2)
    fig.update_yaxes(tickfont_size=TICK_PX, title_font_size=FONT_PX, linewidth=2)
    # a log axis labels 1..9 in every decade when it has room at 14 px; at 20 px they run into each other
    fig.for_each_xaxis(_fewer_log_ticks)
    fig.for_each_yaxis(_fewer_log_ticks)
    for note in fig.layout.annotations:
        if note.showarrow and note.font.size:  # a label placed beside its point: grow it with the plot only
            note.font.size = note.font.size * HEIGHT_SCALE
        else:
            note.font.size = FONT_PX
    return fig
