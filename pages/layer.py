"""One layer: a standard convolution against depthwise + pointwise, formulas with the numbers filled in."""

from dataclasses import asdict

import streamlit as st

from lwviz.cost.one_layer import LIMITS, OneLayer
from lwviz.plan import resolve
from lwviz.ui.language import _, error_text
from lwviz.ui.presenter import chart
from lwviz.ui.state import current_spec
from lwviz.viz.layer_figures import count, fewer, kernel_figure, latex_formulas, ratio_figure

spec = current_spec()
PAPER = "paper"  # the MobileNet paper's worked example


def _block_layers() -> dict[str, OneLayer]:
    """Each block of the design as one conv (its channels, kernel, input size and stride), as on the Build page."""
    layers = {}
    for b in resolve(spec).blocks:
        try:
            layers[b.name] = OneLayer(b.in_chs, b.out_chs, b.kernel, b.in_size, b.in_size, b.stride)
        except ValueError:
            pass  # a hand-written spec beyond this page's ranges: not offered
    return layers


choices = {PAPER: OneLayer(in_chs=512, out_chs=512, kernel=3, height=14, width=14), **_block_layers()}


def _describe(choice: str) -> str:
    c = choices[choice]
    shape = dict(m=c.in_chs, n=c.out_chs, k=c.kernel, h=c.height, w=c.width, s=c.stride)
    if choice == PAPER:
        return _("MobileNet paper's example: {m} → {n} channels, {k}×{k}, {h}×{w}, stride {s}", **shape)
    return _(
        "{design} {block}: {m} → {n} channels, {k}×{k}, {h}×{w}, stride {s}", design=spec.name, block=choice, **shape
    )


def _widget_values(layer: OneLayer) -> dict:
    return {f"layer_{field}": value for field, value in asdict(layer).items()}


def _fill_from_source() -> None:
    """The chosen layer's numbers into the controls; a label the browser kept from the other language (right
    after a language switch) is no choice and changes nothing."""
    if (layer := choices.get(st.session_state.layer_source)) is not None:
        st.session_state.update(_widget_values(layer))


st.title(_("One layer: standard vs depthwise-separable convolution"))
st.markdown(
    _(
        "A standard convolution mixes space and channels in one dense K×K filter per output channel. "
        "MobileNet splits it in two: a **depthwise** K×K filter per input channel (space), then a "
        "**pointwise** 1×1 convolution (channels). Change the layer and watch both costs."
    )
)

for key, value in _widget_values(choices[PAPER]).items():  # first run: the paper's example
    st.session_state.setdefault(key, value)
st.selectbox(
    _("Start from an example or a block"),
    list(choices),
    key="layer_source",
    format_func=_describe,
    on_change=_fill_from_source,
    help=_(
        "The paper's worked example, or a block of the current design (its input and output channels, "
        "kernel, input size and stride)."
    ),
)
values = {}
for col, (field, limit) in zip(st.columns(len(LIMITS)), LIMITS.items()):
    values[field] = col.number_input(
        _(limit.label),
        min_value=limit.low,
        max_value=limit.high,
        step=2 if limit.odd else 1,
        key=f"layer_{field}",
        help=_("{low}..{high}, odd", low=limit.low, high=limit.high) if limit.odd else f"{limit.low}..{limit.high}",
    )
try:
    layer = OneLayer(**values)
except ValueError as exc:
    st.error(error_text(exc))
    st.stop()

std = layer.standard
saving = dict(delta_color="off", delta_arrow="off")  # "8.8× fewer" under each separable cost
cols = st.columns(4)
cols[0].metric(_("Standard params"), count(std.params))
cols[1].metric(_("Standard MACs"), count(std.macs))
cols[2].metric(_("Separable params"), count(layer.separable_params), fewer(float(layer.params_ratio), _), **saving)
cols[3].metric(_("Separable MACs"), count(layer.separable_macs), fewer(float(layer.macs_ratio), _), **saving)
st.caption(
    _(
        'Output {chs} × {out_h} × {out_w} ("same" padding: ⌈{h}/{s}⌉ × ⌈{w}/{s}⌉). Params are conv weights only, '
        "no bias or batch norm; MACs are multiply-accumulates (FLOPs = 2 × MACs).",
        chs=f"{layer.out_chs:,}",
        out_h=layer.out_height,
        out_w=layer.out_width,
        h=layer.height,
        w=layer.width,
        s=layer.stride,
    )
)

formulas = latex_formulas(layer, _)
st.subheader(_("Multiply-accumulates"))
st.latex(formulas["standard MACs"])
st.latex(formulas["separable MACs"])
st.latex(formulas["ratio"])
st.subheader(_("Weights"))
st.latex(formulas["standard params"])
st.latex(formulas["separable params"])

chart(kernel_figure(layer, _=_), width="stretch")
st.caption(
    _(
        "Every coloured cell is one multiply-accumulate for that single output value, and the layer repeats it "
        "for every output value. Pale cells are zero padding; where the window reaches over the edge it still "
        "multiplies them (tinted), so they still count."
    )
)
chart(ratio_figure(layer, _=_), width="stretch")
st.caption(
    _(
        "The ratio does not depend on M, H, W or the stride: both costs scale with them alike. Adding output "
        "channels drives it down towards 1/K², so a 3×3 layer saves at most 9×. A 1×1 layer saves nothing: "
        "splitting it only adds a depthwise 1×1 scaling."
    )
)
