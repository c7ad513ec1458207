"""MobileOne's two forms side by side on the Build page: the network as trained and the one it folds into.

A re-parameterizable network is trained with many branches per conv and deployed as one conv per layer with the
same outputs. Its parameters and MACs are priced for both forms from one spec (the inference spec derives from the
training one, :func:`lwviz.reparam.inference_spec`); their latency is measured on request, one whole forward pass
at a time (:func:`lwviz.cost.latency.time_modules`), in the app's job queue, so the class sees that the training
form's MACs would have ranked the network wrong.
"""

from __future__ import annotations

import streamlit as st
import torch

from lwviz.builder import build
from lwviz.cost.latency import time_modules
from lwviz.i18n import N_
from lwviz.limits import TIMED_RUNS
from lwviz.perf import num_threads
from lwviz.reparam import inference_spec, is_reparameterizable, training_spec
from lwviz.spec import Spec
from lwviz.ui.cache import cost_table, timing_lock
from lwviz.ui.jobs import turn
from lwviz.ui.language import _

FORMS = {"trained": N_("As trained (branches)"), "folded": N_("As it runs (folded)")}


def forward_latency_ms(spec: Spec, runs: int, threads: int = 1) -> float:
    """Median milliseconds of one whole forward pass of ``spec``'s model (random weights, batch 1, eval mode)."""
    model = build(spec)
    x = torch.randn(1, spec.in_chs, spec.resolution, spec.resolution)
    with num_threads(threads):
        return time_modules(model, (x,), [""], runs=runs, warmup=1)[""]


def _measured(spec: Spec, runs: int) -> dict[str, float]:
    """Both forms' latency, measured once per design and run count in this session."""
    kept = st.session_state.get("reparam_latency")
    if kept and kept[0] == (spec, runs):
        return kept[1]
    forms = {"trained": training_spec(spec), "folded": inference_spec(spec)}
    with turn(N_("latency timing")):
        bar = st.progress(0.0, text=_("Timing forward passes..."))
        ms = {}
        with timing_lock():
            for i, (form, design) in enumerate(forms.items()):
                bar.progress(i / len(forms), _(FORMS[form]))
                ms[form] = forward_latency_ms(design, runs)
        bar.empty()
    st.session_state.reparam_latency = ((spec, runs), ms)
    return ms


def reparam_view(spec: Spec, too_big_to_run: str | None = None) -> None:
    """For a design with MobileOne blocks or stem, its training and inference forms side by side: parameters, MACs
    and (when asked) measured latency. Draws nothing for any other design."""
    if not is_reparameterizable(spec):
        return
    tables = {"trained": cost_table(training_spec(spec)), "folded": cost_table(inference_spec(spec))}
    trained = tables["trained"]
    st.subheader(_("One network, two forms"))
    st.markdown(
        _(
            "MobileOne trains every conv as several parallel conv + batch-norm branches, then folds them into one "
            "conv with a bias: the same outputs from a plain network. This design is shown {form}.",
            form=_("as it runs (folded)") if spec.reparam else _("as trained"),
        )
    )
    measure_col, runs_col = st.columns(2, vertical_alignment="bottom")
    measure = measure_col.toggle(
        _("Measure both forms"), key="reparam_measure", help=_("One thread, whole forward passes, random weights.")
    )
    runs = runs_col.number_input(_("Timed runs (median)"), 1, TIMED_RUNS, 5, key="reparam_runs")
    ms = None
    if measure and too_big_to_run:
        st.warning(_("Not measured: {reason}.", reason=too_big_to_run))
    elif measure:
        ms = _measured(spec, runs)
    for col, (form, table) in zip(st.columns(2), tables.items()):
        col.markdown(f"**{_(FORMS[form])}**")
        change = (lambda mine, theirs: f"{mine / theirs - 1:+.0%}") if form == "folded" else None
        col.metric(
            _("Parameters"),
            f"{table.params / 1e6:.2f} M",
            change(table.params, trained.params) if change else None,
            delta_color="inverse",
        )
        col.metric(
            _("MACs"),
            f"{table.macs / 1e6:.1f} M",
            change(table.macs, trained.macs) if change else None,
            delta_color="inverse",
        )
        if ms is not None:
            col.metric(
                _("Latency, 1 thread"),
                f"{ms[form]:.1f} ms",
                change(ms[form], ms["trained"]) if change else None,
                delta_color="inverse",
            )
    if ms is not None:
        st.caption(
            _(
                "Median of {runs} forward passes each, one image, on this machine. Same outputs, same accuracy: "
                "ranked by the training form's {macs} M MACs, this network would look {times}× heavier than what "
                "runs.",
                runs=runs,
                macs=f"{trained.macs / 1e6:.0f}",
                times=f"{trained.macs / tables['folded'].macs:.1f}",
            )
        )
