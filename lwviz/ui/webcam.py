"""Streamlit glue of the Webcam page: the networks on offer, their shared models, each session's processor.

Models are cached per server and shared by every session (never mutated: quantization works on
a copy, and the forward pass only reads them). The frame processor is per session, so one
student's stream and counters never show in another's.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from time import monotonic

import streamlit as st
from torch import nn

from lwviz.builder import Net
from lwviz.classify import Prediction
from lwviz.compress import QuantizationUnsupported, calibration_images, quantize_int8
from lwviz.compress.quantize import traced
from lwviz.realtime import (STAGES, AnnotatedVideo, FrameModel, FrameProcessor, StatsSnapshot, annotate_video,
                            at_resolution, inference_copy)
from lwviz.realtime.modes import start_problem, track_start
from lwviz.realtime.pauses import freeze_long_lived
from lwviz.spec import Spec
from lwviz.explain import Explainer
from lwviz.ui.cache import design_explainer, design_model, pretrained_model, source_explainer, usable_source
from lwviz.ui.state import plain
from lwviz.ui.training import TRAINED, TrainedNet, trained_net
from lwviz.weights import LITE0, available_sources, get_source, imagenet_categories, sources_for
from lwviz.weights.preprocess import TORCHVISION_PREPROCESS, Preprocess

DESIGN = "design"  # the network choice meaning "the design from the Build page"
RESOLUTIONS = (96, 128, 160, 192, 224, 256, 288, 320)


def network_choices(spec: Spec) -> dict[str, str]:
    """Choice key -> label: Lite0 first (it works offline everywhere), other weights found here, the design."""
    sources = sorted(available_sources(), key=lambda s: s.name != LITE0.name)
    trained = {TRAINED: f"Trained here: {t.label}"} if (t := trained_net()) is not None else {}
    return {**{s.name: s.label for s in sources}, **trained,
            DESIGN: f"Your design ({spec.name}): untrained, random weights"}


def usable_network(network: str) -> str:
    """``network``, unless its pretrained weights fail to load (a damaged file): then, with the reason shown,
    a network whose weights load, or the design when none does."""
    if network in (DESIGN, TRAINED):
        return network
    return usable_source(network) or DESIGN


def missing_networks() -> list[str]:
    """What each pretrained network not on this machine needs (shown, not offered)."""
    return [f"{s.label}: {s.missing()}" for s in sources_for() if not s.is_available()]


def native_resolution(network: str, spec: Spec) -> int:
    if network == TRAINED:
        return trained_net().data.resolution
    return spec.resolution if network == DESIGN else get_source(network).preprocess.crop


def resolutions(network: str, spec: Spec) -> list[int]:
    """The input sizes on offer; a network trained here on small pictures only reads its own size."""
    native = native_resolution(network, spec)
    return [native] if network == TRAINED else sorted({*RESOLUTIONS, native})


def design_categories(spec: Spec) -> tuple[str, ...]:
    return imagenet_categories() if spec.num_classes == 1000 else tuple(f"class {i}" for i in range(spec.num_classes))


@dataclass(frozen=True)
class _Recipe:
    """Everything about a network choice except its weights."""

    preprocess: Preprocess
    categories: tuple[str, ...]
    title: str
    trained: bool


# In the functions below ``design`` is the Build page's spec when ``network`` is DESIGN, else None
# (so the caches do not keep a copy of a pretrained network per design the student tried).

def _recipe(network: str, design: Spec | None) -> _Recipe:
    if network == DESIGN:
        return _Recipe(TORCHVISION_PREPROCESS, design_categories(design), design.name, trained=False)
    source = get_source(network)
    return _Recipe(source.preprocess, source.categories, source.spec.name, trained=True)


def float_model(network: str, design: Spec | None) -> Net:
    return design_model(design) if network == DESIGN else pretrained_model(network)


@st.cache_resource(max_entries=4, show_spinner=False)
def fast_model(network: str, design: Spec | None) -> nn.Module:
    """The float network with batch norm folded, channels-last (``inference_copy``)."""
    return inference_copy(float_model(network, design))


@st.cache_resource(max_entries=4, show_spinner=False)
def int8_model(network: str, design: Spec | None, resolution: int) -> tuple[nn.Module | None, str | None]:
    """(quantized copy as its traced graph, None) or (None, why not).

    Failures are returned rather than raised so they are cached too: calibration takes seconds.
    """
    photos = calibration_images(at_resolution(_recipe(network, design).preprocess, resolution))
    try:
        return traced(quantize_int8(float_model(network, design), photos), photos[:1]), None
    except QuantizationUnsupported as exc:
        return None, str(exc)


def explainer(network: str, design: Spec | None) -> Explainer:
    return design_explainer(design) if network == DESIGN else source_explainer(network)


def frame_model(network: str, spec: Spec, resolution: int, int8: bool,
                grad_cam: bool = False) -> tuple[FrameModel, str | None]:
    """The network to run on frames (with its explainer for the Grad-CAM overlay if asked), and a note
    when int8 was asked for but is not available."""
    if network == TRAINED:
        return _trained_frame_model(trained_net(), int8, grad_cam)
    design = spec if network == DESIGN else None
    recipe = _recipe(network, design)
    model, note = fast_model(network, design), None
    if int8:
        quantized, note = int8_model(network, design, resolution)
        model = quantized or model
    title = f"{recipe.title} int8" if int8 and note is None else recipe.title
    return FrameModel(model, at_resolution(recipe.preprocess, resolution), recipe.categories, title,
                      recipe.trained, explainer(network, design) if grad_cam else None), note


class _TrainedCopies:
    """A session's trained network made ready for frames; each copy is made on first use, in this session only."""

    def __init__(self, net: TrainedNet):
        self.net = net
        self.fast = inference_copy(net.model)

    @cached_property
    def int8(self) -> tuple[nn.Module | None, str | None]:
        pictures = self.net.data.train_x[:256]
        try:  # calibrated on its own training pictures
            return traced(quantize_int8(self.net.model, pictures), pictures[:1]), None
        except QuantizationUnsupported as exc:
            return None, str(exc)

    @cached_property
    def explainer(self) -> Explainer:
        return Explainer(self.net.model)


