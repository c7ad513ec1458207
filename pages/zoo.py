"""Zoo page: every preset and two dense classics, accuracy against MACs and against measured latency."""

import time

import streamlit as st

from lwviz.i18n import N_, said
from lwviz.limits import TIMED_RUNS
from lwviz.timing import thread_words
from lwviz.ui.cache import timing_lock, zoo_macs_figure
from lwviz.ui.jobs import turn
from lwviz.ui.language import _, translated_frame
from lwviz.ui.presenter import chart
from lwviz.ui.state import current_spec
from lwviz.viz.zoo_charts import latency_figure
from lwviz.zoo import latency_column, latency_lessons, measure_zoo, thread_counts, zoo_entries, zoo_frame

DEFAULT_RUNS = 5  # plus one warm-up pass: enough for a stable median, short enough to wait for in class
spec = current_spec()

st.title(_("Zoo"))
st.markdown(
    _(
        "Every lightweight network in lwviz beside two standard-convolution classics, ResNet-18 and VGG-16. "
        "Up and to the left is better: more accurate for less. The dashed line is the **Pareto front**, the "
        "networks that nothing else beats on both counts."
    )
)
with st.spinner(_("Pricing the networks…")):
    entries = zoo_entries()
table = st.container()
chart(zoo_macs_figure(st.session_state.lang), width="stretch")
st.caption(
    _(
        "Top-1 is ImageNet-1K accuracy of torchvision's IMAGENET1K_V1 weights (their metadata, no download), or "
        "the published figure where torchvision has no weights (source in the table). MACs are counted from the "
        "design for lwviz's presets and traced from a forward pass for ResNet-18 and VGG-16."
    )
)

st.subheader(_("Measured speed on this machine"))
threads = thread_counts()
runs_col, button_col = st.columns([1, 3], vertical_alignment="bottom")
runs = runs_col.number_input(
    _("Timed runs per network"),
    1,
    TIMED_RUNS,
    DEFAULT_RUNS,
    key="zoo_runs",
    help=_("After one warm-up pass; the median is shown."),
)
if button_col.button(_("Measure latency on this machine"), type="primary", icon=":material/timer:", key="zoo_measure"):
    with turn(N_("Zoo timing")):
        bar = st.progress(0.0, text=_("Starting…"))

        def show_progress(done: float, name: str) -> None:
            bar.progress(done, text=_("Timing {name}…", name=name) if name else _("Done"))

        start = time.perf_counter()
        with timing_lock():
            latency = measure_zoo(entries, runs, threads, progress=show_progress)
        st.session_state.zoo_latency = dict(latency=latency, runs=runs, seconds=time.perf_counter() - start)
        bar.empty()
st.caption(
    _(
        "Randomly initialized models, batch 1, each at the input size of its top-1 (224×224; MobileNetV4-Conv-M "
        "256×256; EfficientNetV2-S 384×384), float32, eval mode: speed does not depend on what the weights are. "
        "Each network is timed "
        "with 1 thread and with all {threads} threads of this machine. "
        "Anything else running (a browser, a webcam page) slows the numbers down.",
        threads=threads[-1],
    )
)

measured = st.session_state.get("zoo_latency")
latency_words = {latency_column(t): _("ms, {threads}", threads=thread_words(t, _)) for t in threads}
table.dataframe(
    translated_frame(zoo_frame(entries, measured["latency"] if measured else None, _)).rename(columns=latency_words),
    hide_index=True,
    width="stretch",
    column_config={
        _("params"): st.column_config.NumberColumn(format="compact"),
        _("MACs"): st.column_config.NumberColumn(format="compact"),
        _("top-1 %"): st.column_config.NumberColumn(format="%.1f"),
        **{words: st.column_config.NumberColumn(format="%.1f") for words in latency_words.values()},
    },
)

if measured:
    st.caption(
        _(
            "Measured {count} networks in {seconds} s ({runs} each).",
            count=len(measured["latency"]),
            seconds=f"{measured['seconds']:.0f}",
            runs=_("1 timed run") if measured["runs"] == 1 else _("{n} timed runs", n=measured["runs"]),
        )
    )
    shown = st.segmented_control(
        _("Threads"),
        threads,
        default=1,
        required=True,
        key="zoo_threads",
        format_func=lambda t: _("1 thread") if t == 1 else _("all {n} threads", n=t),
    )
    chart(latency_figure(entries, measured["latency"], shown, _), width="stretch")
    for lesson in latency_lessons(entries, measured["latency"], shown):
        st.markdown(f"- {said(lesson, _)}")
else:
    st.info(
        _("Press **Measure latency on this machine** to time every network here and plot accuracy against real speed."),
        icon=":material/timer:",
    )
