"""Build page: a network from sliders, and what every layer costs against a standard convolution."""

import streamlit as st

from lwviz.builder import build
from lwviz.cost.latency import time_layers
from lwviz.export import ExportError, to_onnx
from lwviz.families import FAMILIES
from lwviz.i18n import N_
from lwviz.layers.activations import ACTIVATION_LABELS
from lwviz.limits import TIMED_RUNS, TIMING_SECONDS, DesignTooLarge, check_runnable
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import KNOBS
from lwviz.timing import thread_words
from lwviz.ui.cache import cost_figures, cost_table, timing_lock
from lwviz.ui.code_view import code_view
from lwviz.ui.jobs import turn
from lwviz.ui.language import _, error_text, translated_frame
from lwviz.ui.presenter import chart, more_controls
from lwviz.ui.reparam import reparam_view
from lwviz.ui.stage_table import column_config, stage_frame, with_stage_rows
from lwviz.ui.state import choice_options, current_spec, set_spec, slider_range
from lwviz.viz.cost_charts import baseline_words
from lwviz.viz.diagram import network_dot
from lwviz.viz.latency_charts import macs_vs_time_figure, ms_per_gmac_figure, time_share_figure
from lwviz.zoo import thread_counts

VIEWS = {
    "costs": N_("Cost per layer"),
    "diagram": N_("Network diagram"),
    "speed": N_("Measured latency"),
    "table": N_("Table and downloads"),
    "code": N_("Code"),
}
AS_PRESET = N_("as in the preset")  # a widget value meaning "no override" (None shows as an empty box)
spec = current_spec()

st.title(_("Build a lightweight network"))


def _knob_values(design):
    """Widget values showing ``design``'s global knobs."""
    return {f"knob_{k}": AS_PRESET if getattr(design, k) is None else getattr(design, k) for k in KNOBS}


def _show(design):
    """Point every control at ``design``: the knobs, the preset box, and a fresh stage table seeded from it."""
    version = st.session_state.get("controls_seed", (-1, None))[0] + 1
    st.session_state.controls_seed = (version, design)
    st.session_state.update(_knob_values(design), knob_preset=design.name if design.name in PRESETS else None)


def _reset_knobs():
    _show(get_preset(st.session_state.knob_preset))


def _in_words(describe=str):
    """A selectbox ``format_func``: "as in the preset" in words, every other option through ``describe``."""
    return lambda value: _(AS_PRESET) if value == AS_PRESET else describe(value)


def _family_words(block: str) -> str:
    return _(FAMILIES[block].label)


def _se_words(ratio: float) -> str:
    return _("off") if ratio == 0 else _("on, ratio {ratio}", ratio=ratio)


def _knob_options(knob: str) -> list:
    """A knob's choices: "as in the preset", then the usual values widened to hold the seed's own."""
    return [AS_PRESET, *choice_options(knob, getattr(seed, knob))]


def _chart_words(metric: str) -> str:
    return _("MACs") if metric == "MACs" else _("Parameters")


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


# The controls show the session's design on a first visit, after a link or another page changed it, and after a
# visit elsewhere (Streamlit forgets the widgets a page did not draw): never the other way round.
if st.session_state.get("build_showed") != spec or any(k not in st.session_state for k in _knob_values(spec)):
    _show(spec)
# The stage table starts from the seed's stages and is re-seeded when the preset changes; its edits are the base
# that the global knobs then change. Widget ranges widen to fit the seed (a link may hold any valid value) and
# stay put while the knobs move: a slider whose range changes would jump to its minimum.
# The table is drawn only while open: sending and laying it out was a sixth of every slider step. Closing it ends
# its widget, edits and all, so the design they made becomes the next seed.
stage_box = st.expander(
    _("Edit the stages one by one"), icon=":material/table_edit:", key="build_stages", on_change="rerun"
)
if st.session_state.get("build_stages_drawn") and not stage_box.open:
    _show(spec)
st.session_state.build_stages_drawn = stage_box.open
version, seed = st.session_state.controls_seed
base = seed
if stage_box.open:
    with stage_box:
        st.caption(
            _(
                "One row per stage: its first block has the stride and changes the channels; the other "
                "repeats keep them. The global controls override these columns when set."
            )
        )
        rows = st.data_editor(
            stage_frame(seed),
            key=f"stage_editor_{version}",
            num_rows="dynamic",
            column_config=column_config(),
            width="stretch",
        )
        try:
            base = with_stage_rows(seed, rows)
        except ValueError as exc:
            st.error(_("{problem}. Showing the last valid design.", problem=error_text(exc)))
            base = spec
controls, results = st.columns([1, 3], gap="large")