def _trained_frame_model(trained: TrainedNet, int8: bool, grad_cam: bool) -> tuple[FrameModel, str | None]:
    copies = st.session_state.get("webcam_trained")
    if copies is None or copies.net is not trained:
        copies = st.session_state.webcam_trained = _TrainedCopies(trained)
    model, note = copies.fast, None
    if int8:
        quantized, note = copies.int8
        model = quantized or model
    title = f"{trained.model.spec.name} ({trained.data.name})" + (" int8" if int8 and note is None else "")
    return FrameModel(model, trained.camera_preprocess(), trained.data.classes, title, True,
                      copies.explainer if grad_cam else None), note


def session_processor() -> FrameProcessor:
    """This session's frame processor (its counters and buffers), made on first use.

    The first one, before any stream exists, also takes the server's long-lived objects out of
    garbage collection, whose pauses otherwise stall the video (``freeze_long_lived``).
    """
    if "webcam_processor" not in st.session_state:
        freeze_long_lived()
        st.session_state.webcam_processor = FrameProcessor()
    return st.session_state.webcam_processor


def track_playing(processor: FrameProcessor, playing: bool) -> None:
    """Reset the counters when the stream starts (Start pressed), not when it stops."""
    if playing and not st.session_state.get("webcam_was_playing", False):
        processor.reset()
    st.session_state.webcam_was_playing = playing


def track_connection(state) -> bool:
    """Follow this session's press of Start across reruns (``track_start``, from streamlit-webrtc's
    ``ctx.state``); True while it waits for video, so the page keeps refreshing to say if it waits too long."""
    start = track_start(st.session_state.get("webcam_start"), bool(state.signalling), bool(state.playing),
                        monotonic())
    st.session_state.webcam_start = start
    return start is not None and start.ended is None


def show_start_problem() -> None:
    """Why live video did not start, once Start has waited too long for it."""
    if problem := start_problem(st.session_state.get("webcam_start"), monotonic()):
        st.warning(plain(problem), icon=":material/wifi_off:")


def annotated_video(upload, processor: FrameProcessor, settings: tuple) -> AnnotatedVideo:
    """An uploaded video classified and annotated, kept in the session until the file or ``settings`` change.

    ``MediaError`` for a file that is not a readable video.
    """
    key = (upload.file_id, settings)
    done = st.session_state.get("webcam_video")
    if done is None or done[0] != key:
        bar = st.progress(0.0, text="Classifying frames…")
        try:
            done = key, annotate_video(upload.getvalue(), processor,
                                       progress=lambda share: bar.progress(share, text="Classifying frames…"))
        finally:
            bar.empty()
        st.session_state.webcam_video = done
    return done[1]


def webrtc_error() -> str | None:
    """Why live WebRTC video cannot run on this server, or None."""
    try:
        import streamlit_webrtc  # noqa: F401
    except ImportError as exc:
        return f"the streamlit-webrtc package does not import ({exc}); run `pip install streamlit-webrtc`"
    return None


def show_predictions(predictions: Sequence[Prediction], trained: bool) -> None:
    """The top-k as large text: readable from the back of the room, and by screen readers."""
    if not predictions:
        st.markdown("#### Waiting for the first frame…")
        return
    if not trained:
        st.markdown("**Untrained network:** its weights are random, so these labels mean nothing yet.")
    top, *rest = predictions
    st.markdown(f"## {plain(top.label)}: {top.prob:.0%}")
    for p in rest:
        st.markdown(f"### {plain(p.label)}: {p.prob:.0%}")


def show_stats(stats: StatsSnapshot) -> None:
    model_col, fps_col = st.columns(2)
    model_col.metric("Model", "–" if stats.model_ms is None else f"{stats.model_ms:.0f} ms",
                     help="Median time of the forward pass alone over recent frames, on one CPU thread, with "
                          "batch norm folded into the convolutions as deployment tools do.")
    fps_col.metric("Processed", f"{stats.fps:.1f} FPS", help="Frames classified per second, last 2 seconds.")
    st.markdown(f"Frames: **{stats.processed}** classified of **{stats.received}** received "
                f"({stats.dropped} stale frames skipped to stay live). Whole callback: "
                + ("–" if stats.callback_ms is None else f"**{stats.callback_ms:.1f} ms**") + " median.")
    if stats.stages_ms:
        st.caption("Where the time goes, median ms per frame: "
                   + ", ".join(f"{s} {stats.stages_ms[s]:.1f}" for s in STAGES if s in stats.stages_ms))
