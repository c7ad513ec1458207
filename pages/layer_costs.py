"""Per-layer cost of a preset network against its standard-convolution version."""
import streamlit as st

from lwviz.presets import PRESETS
from lwviz.ui.cache import cost_table
from lwviz.ui.state import plain

st.title("What every layer costs")
st.caption("Analytic parameters and multiply-accumulates (MACs) of each layer, computed from the network's "
           "spec without running it, beside the same layer built as one dense K×K convolution.")

cols = st.columns([2, 1, 1])
name = cols[0].selectbox("Network", list(PRESETS), index=list(PRESETS).index("mobilenet_v2"),
                         format_func=lambda n: f"{n} — {PRESETS[n].summary.split(':')[0]}")
width = cols[1].select_slider("Width multiplier", [0.25, 0.35, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0], value=1.0)
resolution = cols[2].select_slider("Input resolution", list(range(96, 321, 32)), value=224)

try:
    table = cost_table(PRESETS[name].spec.with_(width=width, resolution=resolution).validate())
except ValueError as exc:
    st.error(plain(str(exc)))
    st.stop()

m = st.columns(4)
m[0].metric("Parameters", f"{table.params / 1e6:.2f} M",
            f"{table.params / table.baseline_params:.2f}× the standard-conv version", delta_color="off")
m[1].metric("MACs", f"{table.macs / 1e6:.1f} M",
            f"{table.macs / table.baseline_macs:.2f}× the standard-conv version", delta_color="off")
m[2].metric("FLOPs (2 × MACs)", f"{table.flops / 1e6:.1f} M")
m[3].metric("Peak activation memory", f"{table.peak_memory / 2**20:.2f} MiB")
count = st.column_config.NumberColumn(format="localized")
st.dataframe(table.to_frame(), hide_index=True, width="stretch",
             column_config={c: count for c in ("params", "MACs", "elementwise ops", "output bytes", "std-conv params",
                                               "std-conv MACs")})
st.caption("The standard-conv version of a block is one dense K×K convolution with the block's input and output "
           "channels. Depthwise-separable blocks are 8-9× cheaper than that; inverted residuals can cost *more*, "
           "because they expand to 6× wider channels inside the block, where the dense conv never goes.")
st.caption("MACs count convolution and linear multiply-accumulates (bias excluded), as torchvision and the papers "
           "do; batch norm, activations, residual adds, SE scaling and pooling are counted as elementwise ops.")
