"""Streamlit glue of the Webcam page: the network's frame-ready copies, each session's processor.

Models are cached per server and shared by every session (never mutated: quantization works on
a copy, and the forward pass only reads them). The frame processor is per session, so one
student's stream and counters never show in another's.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from time import monotonic

import streamlit as st
from torch import nn

from lwviz.builder import Net
from lwviz.classify import Prediction
from lwviz.compress import QuantizationUnsupported, calibration_images, quantize_int8
from lwviz.compress.quantize_trace import traced
from lwviz.errors import Refusal
from lwviz.i18n import N_, Phrase, said
from lwviz.networks import DESIGN, Network
from lwviz.perf import freeze_long_lived
from lwviz.realtime import (
    STAGES,
    AnnotatedVideo,
    FrameModel,
    FrameProcessor,
    StatsSnapshot,
    annotate_video,
    inference_copy,
)
from lwviz.realtime.modes import start_problem, track_start
from lwviz.spec import Spec
from lwviz.ui.cache import design_model, pretrained_model
from lwviz.ui.jobs import turn
from lwviz.ui.language import _, error_text, plain
from lwviz.ui.network_picker import network_explainer
from lwviz.weights import sources_for
from lwviz.weights.preprocess import Preprocess

STAGE_WORDS = {  # lwviz.realtime.stats.STAGES, in words
    "decode": N_("decode"),
    "preprocess": N_("preprocess"),
    "model": N_("model"),
    "cam": N_("Grad-CAM"),
    "draw": N_("draw"),
    "encode": N_("encode"),
}
RESOLUTIONS = (96, 128, 160, 192, 224, 256, 288, 320)
CALIBRATION_PICTURES = 256  # of a network trained here, from its own training pictures


def missing_networks() -> list[str]:
    """What each pretrained network not on this machine needs (shown, not offered)."""
    return [f"{said(s.label, _)}: {said(s.missing(), _)}" for s in sources_for() if not s.is_available()]


def resolutions(net: Network) -> list[int]:
    """The input sizes on offer; a network trained here on small pictures only reads its own size."""
    return [net.resolution] if net.data is not None else sorted({*RESOLUTIONS, net.resolution})


# In the functions below ``design`` is the Build page's spec when ``key`` is DESIGN, else None
# (so the caches do not keep a copy of a pretrained network per design the student tried).


def float_model(key: str, design: Spec | None) -> Net:
    return design_model(design) if key == DESIGN else pretrained_model(key)


@st.cache_resource(max_entries=4, show_spinner=False)
def fast_model(key: str, design: Spec | None) -> nn.Module:
    """The float network with batch norm folded, channels-last (``inference_copy``)."""
    return inference_copy(float_model(key, design))


@st.cache_resource(max_entries=4, show_spinner=False)
def int8_model(key: str, design: Spec | None, preprocess: Preprocess) -> tuple[nn.Module | None, str | None]:
    """(quantized copy as its traced graph, None) or (None, why not), calibrated on the sample photos as
    ``preprocess`` (at the chosen resolution) makes them.

    Failures are returned rather than raised so they are cached too: calibration takes seconds.
    """
    return int8_graph(float_model(key, design), calibration_images(preprocess))


def int8_graph(model: nn.Module, pictures) -> tuple[nn.Module | None, Phrase | None]:
    """(an int8 copy of ``model`` calibrated on ``pictures``, as its traced graph, None) or (None, why not)."""
    try:
        return traced(quantize_int8(model, pictures), pictures[:1]), None
    except QuantizationUnsupported as exc:
        return None, exc.phrase


def frame_model(net: Network, resolution: int, int8: bool, grad_cam: bool = False) -> tuple[FrameModel, Phrase | None]:
    """The network to run on frames at ``resolution`` (with its explainer for the Grad-CAM overlay if asked),
    and a note when int8 was asked for but is not available."""
    preprocess = net.preprocess.at_resolution(resolution)
    quantized, note = None, None
    if net.data is not None:  # trained in this session: its copies are this session's too
        copies = trained_copies(net)
        model = copies.fast
        if int8:
            quantized, note = copies.int8
    else:
        design = net.model.spec if net.key == DESIGN else None
        model = fast_model(net.key, design)
        if int8:
            quantized, note = int8_model(net.key, design, preprocess)
    if quantized is not None:
        model, title = quantized, f"{net.label} int8"
    else:
        title = net.label
    return FrameModel(
        model, preprocess, net.categories, title, net.trained, network_explainer(net) if grad_cam else None
    ), note


class TrainedCopies:
    """A network trained in this session made ready for frames; the int8 copy is made on first use."""

    def __init__(self, net: Network):
        self.model = net.model
        self.pictures = net.data.train_x[:CALIBRATION_PICTURES]
        self.fast = inference_copy(net.model)

    @cached_property
    def int8(self) -> tuple[nn.Module | None, str | None]:
        return int8_graph(self.model, self.pictures)  # calibrated on its own training pictures


def trained_copies(net: Network) -> TrainedCopies:
    """This session's frame-ready copies of ``net`` (a network trained here), made again when it changes."""
    copies = st.session_state.get("webcam_trained")
    if copies is None or copies.model is not net.model:
        copies = st.session_state.webcam_trained = TrainedCopies(net)
    return copies


