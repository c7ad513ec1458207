"""Streamlit glue of the Train page: datasets, the background training job, and the network it leaves behind.

The trained network belongs to the session that trained it (``st.session_state``), never to the
server's caches, and every page that runs networks offers it (Webcam, Look inside, Compress).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from lwviz.builder import Net
from lwviz.compress.distill import TEACHER_STEPS, Comparison, compare
from lwviz.data import Dataset, DatasetUnavailable, cifar10, cifar10_missing, digits
from lwviz.i18n import N_, Translate, said
from lwviz.networks import dataset_name as dataset_words
from lwviz.spec import Spec
from lwviz.train.loop import History, cross_entropy, train
from lwviz.ui.jobs import Job, JobState, Work, waiting_text
from lwviz.ui.language import _, error_text, plain
from lwviz.ui.presenter import chart
from lwviz.viz.training_charts import training_curves
from lwviz.weights.preprocess import Preprocess

DATASETS = {"digits": N_("Handwritten digits (offline)"), "cifar10": N_("CIFAR-10 photos (downloads 170 MB once)")}
TRAINED = "trained"  # the network choice meaning "the network trained in this session"


@dataclass(frozen=True, eq=False)
class TrainedNet:
    """A network trained in this session, with what it learned from."""

    model: Net  # eval mode; pages read it, never train or hook it (explainers copy it)
    data: Dataset
    history: History

    @property
    def label(self) -> str:
        """What it is, in the session's language."""
        return self.describe(_)

    def describe(self, _: Translate) -> str:
        return _(
            "{network} trained on {dataset} ({steps} steps, {accuracy} on held-out pictures)",
            network=self.model.spec.name,
            dataset=dataset_name(self.data.name, _),
            steps=self.history.steps,
            accuracy=f"{self.history.test_accuracy:.1%}",
        )

    @property
    def camera_hint(self) -> str:
        """How to show it something it can read, in the session's language."""
        size = f"{self.data.resolution}×{self.data.resolution}"
        if self.data.name == "digits":
            return _(
                "It learned from {size} handwritten digits: write one big and thick on white paper and fill "
                "the square with it.",
                size=size,
            )
        return _(
            "It learned from {size} photos of {classes}: fill the square with one.",
            size=size,
            classes=", ".join(self.data.classes),
        )

    def camera_preprocess(self) -> Preprocess:
        """How a camera frame becomes this network's input: the center square shrunk to its resolution.

        The digits are bright ink on black; a digit written on paper is dark ink on white, so the
        camera picture is inverted (a negative ``std`` flips the normalization).
        """
        size = self.data.resolution
        std = tuple(-s for s in self.data.std) if self.data.name == "digits" else self.data.std
        return Preprocess(crop=size, resize=size, mean=self.data.mean, std=std)


def dataset_name(name: str, _: Translate = _) -> str:
    """A dataset's name as a sentence says it, in the session's language (``Dataset.name`` is also a key)."""
    return dataset_words(name, _)


def trained_net() -> TrainedNet | None:
    return st.session_state.get(TRAINED)


def keep_trained(trained: TrainedNet) -> None:
    st.session_state[TRAINED] = trained


def load_dataset(name: str) -> Dataset | None:
    """The dataset, downloading CIFAR-10 on request with a progress bar; None (with the reason shown) if not here."""
    if name == "digits":
        return digits()
    if (missing := cifar10_missing()) is not None and not st.session_state.get("train_download"):
        st.info(plain(said(missing, _)), icon=":material/cloud_download:")
        st.button(_("Download CIFAR-10 now"), key="train_download", icon=":material/download:")
        return None
    bar = st.progress(0.0, text="CIFAR-10…")
    try:
        return cifar10(
            progress=lambda done, total: bar.progress(
                min(1.0, done / total) if total else 0.0,
                text=_("Downloading CIFAR-10: {mb} MB", mb=f"{done / 1e6:.0f}"),
            )
        )
    except DatasetUnavailable as exc:
        st.error(error_text(exc), icon=":material/cloud_off:")
        return None
    finally:
        bar.empty()


def training_work(spec: Spec, data: Dataset, steps: int, seed: int) -> Work:
    """The job that trains ``spec`` on ``data``, reporting each training batch's accuracy as it goes."""

    def work(progress, should_stop, on_accuracy) -> TrainedNet:
        def loss(logits, labels, index):
            on_accuracy((logits.detach().argmax(1) == labels).float().mean().item())
            return cross_entropy(logits, labels, index)

        model, history = train(spec, steps, progress, should_stop, seed, data, loss=loss)
        return TrainedNet(model, data, history)

    return work


@dataclass(frozen=True, eq=False)
class Distilled:
    comparison: Comparison
    teacher: Net
    data: Dataset
    steps: int  # asked per student run


def distill_work(
    student: Spec,
    teacher: Net | None,
    teacher_spec: Spec,
    data: Dataset,
    steps: int,
    seed: int,
    temperature: float,
    alpha: float,
) -> Work:
    """The job that trains the teacher first when there is none, then the student without and with it."""

    def work(progress, should_stop, on_accuracy) -> Distilled:
        model, done = teacher, 0
        total = 2 * steps + (TEACHER_STEPS if teacher is None else 0)
        if model is None:
            model, _history = train(
                teacher_spec, TEACHER_STEPS, lambda s, _total, loss: progress(s, total, loss), should_stop, seed, data
            )
            done = TEACHER_STEPS
        comparison = compare(
            student,
            model,
            steps,
            temperature,
            alpha,
            seed,
            data,
            lambda s, _total, loss: progress(done + s, total, loss),
            should_stop,
        )
        return Distilled(comparison, model, data, steps)

    return work


