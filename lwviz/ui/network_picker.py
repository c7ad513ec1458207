"""The one network picker of the Classify, Webcam, Look inside and Compress pages.

A page says which choices it offers (``lwviz.networks.choices``); the picker shows them, gets what
a choice needs first (a download, an uploaded checkpoint, a few seconds of training), carries on
with a network that loads when pretrained weights are damaged, and returns the choice resolved by
``lwviz.networks.resolve`` from the server-wide caches, so every page runs the same network for the
same choice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import partial

import streamlit as st

from lwviz.data import digits
from lwviz.explain import Explainer
from lwviz.i18n import N_, said
from lwviz.limits import DesignTooLarge
from lwviz.networks import DESIGN, DIGITS, OWN, TRAINED, Network, choice_label, choices, ready_sources, resolve
from lwviz.spec import Spec
from lwviz.train.loop import digits_se_spec, train
from lwviz.ui.cache import design_explainer, design_model, load_problem, pretrained_model, source_explainer
from lwviz.ui.jobs import turn
from lwviz.ui.language import _, error_text, plain
from lwviz.ui.training import TrainedNet, trained_net
from lwviz.weights import SOURCES, CheckpointError, WeightsUnavailable, get_source

CHECKPOINT_TYPES = ("pt", "pth", "safetensors")


def pick_network(
    page: str,
    design: Spec,
    offer: Sequence[str],
    *,
    key: str | None = None,
    label: str | None = None,
    help: str | None = None,
    exclude: Collection[str] = (),
) -> Network | None:
    """The network picked among ``offer`` (see ``lwviz.networks.choices``) minus ``exclude``; None while it
    cannot run yet (weights to download, a checkpoint to upload) or when nothing loads, with the reason shown.

    ``design`` is the Build page's spec; ``label`` the selectbox's, already translated (default "Network").
    The selectbox's key is ``key`` (default ``{page}_network``); the picker's other widgets and session
    values are keyed ``{page}_...``. Damaged pretrained weights give their message and the first weights
    that load instead, or the design when ``offer`` has it.
    """
    trained = trained_net()
    options = choices(offer, trained is not None, exclude)
    choice = st.selectbox(
        label or _("Network"),
        options,
        key=key or f"{page}_network",
        help=help,
        format_func={o: choice_label(o, design, trained, _) for o in options}.get,  # this run's words
    )
    if choice is None:
        return None
    if choice == OWN:
        return own_checkpoint(page, design)
    if choice == TRAINED:
        return resolve(TRAINED, design, trained=trained)
    if choice == DIGITS:
        return resolve(DIGITS, design, trained=digits_net(page))
    if choice != DESIGN:
        source = get_source(choice)
        if not source.is_available():
            offer_download(page, choice)
            return None
        if st.session_state.pop(f"{page}_downloaded", None) == choice:
            st.success(
                plain(_("Downloaded and cached: {name} works offline from now on.", name=source.spec.name)),
                icon=":material/download_done:",
            )
        with st.spinner(_("Loading {name}...", name=said(source.label, _))):
            choice = usable_source(choice) or (DESIGN if DESIGN in offer else None)
        if choice is None:
            return None
    try:
        return resolve(choice, design, load=pretrained_model, build_design=design_model)
    except DesignTooLarge as exc:
        st.error(plain(_("Your design cannot run here: {problem}.", problem=exc)), icon=":material/block:")
        return None


def usable_source(name: str) -> str | None:
    """``name`` if its weights load, else the first weights here that do (Lite0 first), or None if none does.

    A file can be in the hub cache and still be damaged; the library's message (what is wrong and how
    to fix it) is shown instead of a traceback, and the page carries on with what works. Failures are
    not cached: a file mended on disk loads on the next rerun.
    """
    if (problem := load_problem(name)) is None:
        return name
    fallback = next((s for s in ready_sources() if s.name != name and load_problem(s.name) is None), None)
    st.error(
        plain(
            said(problem, _)
            if fallback is None
            else _("{problem} Using {name} meanwhile.", problem=said(problem, _), name=said(fallback.label, _))
        ),
        icon=":material/broken_image:",
    )
    return None if fallback is None else fallback.name


def offer_download(page: str, name: str) -> None:
    """What weight source ``name`` needs, and a button that downloads it (with progress) and reruns the page."""
    source = get_source(name)
    st.warning(plain(said(source.missing(), _)))
    if not st.button(_("Download the weights now"), icon=":material/download:", key=f"{page}_download"):
        return
    bar = st.progress(0.0, text=_("Downloading..."))
    try:
        source.load(progress=partial(show_download, bar))
    except WeightsUnavailable as exc:
        st.error(error_text(exc))
    else:
        st.session_state[f"{page}_downloaded"] = name  # said once, after the rerun
        st.rerun()


def show_download(bar, done: int, total: int | None) -> None:
    bar.progress(min(done / total, 1.0) if total else 0.0, f"{done / 2**20:.1f} MiB")


def own_checkpoint(page: str, design: Spec) -> Network | None:
    """The design with the weights of an uploaded state_dict; None until there is one, or when it is refused."""
    upload = st.file_uploader(
        _("Checkpoint for the current design (.pt, .pth, .safetensors)"),
        type=CHECKPOINT_TYPES,
        key=f"{page}_checkpoint",
        help=_("A state_dict only; pickles that try to run code are refused."),
    )
    if upload is None:
        st.info(_("Upload a state_dict for **{name}** (design it on the Build page).", name=plain(design.name)))
        return None
    try:
        with st.spinner(_("Loading your checkpoint...")):
            return resolve(OWN, design, checkpoint=upload.getvalue(), checkpoint_name=upload.name)
    except (CheckpointError, DesignTooLarge) as exc:
        st.error(plain(str(exc)))
        return None


def digits_net(page: str) -> TrainedNet:
    """A small SE network trained on handwritten digits in this session: trained on first use, in seconds."""
    key = f"{page}_digits"
    if key not in st.session_state:
        with turn(N_("training on digits")):  # other sessions see it in their queue: a catalog message
            bar = st.progress(0.0, text=_("Training a small SE network on handwritten digits..."))
            model, history = train(digits_se_spec(), progress=partial(show_training, bar))
            bar.empty()
        st.session_state[key] = TrainedNet(model, digits(), history)
    return st.session_state[key]


def show_training(bar, step: int, total: int, loss: float) -> None:
    bar.progress(
        step / total,
        text=_(
            "Training on handwritten digits: step {step}/{total}, loss {loss}",
            step=step,
            total=total,
            loss=f"{loss:.3f}",
        ),
    )


def network_explainer(net: Network) -> Explainer:
    """``net`` wrapped for Grad-CAM and SE gates, on a copy of its model.

    One per server for pretrained weights and the design (cached); this session's own, made on first
    use, for a network trained or loaded here, which other sessions never see.
    """
    if net.key == DESIGN:
        return design_explainer(net.model.spec)
    if net.key in SOURCES:
        return source_explainer(net.key)
    held = st.session_state.get(f"explainer_{net.key}")
    if held is None or held[0] is not net.model:
        held = st.session_state[f"explainer_{net.key}"] = net.model, Explainer(net.model)
    return held[1]
