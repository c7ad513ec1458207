"""Webcam page: a lightweight network names what the camera sees, live, on this laptop or on a student's device."""

from pathlib import Path

import streamlit as st

from lwviz.i18n import said
from lwviz.images import ImageError
from lwviz.networks import DESIGN, READY, TRAINED
from lwviz.realtime import FrameResult, MediaError, image_frame, parse_ice_servers, rtc_configuration
from lwviz.realtime.ice import EXAMPLE, default_ice_text
from lwviz.realtime.modes import LIVE, MODES, SNAPSHOT, blocked, default_mode
from lwviz.ui.language import _, error_text, plain
from lwviz.ui.network_picker import pick_network
from lwviz.ui.ondevice import DEVICE, mode_from_url, mode_to_url, run_on_device
from lwviz.ui.state import current_spec
from lwviz.ui.training import trained_net
from lwviz.ui.webcam import (
    annotated_video,
    frame_model,
    missing_networks,
    resolutions,
    session_processor,
    show_predictions,
    show_start_problem,
    show_stats,
    track_connection,
    track_stream,
    webrtc_error,
)

VIDEO_TYPES = ("mp4", "webm", "mov", "mkv", "avi", "m4v")
IMAGE_TYPES = ("jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff")
MEDIA = {"video": {"width": {"ideal": 640}, "height": {"ideal": 480}, "frameRate": {"ideal": 30}}, "audio": False}
spec = current_spec()


def show_missing_networks() -> None:
    if missing := missing_networks():
        with st.expander(_("{count} more pretrained networks need their weights first", count=len(missing))):
            st.markdown("\n".join(f"- {plain(m)}" for m in missing))


st.title(_("Webcam"))
st.markdown(
    _(
        "Hold something up to the camera: a pretrained lightweight network names it, live, on this laptop's "
        "CPU or on your own device. The square on the video is what the network sees; the numbers say how long "
        "it took."
    )
)

ALL_MODES = (*MODES, DEVICE)
url, webrtc_problem = st.context.url, webrtc_error()
suggested, skipped = default_mode(url, webrtc_problem)
mode_from_url("webcam_mode", ALL_MODES)
mode_key = st.segmented_control(
    _("How frames arrive"),
    [m.key for m in ALL_MODES],
    default=None if "webcam_mode" in st.session_state else suggested.key,  # a mode from the URL is set there
    required=True,
    key="webcam_mode",
    format_func=lambda k: _(next(m.label for m in ALL_MODES if m.key == k)),
)
mode = next(m for m in ALL_MODES if m.key == mode_key)
mode_to_url(mode)
if mode == DEVICE:
    st.info(_("**On-device mode is on:** {how}.", how=_(DEVICE.how)), icon=DEVICE.icon)
else:
    if problem := blocked(mode, url, webrtc_problem):
        st.warning(
            _("{mode} will not work here: {problem}.", mode=_(mode.label), problem=error_text(problem)),
            icon=":material/warning:",
        )
    why = " ".join(error_text(reason) for reason in skipped) if mode == suggested else _("You chose it.")
    on = _("{mode} is on: {how}.", mode=_(mode.label), how=_(mode.how))
    st.info(f"{on} {why}".strip(), icon=mode.icon)

net_col, res_col = st.columns([3, 2], vertical_alignment="bottom")
with net_col:
    net = pick_network(
        "webcam",
        spec,
        (READY, TRAINED, DESIGN),
        help=_(
            "EfficientNet-Lite0's ImageNet weights ship with the app, so it works offline. Your "
            "design comes from the Build page, with random weights."
        ),
    )
if net is None:
    st.stop()
native = net.resolution
if len(offered := resolutions(net)) > 1:
    resolution = res_col.select_slider(  # keyed by the native size too: a changed design starts from its own
        _("Input resolution"),
        offered,
        value=native,
        key=f"webcam_resolution_{net.key}_{native}",
        help=_(
            "The network's input in pixels. Fewer pixels: fewer MACs and faster, but pretrained weights are most "
            "accurate at the size they learned at."
        ),
    )
else:
    resolution = native
    res_col.markdown(_("Input: {size}×{size} pixels, the size it was trained on", size=native))
toggles = st.container(horizontal=True, gap="large")
int8 = toggles.toggle(
    "int8",
    key="webcam_int8",
    help=_(
        "8-bit integer weights and activations, calibrated on "
        "sample photos: about 4x smaller, often faster, slightly less accurate."
    ),
)
mirror = toggles.toggle(_("Mirror"), value=True, key="webcam_mirror", help=_("Show the camera like a mirror."))
paused = toggles.toggle(
    _("Pause"), key="webcam_paused", help=_("Freeze the picture and its labels to talk about them.")
)
grad_cam = mode != DEVICE and toggles.toggle(
    "Grad-CAM",
    key="webcam_grad_cam",
    help=_(
        "Color the square by where the network found "
        "evidence for its top answer (red: strong). See the Look inside page for how it works."
    ),
)
cam_every = (
    toggles.number_input(
        _("Grad-CAM every … frames"),
        1,
        30,
        5,
        key="webcam_cam_every",
        width=180,
        help=_(
            "Grad-CAM needs a backward pass, several times a forward pass: refreshing the map every few frames "
            "keeps the video fluid."
        ),
    )
    if grad_cam
    else 0
)
if mode == DEVICE:
    run_on_device(net, resolution, int8, mirror, paused, [m for m in MODES if not blocked(m, url, webrtc_problem)])
    show_missing_networks()
    st.stop()