def session_processor() -> FrameProcessor:
    """This session's frame processor (its counters and buffers), made on first use.

    The first one, before any stream exists, also takes the server's long-lived objects out of
    garbage collection, whose pauses otherwise stall the video (``freeze_long_lived``).
    """
    if "webcam_processor" not in st.session_state:
        freeze_long_lived()
        st.session_state.webcam_processor = FrameProcessor()
    return st.session_state.webcam_processor


def track_stream(processor: FrameProcessor, state) -> None:
    """Reset the counters when a stream starts (Start pressed), not when it stops.

    The reset follows the press (``state.signalling``), which comes before any video: waiting for
    ``state.playing`` would zero counts that frames already made, since the first frames can be
    classified before the rerun that sees ``playing`` runs.
    """
    started = bool(state.signalling or state.playing)
    if started and not st.session_state.get("webcam_was_started", False):
        processor.reset()
    st.session_state.webcam_was_started = started


def track_connection(state) -> bool:
    """Follow this session's press of Start across reruns (``track_start``, from streamlit-webrtc's
    ``ctx.state``); True while it waits for video, so the page keeps refreshing to say if it waits too long."""
    start = track_start(st.session_state.get("webcam_start"), bool(state.signalling), bool(state.playing), monotonic())
    st.session_state.webcam_start = start
    return start is not None and start.ended is None


def show_start_problem() -> None:
    """Why live video did not start, once Start has waited too long for it."""
    if problem := start_problem(st.session_state.get("webcam_start"), monotonic()):
        st.warning(error_text(problem), icon=":material/wifi_off:")


def annotated_video(upload, processor: FrameProcessor, settings: tuple) -> AnnotatedVideo:
    """An uploaded video classified and annotated, kept in the session until the file or ``settings`` change.

    ``MediaError`` for a file that is not a readable video.
    """
    key = (upload.file_id, settings)
    done = st.session_state.get("webcam_video")
    if done is None or done[0] != key:
        with turn(N_("video classification")):
            done = _annotate(upload, processor, key)
        st.session_state.webcam_video = done
    return done[1]


def _annotate(upload, processor: FrameProcessor, key: tuple) -> tuple:
    text = _("Classifying frames…")
    bar = st.progress(0.0, text=text)
    try:
        return key, annotate_video(upload.getvalue(), processor, progress=lambda share: bar.progress(share, text=text))
    finally:
        bar.empty()


def webrtc_error() -> Refusal | None:
    """Why live WebRTC video cannot run on this server, or None."""
    try:
        import streamlit_webrtc  # noqa: F401
    except ImportError as exc:
        return Refusal(
            N_("the streamlit-webrtc package does not import ({detail}); run `pip install streamlit-webrtc`"),
            detail=exc,
        )
    return None


def show_predictions(predictions: Sequence[Prediction], trained: bool) -> None:
    """The top-k as large text: readable from the back of the room, and by screen readers."""
    if not predictions:
        st.markdown("#### " + _("Waiting for the first frame…"))
        return
    if not trained:
        st.markdown(_("**Untrained network:** its weights are random, so these labels mean nothing yet."))
    top, *rest = predictions
    st.markdown(f"## {plain(top.label)}: {top.prob:.0%}")
    for p in rest:
        st.markdown(f"### {plain(p.label)}: {p.prob:.0%}")


def show_stats(stats: StatsSnapshot) -> None:
    model_col, fps_col = st.columns(2)
    model_col.metric(
        _("Model"),
        "–" if stats.model_ms is None else f"{stats.model_ms:.0f} ms",
        help=_(
            "Median time of the forward pass alone over recent frames, on one CPU thread, with "
            "batch norm folded into the convolutions as deployment tools do."
        ),
    )
    fps_col.metric(_("Processed"), f"{stats.fps:.1f} FPS", help=_("Frames classified per second, last 2 seconds."))
    share = "" if stats.processed_share is None else f", {stats.processed_share:.0%}"
    st.markdown(
        _(
            "Frames: **{processed}** classified of **{received}** received{share} ({dropped} stale frames skipped "
            "to stay live). Whole callback: {callback} median.",
            processed=stats.processed,
            received=stats.received,
            share=share,
            dropped=stats.dropped,
            callback="–" if stats.callback_ms is None else f"**{stats.callback_ms:.1f} ms**",
        )
    )
    if stats.stages_ms:
        st.caption(
            _(
                "Where the time goes, median ms per frame: {stages}",
                stages=", ".join(
                    f"{_(STAGE_WORDS[s])} {stats.stages_ms[s]:.1f}" for s in STAGES if s in stats.stages_ms
                ),
            )
        )
