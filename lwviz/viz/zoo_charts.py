"""Bubble charts of the zoo: ImageNet top-1 against MACs or measured latency, bubble area = params."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import plotly.graph_objects as go

from lwviz.i18n import N_, Translate, english, said
from lwviz.timing import thread_words
from lwviz.zoo import Timings, ZooEntry, pareto_front

FAMILY_COLORS = {
    "MobileNet": "#1f77b4",
    "ShuffleNet": "#2ca02c",
    "SqueezeNet": "#9467bd",
    "EfficientNet": "#ff7f0e",
    "MnasNet": "#17becf",
    "GhostNet": "#8c564b",
    "MobileOne": "#e377c2",
}
REFERENCE = dict(name=N_("standard conv (reference)"), color="#6b6b6b", symbol="diamond")
FRONT_COLOR = "#d62728"
MAX_BUBBLE_PX, MIN_BUBBLE_PX = 64, 10  # diameters; area is proportional to params
HEIGHT = 640
PLOT_PX = (760, 420)  # the plot area at its narrowest on a laptop: label placement plans for this
LABEL_FONT_PX, CHAR_PX, LINE_PX = 14, 7.6, 18


# How each x quantity reads: a tick label, and a hover line beyond the params and MACs always shown.
UNITS = {
    "macs": (lambda t: f"{t / 1e9:g}G" if t >= 1e9 else f"{t / 1e6:g}M", ""),
    "ms": (lambda t: f"{t:g} ms", "<br>%{x:.1f} ms"),
}


def _log_ticks(lo: float, hi: float, unit: str) -> tuple[list[float], list[str]]:
    """1-2-5 ticks covering [lo, hi] with readable labels ('50M', '2G', '20 ms')."""
    ticks = [m * 10**e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1) for m in (1, 2, 5)]
    ticks = [t for t in ticks if lo / 2 <= t <= hi * 2]
    return ticks, [UNITS[unit][0](t) for t in ticks]


def _padded(lo: float, hi: float, lo_px: float, hi_px: float, length_px: float) -> list[float]:
    """An axis range around [lo, hi] leaving ``lo_px`` and ``hi_px`` pixels free at its ends."""
    span = (hi - lo) / (1 - (lo_px + hi_px) / length_px)
    return [lo - span * lo_px / length_px, hi + span * hi_px / length_px]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Overlapping area of two (x0, y0, x1, y1) boxes."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def place_labels(
    points: Sequence[tuple[float, float]], radii: Sequence[float], labels: Sequence[str], bounds: tuple[float, float]
) -> list[tuple[float, float]]:
    """Pixel offsets (dx, dy) of each label's centre from its point, so labels avoid each other and the bubbles.

    Greedy: labels are placed in order of crowding, each at the first candidate spot (beside,
    above, below, then further out on a leader line) that overlaps nothing placed so far and
    stays inside ``bounds`` (width, height); the least-overlapping spot when none is free.
    """
    size = [(len(t) * CHAR_PX, LINE_PX) for t in labels]
    bubbles = [(x - r, y - r, x + r, y + r) for (x, y), r in zip(points, radii)]
    crowding = [sum(math.dist(p, q) < 120 for q in points) for p in points]
    placed: list[tuple[float, float, float, float]] = []
    offsets: list[tuple[float, float]] = [(0.0, 0.0)] * len(points)
    for i in sorted(range(len(points)), key=lambda i: -crowding[i]):
        (x, y), r, (w, h) = points[i], radii[i], size[i]
        side, up = w / 2 + r + 4, h / 2 + r + 2
        candidates = [(0, -up), (side, 0), (-side, 0), (0, up)]
        for reach in (30, 60, 90):
            candidates += [
                (side + reach, -reach),
                (-side - reach, -reach),
                (side + reach, reach),
                (-side - reach, reach),
                (0, -up - reach),
                (0, up + reach),
            ]
        boxes = [_box(x + dx, y + dy, w, h) for dx, dy in candidates]
        costs = [_crowding(box, placed + bubbles, bounds) for box in boxes]
        best = candidates[costs.index(min(costs))]  # the first free spot in order of preference
        offsets[i] = best
        placed.append(_box(x + best[0], y + best[1], w, h))
    return offsets


def _box(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _crowding(box, taken, bounds) -> float:
    """How much a label box overlaps what is already drawn, with leaving the plot costing far more."""
    outside = max(0, -box[0]) + max(0, box[2] - bounds[0]) + max(0, -box[1]) + max(0, box[3] - bounds[1])
    return sum(_overlap(box, b) for b in taken) + outside * (box[3] - box[1]) * 10


def _axis_ranges(shown: Sequence[ZooEntry], xs: Sequence[float], radius: Mapping[str, float]):
    """(log-x range, y range) leaving room for the outermost bubbles and a label beyond each."""
    width, height = PLOT_PX
    left, right = shown[xs.index(min(xs))], shown[xs.index(max(xs))]
    low, high = min(shown, key=lambda e: e.top1), max(shown, key=lambda e: e.top1)
    room = LINE_PX + 16
    return (
        _padded(min(xs), max(xs), radius[left.name] + 12, radius[right.name] + 12, width),
        _padded(low.top1, high.top1, radius[low.name] + room, radius[high.name] + room, height),
    )


def _add_labels(
    fig: go.Figure,
    shown: Sequence[ZooEntry],
    xs: Sequence[float],
    radius: Mapping[str, float],
    x_range: Sequence[float],
    y_range: Sequence[float],
) -> None:
    """Every network's name beside its bubble; a thin leader line when the label had to move away."""
    width, height = PLOT_PX
    points = [
        (
            (lx - x_range[0]) / (x_range[1] - x_range[0]) * width,
            (y_range[1] - e.top1) / (y_range[1] - y_range[0]) * height,
        )
        for lx, e in zip(xs, shown)
    ]
    offsets = place_labels(points, [radius[e.name] for e in shown], [e.name for e in shown], PLOT_PX)
    for e, lx, (dx, dy) in zip(shown, xs, offsets):
        far = abs(dx) > len(e.name) * CHAR_PX / 2 + radius[e.name] + 8 or abs(dy) > radius[e.name] + 14
        fig.add_annotation(
            x=lx,
            y=e.top1,
            text=e.name,
            ax=dx,
            ay=dy,
            showarrow=True,
            arrowhead=0,
            arrowwidth=1,
            arrowcolor="#888" if far else "rgba(0,0,0,0)",
            font=dict(size=LABEL_FONT_PX, color="#222"),
            bgcolor="rgba(255,255,255,0.7)",
        )


