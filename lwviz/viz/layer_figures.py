"""Figures and formulas for one layer: a standard conv against depthwise + pointwise.

``kernel_figure`` shows what each kernel reads to compute ONE output value (that
count is the MACs per output value); ``ratio_figure`` shows how the separable /
standard MAC ratio moves with the output channels N and the kernel K;
``latex_formulas`` writes the paper's formulas with the layer's numbers filled in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lwviz.cost.one_layer import LIMITS, ConvCost, OneLayer
from lwviz.i18n import Translate, english
from lwviz.viz.cost_charts import KIND_COLORS

# Cell states of the kernel picture, in colour-scale order. A window reaching over the edge
# multiplies zero padding: still one MAC each, so those cells are tinted like the read ones.
PADDING, UNREAD, PADDING_READ, READ, OUTPUT = range(5)
PADDING_COLOR, UNREAD_COLOR = "#f2f2f2", "#cfd4da"
RATIO_KERNELS = (3, 5, 7)
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)
KERNEL_COLORS = {1: "#9e9e9e", 3: "#1f77b4", 5: "#ff7f0e", 7: "#2ca02c", 9: "#9467bd", 11: "#8c564b"}
# (from, divide by, unit, decimals): 9,999 stays exact, 10,000 becomes 10.0 k
SHORT_UNITS = ((1e12, 1e12, "T", 2), (1e9, 1e9, "G", 2), (1e6, 1e6, "M", 2), (1e4, 1e3, "k", 1))


def count(n: int) -> str:
    """A count short enough for a metric tile: 3,456 / 266.8 k / 462.42 M / 2.13 T (formulas show it exactly)."""
    for above, scale, unit, digits in SHORT_UNITS:
        if n >= above:
            return f"{n / scale:,.{digits}f} {unit}"
    return f"{n:,}"


def fewer(ratio: float, _: Translate = english) -> str:
    """'8.8× fewer' for a separable / standard ratio below 1, '1.01× more' above."""
    if ratio <= 1:
        return _("{times}× fewer", times=f"{1 / ratio:.1f}")
    return _("{times}× more", times=f"{ratio:.2f}")


# ----- what each kernel reads --------------------------------------------------------------


@dataclass(frozen=True)
class _KernelRow:
    title: str
    conv: ConvCost
    in_height: int  # the map this conv reads
    in_width: int
    reads_all_channels: bool  # False: a depthwise filter reads one channel
    color: str


def _span(size: int, window: int) -> tuple[int, int, int]:
    """(first, last, window start) rows of the patch drawn around a window centred on the map.

    The patch is the window plus one row of context each side where the map has it;
    rows outside ``0..size-1`` are "same" zero padding.
    """
    start = (size - 1) // 2 - window // 2
    first = min(start, max(start - 1, 0))
    last = max(start + window - 1, min(start + window, size - 1))
    return first, last, start


def _channels_shown(chs: int, cap: int) -> list[int]:
    """Channel indices to draw: all of them, or the first ``cap - 1`` and the last."""
    return list(range(chs)) if chs <= cap else [*range(cap - 1), chs - 1]


def _kernel_rows(layer: OneLayer, _: Translate = english) -> list[_KernelRow]:
    k, m = layer.kernel, f"{layer.in_chs:,}"
    std, dw, pw = layer.standard, layer.depthwise, layer.pointwise
    each = lambda conv: dict(macs=f"{conv.macs_per_output:,}", outputs=f"{conv.outputs:,}")  # noqa: E731
    return [
        _KernelRow(
            _(
                "<b>Standard {k}×{k} conv</b>: a {k}×{k} window in all {m} input channels "
                "= {macs} MACs per output value × {outputs} outputs",
                k=k,
                m=m,
                **each(std),
            ),
            std,
            layer.height,
            layer.width,
            True,
            KIND_COLORS["standard"],
        ),
        _KernelRow(
            _(
                "<b>Depthwise {k}×{k}</b>: a {k}×{k} window in one channel only "
                "= {macs} MACs per output value × {outputs} outputs",
                k=k,
                **each(dw),
            ),
            dw,
            layer.height,
            layer.width,
            False,
            KIND_COLORS["depthwise"],
        ),
        _KernelRow(
            _(
                "<b>Pointwise 1×1</b>: one pixel in all {m} channels "
                "= {macs} MACs per output value × {outputs} outputs",
                m=m,
                **each(pw),
            ),
            pw,
            layer.out_height,
            layer.out_width,
            True,
            KIND_COLORS["pointwise"],
        ),
    ]


def _row_grid(row: _KernelRow, channels: list[int], chs: int, _: Translate = english):
    """(z, hover text, x centres of the channel squares, x of the gap before the output) for one row."""
    (r0, r1, rs), (c0, c1, cs) = _span(row.in_height, row.conv.kernel), _span(row.in_width, row.conv.kernel)
    h, w = r1 - r0 + 1, c1 - c0 + 1
    truncated = len(channels) < chs
    cols = len(channels) * (w + 1) + truncated * 2 + 3  # squares, "…" gap, arrow gap, output cell
    z = np.full((h, cols), np.nan)
    text = np.full((h, cols), "", dtype=object)
    centres = []
    x = 0
    read_text, unread_text = _("read by this output value"), _("not read by this output value")
    padding_text, padding_read_text = _("zero padding"), _("multiplied all the same: one MAC")
    for i, ch in enumerate(channels):
        if truncated and i == len(channels) - 1:
            x += 2  # room for the "…"
        reads = row.reads_all_channels or ch == 0
        for r in range(h):
            for c in range(w):
                y_in, x_in = r0 + r, c0 + c
                where = _(
                    "input channel {channel} of {channels}, pixel (row {row}, column {column})",
                    channel=f"{ch + 1:,}",
                    channels=f"{chs:,}",
                    row=y_in + 1,
                    column=x_in + 1,
                )
                inside = 0 <= y_in < row.in_height and 0 <= x_in < row.in_width
                read = reads and rs <= y_in < rs + row.conv.kernel and cs <= x_in < cs + row.conv.kernel
                if inside:
                    z[r, x + c] = READ if read else UNREAD
                    text[r, x + c] = f"{where}<br>{read_text if read else unread_text}"
                else:
                    z[r, x + c] = PADDING_READ if read else PADDING
                    text[r, x + c] = padding_text + (f"<br>{padding_read_text}" if read else "")
        centres.append(x + (w - 1) / 2)
        x += w + 1
    out_row = (rs - r0) + row.conv.kernel // 2  # level with the window's centre
    z[out_row, cols - 1] = OUTPUT
    text[out_row, cols - 1] = _(
        "the one output value (channel 1 of {channels}):<br>{macs} multiply-accumulates",
        channels=f"{row.conv.out_chs:,}",
        macs=f"{row.conv.macs_per_output:,}",
    )
    return z, text, centres, x


def _colorscale(read_color: str) -> list:
    r, g, b = (int(read_color[i : i + 2], 16) for i in (1, 3, 5))
    colors = [PADDING_COLOR, UNREAD_COLOR, f"rgba({r}, {g}, {b}, 0.35)", read_color, read_color]
    scale = []
    for i, color in enumerate(colors):
        scale += [[i / len(colors), color], [(i + 1) / len(colors), color]]
    return scale


def kernel_figure(layer: OneLayer, max_channels: int = 8, _: Translate = english) -> go.Figure:
    """What each kernel reads for ONE output value, one row of channel squares per convolution.

    Each square is a patch of one input channel around the window (grey: not read, colour:
    read, pale: zero padding, tinted where the window multiplies it); every coloured cell
    is one MAC. At most ``max_channels`` channels are drawn (the first ones and the last).
    The cell on the right is the single output value they produce.
    """
    rows = _kernel_rows(layer, _)
    fig = make_subplots(rows=len(rows), cols=1, subplot_titles=[r.title for r in rows], vertical_spacing=0.12)
    fig.update_annotations(font_size=15)  # the subplot titles
    channels = _channels_shown(layer.in_chs, max_channels)
    grids = [_row_grid(r, channels, layer.in_chs, _) for r in rows]
    width = max(z.shape[1] for z, *_rest in grids)
    height = max(z.shape[0] for z, *_rest in grids)
    notes = list(fig.layout.annotations)  # added in one go: plotly validates the whole layout per add_annotation
    for i, (row, (z, text, centres, gap)) in enumerate(zip(rows, grids), start=1):
        fig.add_heatmap(
            z=z,
            text=text,
            hovertemplate="%{text}<extra></extra>",
            hoverongaps=False,
            showscale=False,
            colorscale=_colorscale(row.color),
            zmin=PADDING - 0.5,
            zmax=OUTPUT + 0.5,
            xgap=2,
            ygap=2,
            row=i,
            col=1,
        )
        axes = dict(xref=f"x{i if i > 1 else ''}", yref=f"y{i if i > 1 else ''}", showarrow=False)
        notes += [
            dict(
                x=x,
                y=z.shape[0] - 0.5,
                yanchor="top",
                text=_("ch {channel}", channel=f"{ch + 1:,}"),
                font=dict(size=13),
                **axes,
            )
            for x, ch in zip(centres, channels)
        ]
        if len(channels) < layer.in_chs:
            middle = centres[-2] + (centres[-1] - centres[-2]) / 2
            notes.append(dict(x=middle, y=(z.shape[0] - 1) / 2, text="<b>…</b>", font=dict(size=22), **axes))
        notes.append(dict(x=gap, y=(z.shape[0] - 1) / 2, text="<b>→</b>", font=dict(size=24), **axes))
        fig.update_xaxes(range=[-0.5, width - 0.5], visible=False, row=i, col=1)
        fig.update_yaxes(
            range=[height + 0.3, -0.5],
            visible=False,
            scaleanchor=f"x{i if i > 1 else ''}",
            constrain="domain",
            row=i,
            col=1,
        )
    if len(channels) == layer.in_chs:
        title = _(
            "What one output value reads (all {channels} input channels drawn; hover a cell)",
            channels=f"{layer.in_chs:,}",
        )
    else:
        title = _(
            "What one output value reads ({shown} of {channels} input channels drawn; hover a cell)",
            shown=len(channels),
            channels=f"{layer.in_chs:,}",
        )
    fig.update_layout(
        annotations=notes,
        title=dict(text=title, font_size=17),
        height=int(min(900, max(480, 3 * (height + 2) * 1100 / max(width, 1) + 200))),
        margin=dict(l=10, r=10, t=80, b=10),
        plot_bgcolor="white",
    )
    return fig


# ----- how the ratio moves -----------------------------------------------------------------


def _log_range(low: int, high: int, points: int = 120) -> list[int]:
    return sorted({round(v) for v in np.geomspace(low, high, points)})


def ratio_figure(layer: OneLayer, kernels: tuple[int, ...] = RATIO_KERNELS, _: Translate = english) -> go.Figure:
    """Separable / standard MACs against N (log axis, 1..2048) for a few K, and against K at this N.

    Each point is priced by :class:`OneLayer` (it equals 1/N + 1/K²); the dotted lines are
    the limits 1/K² that no number of output channels gets below.
    """
    ratio = lambda **change: float(replace(layer, **change).macs_ratio)  # noqa: E731
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.62, 0.38],
        horizontal_spacing=0.1,
        subplot_titles=[
            _("against output channels N"),
            _("against kernel size K (N = {n})", n=f"{layer.out_chs:,}"),
        ],
    )
    n_max = max(2048, layer.out_chs)
    ns = _log_range(1, n_max)
    notes = list(fig.layout.annotations)  # set in one go: plotly validates the whole layout per add_annotation
    saves = _("ratio %{y:.4f}: %{customdata} MACs")  # a Plotly template: its fields are Plotly's
    for k in sorted({*kernels, layer.kernel}):
        color = KERNEL_COLORS[k]
        ys = [ratio(out_chs=n, kernel=k) for n in ns]
        fig.add_scatter(
            x=ns,
            y=ys,
            mode="lines",
            name=f"K = {k}",
            line=dict(color=color, width=3),
            customdata=[fewer(y, _) for y in ys],
            legendgroup=f"k{k}",
            row=1,
            col=1,
            hovertemplate=f"K = {k}, N = %{{x:,}}<br>{saves}<extra></extra>",
        )
        fig.add_scatter(
            x=[1, n_max],
            y=[1 / k**2] * 2,
            mode="lines",
            line=dict(color=color, width=1, dash="dot"),
            name=_("limit 1/{k}² = {value}", k=k, value=f"{1 / k**2:.3f}"),
            legendgroup=f"k{k}",
            showlegend=False,
            row=1,
            col=1,
            hovertemplate=_(
                "limit for K = {k}: 1/{k}² = {value} (at most {times}× fewer MACs)",
                k=k,
                value=f"{1 / k**2:.4f}",
                times=k * k,
            )
            + "<extra></extra>",
        )
        notes.append(
            dict(
                x=math.log10(n_max),
                y=math.log10(1 / k**2),
                xref="x",
                yref="y",
                text=f"1/{k * k}",
                showarrow=False,
                xanchor="left",
                font=dict(color=color, size=13),
            )
        )
    kernel_limit = LIMITS["kernel"]
    ks = list(range(kernel_limit.low, kernel_limit.high + 1, 2))
    ys = [ratio(kernel=k) for k in ks]
    fig.add_scatter(
        x=ks,
        y=ys,
        mode="lines+markers",
        name=f"N = {layer.out_chs:,}",
        customdata=[fewer(y, _) for y in ys],
        line=dict(color="#444", width=3),
        marker=dict(size=9),
        row=1,
        col=2,
        hovertemplate=f"K = %{{x}}<br>{saves}<extra></extra>",
    )
    here = float(layer.macs_ratio)
    for col, x in ((1, layer.out_chs), (2, layer.kernel)):
        fig.add_scatter(
            x=[x],
            y=[here],
            mode="markers",
            name=_("this layer"),
            showlegend=col == 1,
            marker=dict(size=16, color="black", symbol="star"),
            legendgroup="here",
            row=1,
            col=col,
            hovertemplate=_(
                "this layer: N = {n}, K = {k}<br>ratio {ratio}: {fewer} MACs",
                n=f"{layer.out_chs:,}",
                k=layer.kernel,
                ratio=f"{here:.4f}",
                fewer=fewer(here, _),
            )
            + "<extra></extra>",
        )
    low = min(RATIO_TICKS[0], 1 / kernel_limit.high**2)
    fig.update_yaxes(
        type="log",
        range=[math.log10(low * 0.8), math.log10(2.2)],
        tickvals=RATIO_TICKS,
        ticktext=[f"{t:g}" for t in RATIO_TICKS],
    )
    fig.update_yaxes(title_text=_("separable MACs / standard MACs"), row=1, col=1)
    fig.update_xaxes(type="log", title_text=_("output channels N (log scale)"), row=1, col=1)
    fig.update_xaxes(tickvals=ks, title_text=_("kernel size K"), row=1, col=2)
    one = dict(type="line", y0=1, y1=1, x0=0, x1=1, line=dict(color="gray", width=1))  # ratio 1: no saving
    fig.update_layout(
        annotations=notes,
        shapes=[dict(one, xref="x domain", yref="y"), dict(one, xref="x2 domain", yref="y2")],
        title=dict(
            text=_("How much depthwise + pointwise saves: 1/N + 1/K² (lower is cheaper; above 1 it costs more)"),
            font_size=17,
        ),
        height=430,
        margin=dict(l=10, r=10, t=80, b=10),
        legend=dict(orientation="h", y=-0.22),
    )
    return fig


# ----- the formulas --------------------------------------------------------------------------


def _num(n: int) -> str:
    """An integer with KaTeX thousands separators: 462{,}422{,}016."""
    return f"{n:,}".replace(",", "{,}")


def _product(*factors: int) -> str:
    return r" \cdot ".join(map(str, factors))


def latex_formulas(layer: OneLayer, _: Translate = english) -> dict[str, str]:
    """The paper's cost formulas, symbolic and with this layer's numbers, keyed by what they count.

    Symbols as in the MobileNet paper: D_K kernel, M input and N output channels; the
    output map is H_out x W_out (the paper's D_F x D_F at stride 1). The words in ``\\text{}`` are translated
    by ``_``; the keys stay English.
    """
    k, m, n, ho, wo = layer.kernel, layer.in_chs, layer.out_chs, layer.out_height, layer.out_width
    std, dw, pw = layer.standard, layer.depthwise, layer.pointwise
    out = r"H_{out} \cdot W_{out}"
    ratio = layer.macs_ratio
    standard, separable, weights = _("standard"), _("depthwise + pointwise"), _("weights")

    def aligned(name: str, symbols: str, numbers: str, result: str) -> str:
        return (
            rf"\begin{{aligned}} \text{{{name}}} &= {symbols} \\ &= {numbers} \\ &= {result} "
            r"\end{aligned}"
        )

    return {
        "standard MACs": aligned(
            standard,
            rf"D_K \cdot D_K \cdot M \cdot N \cdot {out}",
            _product(k, k, m, n, ho, wo),
            rf"{_num(std.macs)} \text{{ MACs}}",
        ),
        "separable MACs": aligned(
            separable,
            rf"D_K \cdot D_K \cdot M \cdot {out} + M \cdot N \cdot {out}",
            f"{_product(k, k, m, ho, wo)} + {_product(m, n, ho, wo)}",
            rf"{_num(dw.macs)} + {_num(pw.macs)} = {_num(layer.separable_macs)} \text{{ MACs}}",
        ),
        "ratio": (
            rf"\frac{{\text{{{separable}}}}}{{\text{{{standard}}}}} = \frac{{1}}{{N}} + \frac{{1}}{{D_K^2}} = "
            rf"\frac{{1}}{{{n}}} + \frac{{1}}{{{k * k}}} = \frac{{{_num(ratio.numerator)}}}"
            rf"{{{_num(ratio.denominator)}}} \approx {float(ratio):.4f}"
        ),
        "standard params": aligned(
            standard, r"D_K \cdot D_K \cdot M \cdot N", _product(k, k, m, n), rf"{_num(std.params)} \text{{ {weights}}}"
        ),
        "separable params": aligned(
            separable,
            r"D_K \cdot D_K \cdot M + M \cdot N",
            f"{_product(k, k, m)} + {_product(m, n)}",
            rf"{_num(dw.params)} + {_num(pw.params)} = {_num(layer.separable_params)} "
            rf"\text{{ {weights}}}",
        ),
    }
