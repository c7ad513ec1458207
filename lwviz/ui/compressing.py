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
from lwviz.i18n import N_, Phrase, Translate, english, said
from lwviz.networks import Network
from lwviz.spec import Spec
from lwviz.ui.cache import timing_lock
from lwviz.ui.jobs import turn
from lwviz.ui.language import _
from lwviz.ui.training import Distilled, dataset_name
from lwviz.viz.compress_charts import variant_name


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
    last distillation on the same pictures), pretrained weights by agreement with float on the sample photos.
    Its score's words are in the session's language."""
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
            _("Held-out accuracy (%)"),
            _(
                "Accuracy: on {pictures} held-out {dataset} pictures; int8 static is calibrated on 256 training "
                "pictures.",
                pictures=f"{len(data.test_x):,}",
                dataset=dataset_name(data.name),
            ),
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
        _("Agreement with float (%)"),
        _(
            "Agreement: the share of the {photos} sample photos (and their mirror images) on which the "
            "variant's top-1 class is the float network's; the same photos calibrate int8 static.",
            photos=len(photos),
        ),
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
            Phrase(
                "{student}, {steps} steps taught by {teacher} ({points} points over the labels alone)",
                student=student.spec.name,
                steps=distilled.steps,
                teacher=teacher.spec.name,
                points=f"{distilled.comparison.gain * 100:+.1f}",
            ),
        ),
        Variant(
            "its teacher",
            teacher,
            teacher.spec,
            Phrase("{teacher}, the distillation's teacher", teacher=teacher.spec.name),
        ),
    )


def distillation_note(rows: Sequence[Row], _: Translate = english) -> str:
    """What the distilled student's and its teacher's rows teach, from their measured numbers."""
    note = _(
        "**Distillation** is the other road to a small network: the last two rows are the student and the "
        "bigger teacher from the Train page's Distill tab. It aims for most of the teacher's accuracy at the "
        "student's size."
    )
    by_name = {r.variant: r for r in rows}
    student, teacher = by_name["distilled student"], by_name["its teacher"]
    if teacher.macs > student.macs and teacher.latency_ms < student.latency_ms:
        yet = _(
            "Yet here the teacher, with {macs}× the student's MACs, runs {faster}× faster: its dense convolutions "
            "are what a CPU does best, while the student's many small depthwise and SE layers each pay a fixed "
            "cost. Fewer MACs is not the same as less time.",
            macs=f"{teacher.macs / student.macs:.1f}",
            faster=f"{student.latency_ms / teacher.latency_ms:.1f}",
        )
        note = _("{first} {second}", first=note, second=yet)  # two sentences: Chinese joins them without a space
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
        _("Make and measure every variant"), type="primary", icon=":material/compress:", key="compress_measure"
    ):
        st.info(_("Quantizing, pruning and timing every variant takes 10 to 60 seconds."), icon=":material/timer:")
        return None
    with turn(N_("compression")):  # other sessions see it in their queue: a catalog message
        rows = _measure(target, sparsities, keep, qat)
    st.session_state.compress_rows = key, rows
    return rows


def _measure(target: Subject, sparsities: Sequence[float], keep: float, qat: bool) -> list[Row]:
    bar = st.progress(0.0, text=_("Quantizing and pruning…"))
    aware = None
    if qat:
        int8 = quantize_aware(
            target.model,
            target.data,
            progress=lambda step, total, loss: bar.progress(
                step / total,
                text=_(
                    "Quantization-aware training: step {step} of {total}, loss {loss}",
                    step=step,
                    total=total,
                    loss=f"{loss:.3f}",
                ),
            ),
        )
        note = Phrase("{steps} steps of quantization-aware training", steps=QAT_STEPS)
        aware = Variant("int8 QAT", int8, target.model.spec, note)
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
            progress=lambda share, name: bar.progress(
                share, text=_("Measured {variant}", variant=variant_name(name, _))
            ),
        )
    bar.empty()
    return rows


def rows_table(rows: Sequence[Row], score_label: str, _: Translate = english) -> list[dict]:
    """The rows as the page's table, headers and words in the language of ``_`` (``score_label`` comes translated)."""

    def mb(n: int | None) -> float | None:
        return None if n is None else round(n / 1e6, 2)

    headers = [_(h) for h in (N_("variant"), N_("file MB"), N_("zipped MB"), N_("params (non-zero)"))]
    headers += [_(h) for h in (N_("MACs (M)"), N_("latency ms"))] + [score_label, _("note")]
    return [
        dict(
            zip(
                headers,
                (
                    variant_name(r.variant, _),
                    mb(r.size_bytes),
                    mb(r.zipped_bytes),
                    r.params_nonzero,
                    round(r.macs / 1e6, 1),
                    None if r.latency_ms is None else round(r.latency_ms, 1),
                    None if r.score is None else round(100 * r.score, 1),
                    said(r.note, _),
                ),
            )
        )
        for r in rows
    ]
