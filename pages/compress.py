"""Compress: one network made smaller every way there is, with size, speed and accuracy measured side by side."""

import streamlit as st

from lwviz.compress.qat import QAT_STEPS
from lwviz.compress.variants import KEEP, SPARSITIES
from lwviz.networks import READY, TRAINED
from lwviz.ui.compressing import distillation_note, measured_rows, rows_table, subject
from lwviz.ui.language import _, plain
from lwviz.ui.network_picker import pick_network
from lwviz.ui.presenter import chart, more_controls
from lwviz.ui.state import current_spec, set_spec
from lwviz.viz.compress_charts import variants_figure

spec = current_spec()
st.title(_("Compress"))
st.markdown(
    _(
        "Make a network smaller still, and see what it costs. **int8 quantization** stores each weight in one "
        "byte instead of four and computes in integers. **Pruning** either zeroes the smallest weights "
        "(unstructured) or removes whole channels (structured). Every variant is a copy, measured the same "
        "way on this laptop."
    )
)

net = pick_network(
    "compress",
    spec,
    (TRAINED, READY),  # trained here first: its accuracy can be measured
    help=_("Train your design on the Train page to compress it with its accuracy measured."),
)
if net is None:
    st.stop()
with more_controls():  # in presenter mode, behind one expander
    sparsity_col, keep_col = st.columns(2)
    sparsities = sparsity_col.multiselect(
        _("Unstructured: share of weights zeroed"),
        [0.3, 0.5, 0.7, 0.8, 0.9, 0.95],
        default=list(SPARSITIES),
        format_func="{:.0%}".format,
        key="compress_sparsity",
    )
    keep = keep_col.slider(
        _("Structured: share of channels kept"),
        0.25,
        0.9,
        KEEP,
        0.05,
        key="compress_keep",
        help=_(
            "Expansion channels of inverted-residual blocks and the head's channels, the least "
            "important (smallest L1 norm) removed first."
        ),
    )
target = subject(net)
qat = target.data is not None and st.toggle(
    _("Also quantization-aware training ({steps} steps)", steps=QAT_STEPS),
    key="compress_qat",
    help=_(
        "int8 static rounds the trained network as it is. Quantization-aware training first fine-tunes a copy with "
        "int8 rounding simulated in every layer, so the weights learn to live with it; it needs the training "
        "pictures and takes 10 to 60 seconds more."
    ),
)
rows = measured_rows(target, tuple(sorted(sparsities)), keep, qat)
if rows is None:
    st.stop()

st.dataframe(rows_table(rows, target.score_label, _), hide_index=True, width="stretch")
chart(variants_figure(rows, target.score_label, _), width="stretch", key="compress_chart")
st.caption(
    _(
        "{score} Latency: median of 20 runs after a warm-up, batch 1, one thread; int8 "
        "variants run as one traced TorchScript graph, as the app runs them. Pruned "
        "variants have their batch-norm statistics re-estimated on unlabeled pictures (no training).",
        score=plain(target.score_help),
    )
)
st.markdown(
    _(
        "**What to notice.** int8 static makes the file about 4× smaller. Dynamic quantization only touches "
        "Linear layers, which hold little of a CNN. Zeroed weights leave the file, the MACs and the time "
        "unchanged: a dense file stores zeros and a dense convolution multiplies by them, only the zipped "
        "file shrinks. Removing channels makes the network itself smaller and faster; accuracy pays for it "
        "until the network is fine-tuned."
    )
)
if qat:
    st.markdown(
        _(
            "**int8 QAT** is int8 after a short fine-tune with the rounding inside every layer: the weights "
            "learn to live with it. It pays off where post-training int8 loses accuracy (narrow layers, hard "
            "pictures); where int8 static already matches float there is little left to win."
        )
    )
if target.extra:
    st.markdown(distillation_note(rows, _))
if (pruned := target.pruned_spec(keep)) is not None:
    if st.button(
        _("Open the channel-pruned design ({name}) on the Build page", name=plain(pruned.name)),
        key="compress_open",
        icon=":material/construction:",
    ):
        set_spec(pruned)
        st.switch_page("pages/build.py")
