"""Train: the design learns handwritten digits (offline) or CIFAR-10 photos in about a minute; then distill it."""

import streamlit as st

from lwviz.compress.distill import ALPHA, TEMPERATURE, digits_teacher_spec
from lwviz.cost import analyze
from lwviz.i18n import N_
from lwviz.limits import TRAINING_STEPS, DesignTooLarge, check_runnable
from lwviz.train.loop import PAGE_STEPS, digits_se_spec, for_dataset
from lwviz.ui.jobs import Job
from lwviz.ui.language import _, plain
from lwviz.ui.presenter import more_controls
from lwviz.ui.state import current_spec
from lwviz.ui.training import (
    DATASETS,
    dataset_name,
    distill_work,
    keep_trained,
    load_dataset,
    show_distilled,
    show_job,
    show_trained,
    standard_teacher,
    trained_net,
    training_work,
)

spec = current_spec()
st.title(_("Train"))
st.markdown(
    _(
        "A network only knows what it learned. Train your design from the Build page on a small real dataset, "
        "here on the CPU, and watch the loss fall. The trained network then runs on the Webcam, Look inside and "
        "Compress pages. **Distillation** trains a small student from a bigger teacher's answers."
    )
)

data_name = st.segmented_control(
    _("Pictures to learn"),
    list(DATASETS),
    format_func=lambda name: _(DATASETS[name]),
    default="digits",
    required=True,
    key="train_dataset",
)
data = load_dataset(data_name)
if data is None:
    st.stop()
networks = {"design": _("Your design ({name})", name=spec.name), "digits_se": _("A small SE network (digits_se)")}
network = st.radio(_("Network"), list(networks), format_func=networks.get, horizontal=True, key="train_network")
try:
    student = for_dataset(spec if network == "design" else digits_se_spec(), data)
except ValueError as exc:
    st.error(
        plain(
            _(
                "This design cannot read the {size}×{size} pictures of {dataset}: {problem}",
                size=data.resolution,
                dataset=dataset_name(data.name),
                problem=exc,
            )
        )
    )
    st.stop()
cost = analyze(student)
try:
    check_runnable(cost)
except DesignTooLarge as exc:
    st.error(plain(_("This design is too big to train here: {problem}.", problem=exc)))
    st.stop()
st.caption(
    _(
        "{network} fitted to {dataset}: {size}×{size} pictures, {classes} classes → {params}M parameters, "
        "{macs}M MACs per picture. {train} training and {test} held-out pictures.",
        network=student.name,
        dataset=dataset_name(data.name),
        size=data.resolution,
        classes=len(data.classes),
        params=f"{cost.params / 1e6:.2f}",
        macs=f"{cost.macs / 1e6:.1f}",
        train=f"{len(data.train_x):,}",
        test=f"{len(data.test_x):,}",
    )
)
with more_controls():  # in presenter mode, behind one expander
    steps_col, seed_col = st.columns([3, 1])
    steps = steps_col.slider(
        _("Training steps (64 pictures each)"), 50, TRAINING_STEPS, PAGE_STEPS, 50, key="train_steps"
    )
    seed = seed_col.number_input(
        _("Seed"),
        0,
        10_000,
        0,
        key="train_seed",
        help=_("The same seed gives the same starting weights and the same batches."),
    )
job = st.session_state.get("train_job")
running = job is not None and not job.done

train_tab, distill_tab = st.tabs([_("Train"), _("Distill")])
with train_tab:
    if st.button(_("Train"), type="primary", icon=":material/model_training:", disabled=running, key="train_start"):
        st.session_state.train_job = Job(training_work(student, data, steps, seed), steps, N_("train"))
        st.rerun()  # draw the page with the buttons disabled while it runs
    if job is not None and job.kind == "train":
        show_job(job, "train")
        if job.done and job.result is not None and trained_net() is not job.result:
            keep_trained(job.result)
    if (trained := trained_net()) is not None:
        show_trained(trained, job.state() if job is not None and job.result is trained else None)

with distill_tab:
    st.markdown(
        _(
            "The teacher, a bigger network, answers every training picture with probabilities softened by a "
            "**temperature** T: how much a 7 looks like a 1 is knowledge the labels lack. The student (the "
            "network chosen above) learns from a mix: **alpha** of the teacher's soft answers, the rest from "
            "the labels. It is trained twice from the same start on the same batches, without and with the "
            "teacher, for the steps chosen above."
        )
    )
    teachers = {"standard": _("A standard-conv CNN, 4× the MACs of the small SE network (trained here first)")}
    if (trained := trained_net()) is not None and trained.data is data:
        teachers["trained"] = _("Your trained network: {network}", network=trained.label)
    teacher_choice = st.radio(
        _("Teacher"), list(teachers), format_func=lambda t: plain(teachers[t]), key="distill_teacher"
    )
    t_col, a_col = st.columns(2)
    temperature = t_col.slider(_("Temperature T"), 1.0, 10.0, TEMPERATURE, 0.5, key="distill_temperature")
    alpha = a_col.slider(_("alpha: share of the teacher"), 0.0, 1.0, ALPHA, 0.05, key="distill_alpha")
    if st.button(
        _("Distill and compare"), type="primary", icon=":material/school:", disabled=running, key="distill_start"
    ):
        st.session_state.train_job = Job(
            distill_work(
                student,
                trained.model if teacher_choice == "trained" else standard_teacher(data),
                for_dataset(digits_teacher_spec(), data),
                data,
                steps,
                seed,
                temperature,
                alpha,
            ),
            steps,
            N_("distill"),
        )
        st.rerun()
    if job is not None and job.kind == "distill":
        show_job(job, "distill")
        if job.done and job.result is not None:
            st.session_state.distilled = job.result
    if (distilled := st.session_state.get("distilled")) is not None:
        show_distilled(distilled)