def bubble_figure(
    entries: Sequence[ZooEntry], x: Mapping[str, float], x_title: str, unit: str, title: str, _: Translate = english
) -> go.Figure:
    """Top-1 against ``x`` (log scale) for the entries that have an x; the Pareto front as a line."""
    shown = [e for e in entries if e.name in x]
    biggest = max(e.params for e in shown)
    diameter = {e.name: max(MIN_BUBBLE_PX, MAX_BUBBLE_PX * math.sqrt(e.params / biggest)) for e in shown}
    groups: dict[str, list[ZooEntry]] = {}
    for e in shown:
        groups.setdefault(REFERENCE["name"] if e.reference else e.family, []).append(e)

    fig = go.Figure()
    for group, members in groups.items():
        is_ref = group == REFERENCE["name"]
        fig.add_scatter(
            x=[x[e.name] for e in members],
            y=[e.top1 for e in members],
            name=_(group) if is_ref else group,
            mode="markers",
            text=[e.name for e in members],
            marker=dict(
                size=[diameter[e.name] for e in members],
                color=REFERENCE["color"] if is_ref else FAMILY_COLORS[group],
                symbol=REFERENCE["symbol"] if is_ref else "circle",
                opacity=0.8,
                line=dict(width=2, color="black" if is_ref else "white"),
            ),
            customdata=[[e.params / 1e6, e.macs / 1e6, said(e.top1_source, _)] for e in members],
            hovertemplate="<b>%{text}</b><br>top-1 %{y:.1f}%<br>%{customdata[0]:.2f}M "
            + _("params")
            + ", %{customdata[1]:,.0f}M MACs"
            + UNITS[unit][1]
            + "<br>"
            + _("accuracy")
            + ": %{customdata[2]}<extra></extra>",
        )
    front = [shown[i] for i in pareto_front([(x[e.name], e.top1) for e in shown])]
    fig.add_scatter(
        x=[x[e.name] for e in front],
        y=[e.top1 for e in front],
        mode="lines",
        name=_("Pareto front (nothing cheaper is more accurate)"),
        line=dict(color=FRONT_COLOR, width=3, dash="dash"),
        hoverinfo="skip",
    )

    xs = [math.log10(x[e.name]) for e in shown]
    radius = {name: d / 2 for name, d in diameter.items()}
    x_range, y_range = _axis_ranges(shown, xs, radius)
    _add_labels(fig, shown, xs, radius, x_range, y_range)
    tickvals, ticktext = _log_ticks(min(x.values()), max(x.values()), unit)
    fig.update_xaxes(type="log", title=x_title, tickvals=tickvals, ticktext=ticktext, range=x_range)
    fig.update_yaxes(title=_("ImageNet top-1 (%)"), ticksuffix="%", range=y_range)
    fig.update_layout(
        title=title,
        height=HEIGHT,
        font=dict(size=16),
        margin=dict(l=10, r=10, t=60, b=10),
        legend=dict(orientation="h", y=-0.15, itemsizing="constant"),
    )
    return fig


def macs_figure(entries: Sequence[ZooEntry], _: Translate = english) -> go.Figure:
    return bubble_figure(
        entries,
        {e.name: e.macs for e in entries},
        _(
            "MACs per image at its own input size: 224×224, MobileNetV4-Conv-M 256×256, "
            "EfficientNetV2-S 384×384 (log scale)"
        ),
        "macs",
        _("Accuracy against compute (bubble area = parameters)"),
        _,
    )


def latency_figure(entries: Sequence[ZooEntry], latency: Timings, threads: int, _: Translate = english) -> go.Figure:
    ms = {name: by_threads[threads] for name, by_threads in latency.items() if threads in by_threads}
    label = thread_words(threads, _)
    return bubble_figure(
        entries,
        ms,
        _("median latency, batch 1, {threads} (log scale)", threads=label),
        "ms",
        _("Accuracy against measured CPU latency on this machine, {threads}", threads=label),
        _,
    )