def show_job(job: Job, key: str) -> None:
    """Progress, live curves and a Stop button while ``job`` runs (refreshed twice a second); a full rerun when it ends.

    Watching costs little once Streamlit's collection after every rerun is off (.streamlit/config.toml;
    docs/BENCHMARKS.md, training on the digits).
    """

    @st.fragment(run_every=None if job.done else 0.5)
    def progress() -> None:
        if job.done:
            if st.session_state.get(f"{key}_seen_running"):
                st.session_state[f"{key}_seen_running"] = False
                st.rerun()  # the whole page: its buttons come back and the result is shown
            return
        st.session_state[f"{key}_seen_running"] = True
        state = job.state()
        step = dict(step=state.step, total=state.total, seconds=f"{state.seconds:.0f}")
        if state.losses:
            text = _("Step {step} of {total}, loss {loss}, {seconds} s", loss=f"{state.losses[-1]:.3f}", **step)
        else:
            text = _("Step {step} of {total}, {seconds} s", **step)
        bar_col, stop_col = st.columns([5, 1], vertical_alignment="center")
        if state.ahead:
            bar_col.info(waiting_text(state.ahead), icon=":material/hourglass_top:")
        else:
            bar_col.progress(
                state.step / max(1, state.total),
                text=_("{progress} — stopping after this step", progress=text) if job.stopping else text,
            )
        stop_col.button(
            _("Stop"), on_click=job.stop, icon=":material/stop_circle:", key=f"{key}_stop", disabled=job.stopping
        )
        chart(
            training_curves({_("this run"): (state.losses, state.accuracies)}, _=_),
            width="stretch",
            key=f"{key}_live_curves",
        )

    progress()
    if job.done and job.error:
        st.error(plain(_("Training failed: {error}", error=job.error)))


def standard_teacher(data: Dataset) -> Net | None:
    """The standard-conv teacher trained for the last distillation on ``data``, or None (it is trained first)."""
    distilled = st.session_state.get("distilled")
    return distilled.teacher if distilled is not None and distilled.data is data else None


SHOWN_PICTURES = 12


def show_trained(trained: TrainedNet, state: JobState | None) -> None:
    """What the network learned: held-out accuracy, its curves, and its answers on a few held-out pictures."""
    history, data = trained.history, trained.data
    acc_col, steps_col, time_col = st.columns(3)
    acc_col.metric(
        _("Held-out accuracy"),
        f"{history.test_accuracy:.1%}",
        help=_(
            "On {pictures} pictures it never trained on; chance is {chance}.",
            pictures=f"{len(data.test_x):,}",
            chance=f"{1 / len(data.classes):.0%}",
        ),
    )
    steps_col.metric(_("Steps"), f"{history.steps}", help=_("Fewer than asked when stopped early."))
    time_col.metric(_("Training time"), f"{history.seconds:.0f} s")
    if state is not None:
        chart(
            training_curves({_("training"): (state.losses, state.accuracies)}, _=_),
            width="stretch",
            key="train_curves",
        )
    st.markdown(_("**Its answers on held-out pictures** (wrong ones in red):"))
    x = data.test_x[:SHOWN_PICTURES]
    with torch.inference_mode():
        answers = trained.model(x).argmax(1).tolist()
    for column, picture, answer, truth in zip(st.columns(SHOWN_PICTURES), x, answers, data.test_y.tolist()):
        column.image(data.picture(picture), width="stretch")
        shown = plain(data.classes[answer])
        column.markdown(shown if answer == truth else f":red[{shown}]")
    st.success(
        plain(
            _(
                "In this session: {network}. Pick it on the Webcam, Look inside and Compress pages.",
                network=trained.label,
            )
        ),
        icon=":material/check_circle:",
    )


def show_distilled(distilled: Distilled) -> None:
    c = distilled.comparison
    teacher_col, plain_col, taught_col = st.columns(3)
    teacher_col.metric(_("Teacher"), f"{c.teacher_accuracy:.1%}", help=_("Held-out accuracy of the teacher."))
    plain_col.metric(_("Student from the labels"), f"{c.plain.test_accuracy:.1%}")
    taught_col.metric(
        _("Student distilled"), f"{c.distilled.test_accuracy:.1%}", _("{points} points", points=f"{c.gain * 100:+.1f}")
    )
    chart(
        training_curves({_("from the labels"): (c.plain.losses, ()), _("distilled"): (c.distilled.losses, ())}, _=_),
        width="stretch",
        key="distill_curves",
    )
    st.caption(
        _(
            "Same student, same start, same {steps} batches; only the loss differs. The distilled "
            "loss includes the teacher's term, so the two loss curves are not on the same scale: compare the "
            "held-out accuracies. Distillation helps most when training is short or data is scarce.",
            steps=c.plain.steps,
        )
    )
