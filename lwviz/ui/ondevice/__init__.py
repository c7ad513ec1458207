"""The Webcam page's on-device mode: a browser component that runs the network on the student's own device.

The component (built from ``frontend/ondevice`` into ``static/``, which ships in the package) takes the
browser's camera, crops and resizes each frame to the network's input, runs the ONNX file with
onnxruntime-web (WebAssembly with SIMD, or WebGPU where the browser has it) and shows the top 3. No
video leaves the device: the server hands out the model file once and receives, about once a second,
the device's median milliseconds and frame rate (a report, validated by ``lwviz.ui.device``).

It is a v1 component (an iframe) because v1 serves a whole directory from any install: onnxruntime-web
needs its ``.wasm`` and ``.mjs`` files by URL. A v2 component serves files only from an ``asset_dir``
declared in the ``pyproject.toml`` of an installed distribution, which a checkout run with
``streamlit run app.py`` does not have. The component holds no words of its own: every text it shows
is passed in, translated, from :func:`texts`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from lwviz.i18n import N_
from lwviz.networks import Network
from lwviz.realtime.modes import LIVE, SNAPSHOT, UPLOAD, Mode
from lwviz.ui.language import _, error_text

STATIC = Path(__file__).parent / "static"
MODEL_MIME = "application/octet-stream"
MAX_SESSION_ID = 64  # characters; the component sends a UUID (36)
KEY = "webcam_device"  # the component's key; its last handled message is kept under KEY + "_seen"
MODE_REQUEST = "webcam_mode_request"  # a mode the component asked for, applied before the mode control is drawn

DEVICE = Mode(
    "device",
    N_("On this device"),
    ":material/smartphone:",
    needs_camera=True,
    needs_webrtc=False,
    how=N_(
        "this browser runs the network on its own camera and processor. No video leaves the device; the laptop "
        "only hands out the model file and collects each device's speed"
    ),
)

# Where a device that cannot run the network on its own goes instead, and what the button says.
FALLBACK_BUTTONS = {
    LIVE.key: N_("Use live video on the laptop"),
    SNAPSHOT.key: N_("Use a snapshot"),
    UPLOAD.key: N_("Use an upload"),
}


@functools.cache
def build_info() -> dict:
    """What ``frontend/ondevice``'s build wrote: the onnxruntime-web version, whether WebGPU ships, the files."""
    return json.loads((STATIC / "build.json").read_text())


def texts() -> dict[str, str]:
    """Every word the component shows, in the session's language (``{fields}`` are filled in the browser)."""
    return {
        "starting": _("Starting the camera…"),
        "loading": _("Loading the network…"),
        "downloading": _("Downloading the network: {done} of {total} MB…"),
        "waiting": _("Waiting for the first frame…"),
        "model": _("Model"),
        "processed": _("Processed"),
        "backend": _("Runs on"),
        "wasm": _("CPU (WebAssembly)"),
        "webgpu": _("GPU (WebGPU)"),
        "ms": _("{ms} ms"),
        "fps": _("{fps} FPS"),
        "frames": _("Frames: {frames} classified on this device, {skipped} camera frames skipped to stay live."),
        "steps": _(
            "Where the time goes, median ms per frame: crop and resize {resize}, read pixels {pixels}, "
            "to tensor {tensor}, network {model}, top 3 {draw}."
        ),
        "private": _("The video stays on this device: only the network's milliseconds and frame rate are reported."),
        "untrained": _("Untrained network: its weights are random, so these labels mean nothing yet."),
        "no_simd": _(
            "This browser cannot run the network itself: it lacks WebAssembly SIMD (Chrome, Edge and Firefox "
            "since 2021 and Safari since 16.4 have it). The laptop can run it instead:"
        ),
        "no_camera_api": _(
            "This browser gives the page no camera: browsers allow it only on localhost or over HTTPS (the "
            "README shows how to serve the app over HTTPS). Without a camera:"
        ),
        "camera_denied": _(
            "The camera was not allowed. Allow it in the browser's address bar and reload the page, or go on "
            "without a camera:"
        ),
        "no_camera": _("No camera was found on this device. Without a camera:"),
        "camera_busy": _(
            "The camera is in use by another program or could not start. Close that program and reload the "
            "page, or go on without a camera:"
        ),
        "camera_failed": _("The camera could not start ({error}). Without a camera:"),
        "load_failed": _("The network could not be loaded on this device ({error}). The laptop can run it instead:"),
        "run_failed": _("The network failed on this device ({error}). The laptop can run it instead:"),
    }


def fallbacks(modes: Iterable[Mode]) -> list[dict]:
    """The buttons of the component's problem message: each mode of ``modes`` the component offers instead."""
    return [
        {"mode": m.key, "label": _(FALLBACK_BUTTONS[m.key]), "camera": m.needs_camera}
        for m in modes
        if m.key in FALLBACK_BUTTONS
    ]


def model_url(model_id: str, data: bytes) -> str:
    """A URL this server serves the model file at, for this session's page.

    Streamlit's media file storage keeps one copy per content (its id is a hash of the bytes), so every
    session that shows the same network shares it, and forgets it once no session shows it.
    """
    from streamlit.runtime import get_instance

    return get_instance().media_file_mgr.add(data, MODEL_MIME, coordinates="lwviz.ondevice.model", file_name=model_id)