with controls:
    st.selectbox(
        _("Start from"),
        list(PRESETS),
        on_change=_reset_knobs,
        key="knob_preset",
        placeholder=_("{name} (not a preset)", name=spec.name),
        help=_("A published network; every control below changes it."),
    )
    changes = dict(
        block=st.selectbox(
            _("Block type"), [AS_PRESET, *FAMILIES], key="knob_block", format_func=_in_words(_family_words)
        ),
        width=st.slider(
            _("Width multiplier α"),
            **slider_range("width", seed.width),
            key="knob_width",
            help=_("Scales every layer's channels (rounded to a multiple of 8): cost grows as α²."),
        ),
        resolution=st.slider(
            _("Input resolution ρ"),
            **slider_range("resolution", seed.resolution),
            key="knob_resolution",
            help=_("Pixels per side: MACs grow as ρ², parameters do not change."),
        ),
    )
    with more_controls():  # in presenter mode, behind one expander
        changes.update(
            kernel=st.selectbox(
                _("Kernel size"),
                _knob_options("kernel"),
                key="knob_kernel",
                format_func=_in_words(),
            ),
            expand=st.selectbox(
                _("Expansion ratio"),
                _knob_options("expand"),
                key="knob_expand",
                format_func=_in_words(),
                help=_("Inverted residual / MBConv: hidden = input × ratio."),
            ),
            se=st.selectbox(
                _("Squeeze-and-excitation"),
                _knob_options("se"),
                key="knob_se",
                format_func=_in_words(_se_words),
            ),
            act=st.selectbox(
                _("Activation"),
                [AS_PRESET, *ACTIVATION_LABELS],
                key="knob_act",
                format_func=_in_words(lambda act: _(ACTIVATION_LABELS[act])),
            ),
            depth=st.slider(
                _("Depth multiplier"),
                **slider_range("depth", seed.depth),
                key="knob_depth",
                help=_("Blocks per stage = ⌈repeats × depth⌉."),
            ),
        )
    changes = {k: None if v == AS_PRESET else v for k, v in changes.items()}
    try:
        candidate = base.with_(**changes)
        cost_table(candidate)  # checks the whole design
    except ValueError as exc:
        st.error(_("{problem}. Showing the last valid design.", problem=error_text(exc)))
    else:
        if candidate != spec:
            set_spec(candidate)
            spec = candidate
    st.session_state.build_showed = spec

table = cost_table(spec)
preset_table = cost_table(get_preset(spec.name)) if spec.name in PRESETS else table
try:
    check_runnable(table)
    too_big_to_run = None
except DesignTooLarge as exc:  # priced and drawn, but not built here
    too_big_to_run = error_text(exc)

with results:
    headline = [  # (label, shown value, this network, the preset, its dense version, one conv per block)
        (N_("Parameters"), f"{table.params / 1e6:.2f} M", table.params, preset_table.params, table.dense_params,
         table.baseline_params),
        (N_("MACs"), f"{table.macs / 1e6:.1f} M", table.macs, preset_table.macs, table.dense_macs, table.baseline_macs),
        (N_("FLOPs (2 × MACs)"), f"{table.flops / 1e6:.1f} M", table.flops, preset_table.flops, 2 * table.dense_macs,
         2 * table.baseline_macs),
        (N_("Size, fp32"), _mib(4 * table.params), table.params, preset_table.params, table.dense_params,
         table.baseline_params),
        (N_("Size, int8"), _mib(table.params), table.params, preset_table.params, table.dense_params,
         table.baseline_params),
        (N_("Peak activation memory"), _mib(table.peak_memory), table.peak_memory, preset_table.peak_memory,
         table.peak_memory, table.baseline_peak_memory),
    ]  # fmt: skip
    helps = {
        "Size, fp32": N_("4 bytes per parameter."),
        "Size, int8": N_("1 byte per parameter, after int8 quantization."),
        "Peak activation memory": N_(
            "Activations alive at once for one image in float32: the largest input + "
            "output of any one operation, plus the block input a residual keeps."
        ),
    }
    for col, (name, value, mine, preset_value, dense, per_block) in zip(st.columns(3) + st.columns(3), headline):
        delta = _("{change} vs the preset", change=f"{mine / preset_value - 1:+.0%}") if mine != preset_value else None
        col.metric(_(name), value, delta, delta_color="inverse", help=_(helps[name]) if name in helps else None)
        col.caption(baseline_words(mine, dense, per_block, _))
    st.caption(
        _(
            "**Dense version**: the same network with every depthwise and grouped convolution made dense "
            "(groups = 1), which is what depthwise and group convolutions save. **One conv per block**: each block "
            "replaced by one standard K×K convolution from its input to its output channels, which is what the "
            "block's design costs against a plain network; an inverted residual can cost more than that, as it "
            "widens inside the block."
        )
    )
    reparam_view(spec, too_big_to_run)  # MobileOne's two forms side by side, when the design has them
    view = st.segmented_control(
        _("View"),
        list(VIEWS),
        format_func=lambda view: _(VIEWS[view]),
        default="costs",
        required=True,
        key="build_view",
        label_visibility="collapsed",
    )


