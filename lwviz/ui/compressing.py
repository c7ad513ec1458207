"""Streamlit glue of the Compress page: what a network is compressed and scored with, and its measured variants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st
import torch

from lwviz.builder import Net
from lwviz.compress.prune import pruned_spec
from lwviz.compress.qat import QAT_STEPS, quantize_aware
from lwviz.compress.quantize_calibration import calibration_images
from lwviz.compress.variants import Row, Variant, compare_variants
from lwviz.data import Dataset
from lwviz.networks import Network
from lwviz.spec import Spec
from lwviz.ui.cache import timing_lock
from lwviz.ui.jobs import turn
from lwviz.ui.training import Distilled


@dataclass(frozen=True, eq=False)
class Subject:
    """A network to compress, with the pictures that calibrate it and the ones that score it."""

    key: object  # identifies the network for the session's stored measurements
    model: Net  # never modified: every variant is a copy
    calibration: torch.Tensor
    inputs: torch.Tensor
    labels: torch.Tensor | None  # None: scored by agreement with the float network
    score_label: str
    score_help: str
    extra: tuple[Variant, ...] = ()  # rows beyond the variants of ``model``: a distilled student and its teacher
    data: Dataset | None = None  # its training pictures, for quantization-aware training (a network trained here)

    def pruned_spec(self, keep: float) -> Spec | None:
        try:
            return pruned_spec(self.model.spec, keep)
        except ValueError:
            return None


def subject(net: Network) -> Subject:
    """What compressing ``net`` measures: a network trained here by its held-out accuracy (with the Train page's
    last distillation on the same pictures), pretrained weights by agreement with float on the sample photos."""
    if (data := net.data) is not None:
        distilled = st.session_state.get("distilled")
        if distilled is None or distilled.data is not data:
            distilled = None
        return Subject(
            (net.model, distilled),
            net.model,
            data.train_x[:256],
            data.test_x,
            data.test_y,
            "Held-out accuracy (%)",
            f"Accuracy: on {len(data.test_x):,} held-out {data.name} pictures; "
            "int8 static is calibrated on 256 training pictures.",
            distillation_rows(distilled),
            data,
        )
    photos = calibration_images(net.preprocess)
    return Subject(
        net.key,
        net.model,
        photos,
        photos,
        None,
        "Agreement with float (%)",
        f"Agreement: the share of the {len(photos)} sample photos (and their mirror images) on which the "
        "variant's top-1 class is the float network's; the same photos calibrate int8 static.",
    )


def distillation_rows(distilled: Distilled | None) -> tuple[Variant, ...]:
    """The Train page's last distillation on the same pictures: the student it taught and the teacher."""
    if distilled is None:
        return ()
    student, teacher = distilled.comparison.student, distilled.teacher
    return (
        Variant(
            "distilled student",
            student,
            student.spec,
            f"{student.spec.name}, {distilled.steps} steps taught by {teacher.spec.name} "
            f"({distilled.comparison.gain * 100:+.1f} points over the labels alone)",
        ),
        Variant("its teacher", teacher, teacher.spec, f"{teacher.spec.name}, the distillation's teacher"),
    )


def distillation_note(rows: Sequence[Row]) -> str:
    """What the distilled student's and its teacher's rows teach, from their measured numbers."""
    note = (
        "**Distillation** is the other road to a small network: the last two rows are the student and the "
        "bigger teacher from the Train page's Distill tab. It aims for most of the teacher's accuracy at the "
        "student's size."
    )
    by_name = {r.variant: r for r in rows}
    student, teacher = by_name["distilled student"], by_name["its teacher"]
    if teacher.macs > student.macs and teacher.latency_ms < student.latency_ms:
        note += (
            f" Yet here the teacher, with {teacher.macs / student.macs:.1f}× the student's MACs, runs "
            f"{student.latency_ms / teacher.latency_ms:.1f}× faster: its dense convolutions are what a CPU "
            "does best, while the student's many small depthwise and SE layers each pay a fixed cost. "
            "Fewer MACs is not the same as less time."
        )
    return note


def measured_rows(target: Subject, sparsities: Sequence[float], keep: float, qat: bool = False) -> list[Row] | None:
    """The variants' rows once measured in this session (a button starts it), else None.

    With ``qat`` (a network trained here) an int8 variant made by quantization-aware training joins them.
    """
    key = (target.key, tuple(sparsities), keep, qat)
    done = st.session_state.get("compress_rows")
    if done is not None and done[0] == key:
        return done[1]
    if not st.button(
        "Make and measure every variant", type="primary", icon=":material/compress:", key="compress_measure"
    ):
        st.info("Quantizing, pruning and timing every variant takes 10 to 60 seconds.", icon=":material/timer:")
        return None
    with turn("compression"):
        rows = _measure(target, sparsities, keep, qat)
    st.session_state.compress_rows = key, rows
    return rows


def _measure(target: Subject, sparsities: Sequence[float], keep: float, qat: bool) -> list[Row]:
    bar = st.progress(0.0, text="Quantizing and pruning…")
    aware = None
    if qat:
        int8 = quantize_aware(
            target.model,
            target.data,
            progress=lambda step, total, loss: bar.progress(
                step / total, text=f"Quantization-aware training: step {step} of {total}, loss {loss:.3f}"
            ),
        )
        aware = Variant("int8 QAT", int8, target.model.spec, f"{QAT_STEPS} steps of quantization-aware training")
    with timing_lock():
        rows = compare_variants(
            target.model,
            target.calibration,
            target.inputs,
            target.labels,
            sparsities,
            keep,
            target.extra,
            aware,
            progress=lambda share, name: bar.progress(share, text=f"Measured {name}"),
        )
    bar.empty()
    return rows


def rows_table(rows: Sequence[Row], score_label: str) -> list[dict]:
    def mb(n: int | None) -> float | None:
        return None if n is None else round(n / 1e6, 2)

    return [
        {
            "variant": r.variant,
            "file MB": mb(r.size_bytes),
            "zipped MB": mb(r.zipped_bytes),
            "params (non-zero)": r.params_nonzero,
            "MACs (M)": round(r.macs / 1e6, 1),
            "latency ms": None if r.latency_ms is None else round(r.latency_ms, 1),
            score_label: None if r.score is None else round(100 * r.score, 1),
            "note": r.note,
        }
        for r in rows
    ]