def ondevice_camera(
    *,
    model_id: str,
    url: str,
    crop_share: float,
    trained: bool,
    mirror: bool,
    paused: bool,
    offer: list[dict],
    key: str,
):
    """Mount the component (the first time) or update it; returns its last value (see :func:`read_value`).

    ``crop_share``: the side of the centre square the network reads, as a share of the frame's shorter
    side (the server's resize-then-crop: 224 / 256). Declared on every call: a component is registered
    with the runtime of the script run that declares it (AppTest makes a runtime per test).
    """
    component = components.declare_component("ondevice", path=str(STATIC))
    return component(
        model_id=model_id,
        model_url=url,
        crop_share=crop_share,
        trained=trained,
        mirror=mirror,
        paused=paused,
        webgpu=bool(build_info().get("webgpu")),
        fallbacks=offer,
        text=texts(),
        key=key,
        default=None,
    )


@dataclass(frozen=True)
class Message:
    """One value the component sent: a speed report, or a request to switch to another mode."""

    session_id: str  # a random UUID the component made when the page loaded
    seq: int  # counts up within a session id: a value seen again on a rerun is not new
    report: object = None  # passed as it came to ``submit_report``, which validates it
    mode: str | None = None


def read_value(value: object, seen: tuple[str, int] | None, modes: Iterable[str]) -> Message | None:
    """The component's value as a new :class:`Message`, or None when it is old, absent or malformed.

    The value comes from a browser: anything may arrive. ``seen`` is the (session id, seq) of the last
    message handled; ``modes`` the mode keys a switch may name.
    """
    if not isinstance(value, dict):
        return None
    session_id, seq = value.get("session_id"), value.get("seq")
    if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID:
        return None
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return None
    if seen is not None and seen[0] == session_id and seq <= seen[1]:
        return None
    mode = value.get("mode") if value.get("action") == "mode" else None
    if mode is not None and mode not in set(modes):
        mode = None
    return Message(session_id, seq, value.get("report"), mode)


def keep_seen(message: Message, key: str) -> None:
    """Remember ``message`` as handled in this session (``read_value``'s ``seen``)."""
    st.session_state[key] = (message.session_id, message.seq)


def mode_from_url(key: str, modes: Iterable[Mode]) -> None:
    """Before the mode control ``key`` is drawn: switch to the mode the component asked for, or to a
    ``?mode=`` in the URL that this session did not put there itself (a join link: ``/webcam?mode=device``)."""
    state, keys = st.session_state, {m.key for m in modes}
    asked = st.query_params.get("mode")
    if (request := state.pop(MODE_REQUEST, None)) in keys:
        state[key] = request
    elif asked in keys and asked != state.get("webcam_mode_in_url"):
        state[key] = asked
    state.webcam_mode_in_url = asked


def mode_to_url(mode: Mode) -> None:
    """``?mode=device`` while the on-device mode is on, so its address can be shared; no ``mode`` otherwise."""
    if mode == DEVICE:
        st.query_params["mode"] = st.session_state.webcam_mode_in_url = DEVICE.key
    elif "mode" in st.query_params:
        del st.query_params["mode"]
        st.session_state.webcam_mode_in_url = None


def run_on_device(net: Network, resolution: int, int8: bool, mirror: bool, paused: bool, instead: list[Mode]) -> None:
    """The on-device mode's body: the network's file for devices (made once per server), then the component.

    ``instead``: the server's modes that work here, offered when this device cannot run the network.
    """
    from lwviz.export import ExportError
    from lwviz.ui.device import device_model

    try:
        info, data = device_model(net, resolution, int8)  # made once per server, with its own spinner
    except ExportError as exc:
        st.error(_("The network's file for devices could not be made: {error}", error=error_text(exc)))
        return
    if int8 and not info.int8:
        st.warning(_("int8 is not available for this network: devices run it in float32."), icon=":material/memory:")
    st.caption(
        _(
            "{network} at {resolution}×{resolution} pixels, {precision}: {params} parameters, {macs} MACs. "
            "Each device downloads its {size} MB file once and keeps it.",
            network=info.label,
            resolution=info.resolution,
            precision="int8" if info.int8 else "float32",
            params=f"{info.params / 1e6:.2f}M",
            macs=f"{info.macs / 1e6:.0f}M",
            size=f"{info.bytes / 2**20:.1f}",
        )
    )
    st.download_button(
        _("Download this file (ONNX)"),
        data,
        f"{info.name}_{info.resolution}{'_int8' if info.int8 else ''}.onnx",
        "application/octet-stream",
        key="webcam_device_onnx",
        on_click="ignore",
        icon=":material/download:",
        help=_(
            "What the devices run, for any ONNX runtime: input `image` [1, 3, R, R] RGB in [0, 1], output `probs`; "
            "the class names are in its metadata. `lwviz onnx` makes the same file."
        ),
    )
    if not net.trained:
        st.warning(
            _("Your design has random weights: devices run it at its real speed, but its labels mean nothing."),
            icon=":material/science:",
        )
    url = model_url(info.model_id, data)
    crop_share = net.preprocess.crop / net.preprocess.resize  # the same centre square as the server's frames
    st.fragment(device_view)(info.model_id, url, crop_share, net.trained, mirror, paused, fallbacks(instead))


def device_view(
    model_id: str, url: str, crop_share: float, trained: bool, mirror: bool, paused: bool, offer: list[dict]
) -> None:
    """The component, in a fragment: a device's report reruns this alone, not the page."""
    from lwviz.ui.device import submit_report

    value = ondevice_camera(
        model_id=model_id,
        url=url,
        crop_share=crop_share,
        trained=trained,
        mirror=mirror,
        paused=paused,
        offer=offer,
        key=KEY,
    )
    message = read_value(value, st.session_state.get(f"{KEY}_seen"), [o["mode"] for o in offer])
    if message is None:
        return
    keep_seen(message, f"{KEY}_seen")
    if message.mode is not None:
        st.session_state[MODE_REQUEST] = message.mode
        st.rerun(scope="app")
    if message.report is not None:
        submit_report(message.session_id, message.report)