def cost_view() -> None:
    metric = st.radio(_("Chart"), ["MACs", "parameters"], horizontal=True, key="chart_metric", format_func=_chart_words)
    log = st.toggle(_("Log scale"), key="chart_log", help=_("Small layers become visible next to big ones."))
    per_layer, share, savings = cost_figures(spec, "macs" if metric == "MACs" else "params", log, st.session_state.lang)
    chart(per_layer, width="stretch")
    st.caption(
        _(
            "The standard-conv version of a block is one dense K×K convolution with the block's input and output "
            "channels, kernel and stride. Depthwise-separable blocks cost 1/N + 1/K² of it; inverted residuals can "
            "cost *more*, because they expand to wider channels inside the block, where the dense conv never goes."
        )
    )
    chart(share, width="stretch")
    chart(savings, width="stretch")


def diagram_view() -> None:
    st.caption(
        _(
            "Top to bottom: tensor shapes (channels × height × width) on the arrows; ×n marks n identical blocks; "
            "a dashed loop is a residual connection."
        )
    )
    st.graphviz_chart(network_dot(table, _))


def latency_view() -> None:
    st.markdown(
        _(
            "**FLOPs are not latency.** Time every layer of this network on this machine and compare where the "
            "time goes with where the MACs go."
        )
    )
    measure_col, threads_col, runs_col = st.columns(3, vertical_alignment="bottom")
    measure = measure_col.toggle(
        _("Measure real latency"),
        key="latency_on",
        help=_("Re-measures on every change while on (a fraction of a second for most designs)."),
    )
    threads = threads_col.segmented_control(
        _("Threads"),
        thread_counts(),
        default=1,
        required=True,
        key="latency_threads",
        format_func=lambda t: thread_words(t, _),
    )
    runs = runs_col.number_input(
        _("Timed runs (median)"),
        1,
        TIMED_RUNS,
        5,
        key="latency_runs",
        help=_("At most {seconds} seconds of timed runs: a big design makes fewer.", seconds=f"{TIMING_SECONDS:.0f}"),
    )
    if not measure:
        return
    if too_big_to_run:
        st.warning(_("Not measured: {reason}.", reason=too_big_to_run))
        return
    report = st.session_state.get("latency_report")
    if not (report and (report.spec, report.threads, report.asked) == (spec, threads, runs)):
        with turn(N_("latency timing")):
            bar = st.progress(0.0, text=_("Timing forward passes..."))
            with timing_lock():
                report = time_layers(
                    spec,
                    runs=runs,
                    threads=threads,
                    progress=lambda done, total: bar.progress(
                        done / total, _("Pass {done} of {total}", done=done, total=total)
                    ),
                    max_seconds=TIMING_SECONDS,
                )
            bar.empty()
        st.session_state.latency_report = report
    st.caption(
        _(
            "{threads}, median of {runs} forward passes of a randomly initialized model: {ms} ms per image, "
            "measured in {seconds} s.",
            threads=thread_words(report.threads, _),
            runs=report.runs,
            ms=f"{report.ms:.1f}",
            seconds=f"{report.seconds:.1f}",
        )
    )
    chart(time_share_figure(report, _), width="stretch")
    chart(ms_per_gmac_figure(report, _), width="stretch")
    chart(macs_vs_time_figure(report, _), width="stretch")


def table_view() -> None:
    frame = table.to_frame()
    shown = translated_frame(frame)
    count = st.column_config.NumberColumn(format="localized")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={c: count for c in shown.columns if shown[c].dtype.kind == "i"},
    )
    d1, d2, d3 = st.columns(3)
    d1.download_button(_("Per-layer table (CSV)"), frame.to_csv(index=False), f"{spec.name}_layers.csv", "text/csv")
    d2.download_button(_("Spec (JSON)"), spec.to_json(), f"{spec.name}_spec.json", "application/json")
    exported = st.session_state.get("onnx")
    if exported and exported[0] == spec:
        d3.download_button(
            _("Model (ONNX, {size} MiB)", size=f"{len(exported[1]) / 2**20:.1f}"),
            exported[1],
            f"{spec.name}.onnx",
            "application/octet-stream",
            help=_("Random weights: open it in Netron to see the graph."),
        )
    elif d3.button(
        _("Export to ONNX"),
        key="export_onnx",
        help=too_big_to_run or _("Builds this network and exports it with torch.onnx (a few seconds)."),
        disabled=bool(too_big_to_run),
    ):
        with turn(N_("ONNX export")), st.spinner(_("Exporting to ONNX...")):
            try:
                st.session_state.onnx = (spec, to_onnx(build(spec)))
            except ExportError as exc:
                d3.error(error_text(exc))
            else:
                st.rerun()


with results:  # only the chosen view is drawn: Streamlit sends and the browser lays out every tab's content
    {
        "costs": cost_view,
        "diagram": diagram_view,
        "speed": latency_view,
        "table": table_view,
        "code": lambda: code_view(spec),
    }[view]()