with st.spinner(
    _("Calibrating int8 on sample photos (once per network and resolution)…") if int8 else _("Loading the network…")
):
    model, int8_note = frame_model(net, resolution, int8, grad_cam)
if int8_note:
    st.warning(_("{problem}. Running in float32.", problem=plain(said(int8_note, _))), icon=":material/memory:")
if net.key == TRAINED:
    st.info(plain(trained_net().camera_hint), icon=":material/draw:")
processor = session_processor()
processor.configure(model=model, mirror=mirror, paused=paused, cam_every=cam_every)
if not model.trained:
    st.warning(
        _(
            "Your design has random weights: it runs at the real speed of your design, but its labels are "
            "meaningless until it is trained."
        ),
        icon=":material/science:",
    )
show_missing_networks()


def show_live_text(trained: bool) -> None:
    with st.container(key="webcam_live"):
        show_start_problem()
        stats = processor.stats.snapshot()
        if processor.error:
            st.error(_("The last frame failed: {problem}", problem=plain(str(processor.error))))
        if processor.paused:
            st.markdown(_("**Paused:** the picture and labels are frozen."))
        show_predictions(stats.predictions, trained)
        show_stats(stats)


def show_result(result: FrameResult, trained: bool) -> None:
    picture_col, text_col = st.columns([3, 2])
    picture_col.image(result.frame.to_ndarray(format="rgb24"), width="stretch")
    with text_col, st.container(key="webcam_result"):
        show_predictions(result.predictions, trained)
        show_stats(processor.stats.snapshot())


def classify_picture(upload) -> None:
    """A snapshot or uploaded photo through the same frame processor as the live video."""
    try:
        show_result(processor.process(image_frame(upload)), model.trained)
    except ImageError as exc:
        st.error(_("The picture could not be read: {problem}", problem=error_text(exc)))
    except RuntimeError as exc:
        st.error(_("The network failed on this picture: {problem}", problem=plain(str(exc))))


if mode == LIVE:
    import streamlit_webrtc

    with st.expander(_("Connection settings (students on other machines)"), icon=":material/lan:"):
        st.markdown(
            _(
                "On this laptop nothing is needed. Across networks, add a STUN server (finds public "
                "addresses) or a TURN server (relays the video), one per line:"
            )
        )
        ice_text = st.text_area(_("STUN/TURN servers"), default_ice_text(), placeholder=EXAMPLE, key="webcam_ice")
        try:
            servers = parse_ice_servers(ice_text)
        except ValueError as exc:
            st.error(_("{problem}. Connecting without STUN/TURN servers.", problem=error_text(exc)))
            servers = []
    video_col, text_col = st.columns([3, 2])
    with video_col:
        ctx = streamlit_webrtc.webrtc_streamer(
            key="webcam",
            mode=streamlit_webrtc.WebRtcMode.SENDRECV,
            rtc_configuration=rtc_configuration(servers),
            media_stream_constraints=MEDIA,
            queued_video_frames_callback=processor.recv_queued,
            async_processing=True,
        )
    playing = bool(ctx.state.playing)
    track_stream(processor, ctx.state)
    connecting = track_connection(ctx.state)
    with text_col:
        st.fragment(show_live_text, run_every=1.0 if playing or connecting else None)(model.trained)
elif mode == SNAPSHOT:
    shot = st.camera_input(_("Take a snapshot"), key="webcam_snapshot")
    if shot is not None:
        classify_picture(shot)
else:
    upload = st.file_uploader(
        _("A photo or a short video"), type=[*IMAGE_TYPES, *VIDEO_TYPES], key="webcam_upload", max_upload_size=200
    )
    if upload is not None and Path(upload.name).suffix.lower().lstrip(".") in VIDEO_TYPES:
        try:
            video = annotated_video(upload, processor, settings=(net.model, resolution, int8, mirror))
        except MediaError as exc:
            st.error(_("The video could not be read: {problem}", problem=error_text(exc)))
        else:
            st.video(video.data, format="video/webm")
            st.caption(
                _(
                    "{frames} frames classified, {fps} per second of video.",
                    frames=len(video.timeline),
                    fps=f"{video.fps:g}",
                )
            )
            second, top1, probability = _("second"), _("top-1"), _("probability")
            st.dataframe(
                [
                    {second: t, top1: preds[0].label, probability: round(preds[0].prob, 3)}
                    for t, preds in video.timeline
                ],
                hide_index=True,
                width="stretch",
            )
    elif upload is not None:
        classify_picture(upload)
