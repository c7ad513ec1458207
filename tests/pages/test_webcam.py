"""Webcam page in AppTest, with ``webrtc_streamer`` patched (it needs a browser) and frames fed to its callback."""

import io
import json
from fractions import Fraction
from types import SimpleNamespace
from unittest import mock

import av
import numpy as np
import pytest
import skimage.data
import streamlit_webrtc
import torch
from PIL import Image

from lwviz.presets import get_preset
from lwviz.realtime import cover
from lwviz.realtime.modes import CONNECT_LIMIT_S, LIVE, SNAPSHOT, UPLOAD
from lwviz.weights import LITE0, get_source
from lwviz.weights.offline import PackageSource
from tests.pages.apptest import open_page, with_damaged_weights
from tests.weights_fakes import damage


class FakeStreamer:
    """Stands in for ``webrtc_streamer``: records its arguments, reports a chosen state.

    As in streamlit-webrtc, ``signalling`` means Start was pressed and the offer is out, ``playing``
    that the connection is up (the widget then drops its offer: never both).
    """

    def __init__(self):
        self.playing = False
        self.signalling = False
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        return SimpleNamespace(state=SimpleNamespace(playing=self.playing, signalling=self.signalling))

    @property
    def last(self):
        return self.calls[-1]

    def send(self, *frames):
        """Frames from the browser, as streamlit-webrtc hands them to the callback."""
        import asyncio

        return asyncio.run(self.last["queued_video_frames_callback"](list(frames)))


@pytest.fixture
def streamer():
    fake = FakeStreamer()
    with mock.patch.object(streamlit_webrtc, "webrtc_streamer", fake):
        yield fake


def coffee_frame():
    return av.VideoFrame.from_ndarray(cover(skimage.data.coffee(), 640, 480), format="rgb24").reformat(format="yuv420p")


def live_text(at):
    return [m.value for m in at.markdown]


def processor(at):
    return at.session_state.webcam_processor


def test_default_is_offline_lite0_live_with_no_stun(streamer):
    at = open_page("webcam")
    assert at.selectbox("webcam_network").value == LITE0.name
    assert at.get("select_slider")[0].value == 224
    args = streamer.last
    assert args["rtc_configuration"] == {"iceServers": []}  # no STUN server: works on localhost with no internet
    assert args["async_processing"] and args["media_stream_constraints"]["audio"] is False
    assert args["queued_video_frames_callback"].__self__ is processor(at)  # this session's processor
    model = processor(at).model
    assert model.title == "efficientnet_lite0" and model.trained and processor(at).mirror
    assert at.info[0].value.startswith("Live video is on")
    assert "#### Waiting for the first frame…" in live_text(at)


def test_frames_through_the_callback_show_as_text_beside_the_video(streamer):
    at = open_page("webcam")
    out = streamer.send(coffee_frame(), coffee_frame())
    assert len(out) == 1 and (out[0].width, out[0].height) == (640, 480)
    streamer.playing = True  # Start pressed: the counters start from zero
    at.run()
    assert any("**0** classified of **0** received" in t for t in live_text(at))
    streamer.send(coffee_frame(), coffee_frame(), coffee_frame())
    at.run()
    text = live_text(at)
    assert next(t for t in text if t.startswith("## ")).startswith("## espresso: ")
    assert len([t for t in text if t.startswith("### ")]) == 2
    assert any("**1** classified of **3** received, 33% (2 stale frames skipped" in t for t in text)
    assert {m.label for m in at.metric} == {"Model", "Processed"}
    assert "Where the time goes" in " ".join(c.value for c in at.caption)


def test_controls_reach_the_frame_processor(streamer):
    at = open_page("webcam")
    at.get("select_slider")[0].set_value(160).run()
    at.toggle("webcam_mirror").set_value(False).run()
    at.toggle("webcam_paused").set_value(True).run()
    p = processor(at)
    assert p.model.preprocess.crop == 160 and p.model.preprocess.resize == 183
    assert not p.mirror and p.paused
    assert not at.exception and not at.error


def test_grad_cam_overlay_colours_the_square_and_refreshes_every_n_frames(streamer):
    at = open_page("webcam")
    at.get("select_slider")[0].set_value(128).run()
    plain = streamer.send(coffee_frame())[0].to_ndarray(format="rgb24")
    assert processor(at).cam_every == 0 and processor(at).model.explainer is None
    at.toggle("webcam_grad_cam").set_value(True).run()
    at.number_input("webcam_cam_every").set_value(3).run()
    p = processor(at)
    assert p.cam_every == 3 and p.model.explainer is not None
    coloured = streamer.send(coffee_frame())[0].to_ndarray(format="rgb24")
    square = (slice(200, 470), slice(90, 550))  # below the label panel, inside the square the model sees
    assert np.abs(coloured[square].astype(int) - plain[square]).mean() > 10
    assert (coloured[:, 570:] == plain[:, 570:]).all()  # outside the square the picture is untouched
    assert p.stats.snapshot().predictions[0].label == "espresso"
    at.toggle("webcam_grad_cam").set_value(False).run()
    assert processor(at).cam_every == 0 and not at.exception


def test_the_design_from_the_build_page_is_flagged_untrained(streamer):
    spec = get_preset("mobilenet_v3_small").with_(width=0.5, resolution=128)
    at = open_page("webcam", spec=spec.to_string())
    at.selectbox("webcam_network").set_value("design").run()
    model = processor(at).model
    assert not model.trained and model.preprocess.crop == 128
    assert any("random weights" in w.value for w in at.warning)
    streamer.playing = True
    at.run()
    out = streamer.send(coffee_frame())[0].to_ndarray(format="rgb24")
    assert out.shape == (480, 640, 3)
    at.run()
    assert any("labels mean nothing" in t for t in live_text(at))


def runs_int8(model) -> bool:
    """The frame path runs the int8 network as one traced graph of int8 convolutions."""
    return isinstance(model, torch.jit.ScriptModule) and "quantized::conv2d" in str(model.inlined_graph)


def test_int8_of_a_design_with_squeeze_and_excitation_runs_quantized(streamer):
    at = open_page("webcam", spec=get_preset("mobilenet_v3_small").with_(width=0.25, resolution=96).to_string())
    at.selectbox("webcam_network").set_value("design").run()
    at.toggle("webcam_int8").set_value(True).run()
    assert not at.exception and not any("Running in float32" in w.value for w in at.warning)
    model = processor(at).model
    assert model.title.endswith("int8")
    assert runs_int8(model.model)


def test_int8_lite0_runs_quantized(streamer):
    at = open_page("webcam")
    at.get("select_slider")[0].set_value(160).run()
    at.toggle("webcam_int8").set_value(True).run()
    model = processor(at).model
    assert model.title == "efficientnet_lite0 int8"
    assert runs_int8(model.model)
    assert streamer.send(coffee_frame())[0].width == 640
    assert processor(at).stats.snapshot().predictions[0].label == "espresso"


def test_stun_and_turn_servers_are_a_setting(streamer):
    at = open_page("webcam")
    at.text_area("webcam_ice").set_value("stun:stun.example.org:3478\nturn:turn.example.org:3478 a b").run()
    assert streamer.last["rtc_configuration"] == {
        "iceServers": [
            {"urls": ["stun:stun.example.org:3478"]},
            {"urls": ["turn:turn.example.org:3478"], "username": "a", "credential": "b"},
        ]
    }
    at.text_area("webcam_ice").set_value("turn:turn.example.org:3478").run()
    assert "line 1" in at.error[0].value and streamer.last["rtc_configuration"] == {"iceServers": []}


def test_two_sessions_never_share_a_stream(streamer):
    mine, theirs = open_page("webcam"), open_page("webcam")
    mine_callback = streamer.calls[0]["queued_video_frames_callback"]
    assert mine_callback.__self__ is processor(mine) is not processor(theirs)
    mine_callback.__self__.process_latest([coffee_frame()])
    assert processor(mine).stats.snapshot().processed == 1 and processor(theirs).stats.snapshot().processed == 0


def _jpeg(rgb):
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_snapshot_mode_goes_through_the_same_processor(streamer):
    at = open_page("webcam")
    at.get("button_group")[0].set_value("snapshot").run()
    assert at.info[0].value.startswith("Snapshot is on") and "You chose it" in at.info[0].value
    at.camera_input[0].set_value(("shot.jpg", _jpeg(cover(skimage.data.coffee(), 640, 480)), "image/jpeg")).run()
    assert not at.exception
    assert next(t for t in live_text(at) if t.startswith("## ")).startswith("## espresso: ")
    assert at.get("imgs") or at.get("image")
    assert processor(at).stats.snapshot().processed == 1


def test_uploaded_photo_video_and_junk(streamer):
    at = open_page("webcam")
    at.get("button_group")[0].set_value("upload").run()
    uploader = at.file_uploader[0]
    uploader.set_value(("cup.jpg", _jpeg(skimage.data.coffee()), "image/jpeg")).run()
    assert next(t for t in live_text(at) if t.startswith("## ")).startswith("## espresso: ")

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(10):  # one second
            frame = av.VideoFrame.from_ndarray(cover(skimage.data.coffee(), 320, 240), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    at.file_uploader[0].set_value(("cup.webm", buffer.getvalue(), "video/webm")).run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert table["second"].tolist() == [0.0, 0.2, 0.4, 0.6, 0.8] and set(table["top-1"]) == {"espresso"}
    assert "5 frames classified" in " ".join(c.value for c in at.caption)

    at.file_uploader[0].set_value(("junk.mp4", b"\x00" * 64, "video/mp4")).run()
    assert "The video could not be read" in at.error[0].value
    at.file_uploader[0].set_value(("junk.png", b"\x00" * 64, "image/png")).run()
    assert "The picture could not be read" in at.error[0].value


def test_without_webrtc_the_page_falls_back_to_snapshots_and_says_why(streamer):
    with mock.patch("lwviz.ui.webcam.webrtc_error", return_value="the streamlit-webrtc package does not import"):
        at = open_page("webcam")
    assert at.info[0].value.startswith("Snapshot is on")
    assert "Live video is off: the streamlit-webrtc package does not import." in at.info[0].value
    assert at.camera_input and not streamer.calls


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_start_that_never_plays_is_explained_with_what_to_do(streamer):
    clock = Clock()
    with mock.patch("lwviz.ui.webcam.monotonic", clock):
        at = open_page("webcam")
        streamer.signalling = True  # Start pressed, the offer is out, the connection never comes up
        at.run()
        clock.now += CONNECT_LIMIT_S - 1
        at.run()
        assert not at.warning  # still within the time a connection takes
        clock.now += 2
        at.run()
        problem = at.warning[0].value
        assert problem.startswith(f"{LIVE.label}: no video {CONNECT_LIMIT_S + 1:.0f} s after Start.")
        assert all(hint in problem for hint in ("STUN or TURN server", SNAPSHOT.label, UPLOAD.label))
        clock.now += 20
        streamer.signalling = False  # the browser gives up (ICE failed) and stops the widget
        at.run()
        ended = f"{LIVE.label}: the last Start waited {CONNECT_LIMIT_S + 21:.0f} s and stopped without video."
        assert at.warning[0].value.startswith(ended)
        clock.now += 300
        at.run()
        assert at.warning[0].value.startswith(ended)  # still said until the next Start
        streamer.signalling = True  # Start again, and this time it connects
        at.run()
        assert not at.warning
        streamer.signalling, streamer.playing = False, True
        clock.now += 60
        at.run()
        assert not at.warning and not at.exception


def test_a_damaged_weights_file_is_a_message_and_lite0_runs(streamer, offline_hub):
    at = with_damaged_weights("webcam", "webcam_network")
    assert processor(at).model.title == "efficientnet_lite0" and processor(at).model.trained
    assert streamer.send(coffee_frame())[0].width == 640
    assert processor(at).stats.snapshot().predictions[0].label == "espresso"


def test_when_no_pretrained_weights_load_the_design_runs(streamer, offline_hub):
    damaged = get_source("mobilenet_v3_small:torchvision")
    damage(damaged)
    with mock.patch.object(PackageSource, "missing", return_value="the Lite0 package is not installed"):
        at = open_page("webcam")  # the damaged network is the only one offered
    assert at.selectbox("webcam_network").value == damaged.name
    assert "is damaged" in at.error[0].value and "meanwhile" not in at.error[0].value
    assert not processor(at).model.trained and any("random weights" in w.value for w in at.warning)
    assert not at.exception


# The on-device mode: the page hands the browser component a model file and takes its reports.


def component_args(at) -> dict:
    """What the page passed the on-device component on its last run."""
    (component,) = at.get("component_instance")
    return json.loads(component.proto.json_args)


class Recorder:
    """Calls the real function and keeps each call's arguments and result."""

    def __init__(self, function):
        self.function, self.calls, self.returns = function, [], []

    def __call__(self, *args):
        self.calls.append(args)
        self.returns.append(self.function(*args))
        return self.returns[-1]


@pytest.fixture
def device_calls():
    """``lwviz.ui.device``'s real ``device_model`` and ``submit_report``, with their calls recorded."""
    import lwviz.ui.device as device

    model, submit = Recorder(device.device_model), Recorder(device.submit_report)
    with mock.patch.object(device, "device_model", model), mock.patch.object(device, "submit_report", submit):
        yield SimpleNamespace(model=model, submit=submit)


def requested(calls) -> list[tuple[str, int, bool]]:
    return [(net.key, resolution, int8) for net, resolution, int8 in calls.model.calls]


def test_mode_device_in_the_url_opens_the_on_device_mode(streamer, device_calls):
    at = open_page("webcam", mode="device")
    assert at.get("button_group")[0].value == "device" and at.query_params["mode"] == "device"
    assert at.info[0].value.startswith("**On-device mode is on:** this browser runs the network")
    assert requested(device_calls) == [(LITE0.name, 224, False)]
    info, data = device_calls.model.returns[-1]
    args = component_args(at)
    assert args["model_id"] == info.model_id and "/media/" in args["model_url"]
    assert args["crop_share"] == 224 / 256 and args["trained"] and args["mirror"] and not args["paused"]
    assert args["text"]["model"] == "Model" and "{fps}" in args["text"]["fps"]  # every word from the catalog
    assert [b["mode"] for b in args["fallbacks"]] == ["live", "snapshot", "upload"]
    assert f"{info.bytes / 2**20:.1f} MB" in at.caption[0].value and info.bytes == len(data)
    # The laptop runs nothing: no frame model, no WebRTC stream, no Grad-CAM control.
    assert "webcam_processor" not in at.session_state and not streamer.calls
    assert not [t for t in at.toggle if t.key == "webcam_grad_cam"]
    assert not at.exception and not at.error


def test_on_this_device_is_a_mode_of_the_page(streamer, device_calls):
    at = open_page("webcam")
    assert at.info[0].value.startswith("Live video is on") and "mode" not in at.query_params
    at.get("button_group")[0].set_value("device").run()
    assert at.query_params["mode"] == "device" and "/media/" in component_args(at)["model_url"]
    at.get("button_group")[0].set_value("snapshot").run()
    assert at.info[0].value.startswith("Snapshot is on") and "mode" not in at.query_params
    assert not at.get("component_instance")


def test_device_controls_change_the_file_devices_run(streamer, device_calls):
    at = open_page("webcam", mode="device")
    first = component_args(at)["model_id"]
    at.get("select_slider")[0].set_value(128).run()
    at.toggle("webcam_mirror").set_value(False).run()
    at.toggle("webcam_int8").set_value(True).run()
    assert requested(device_calls)[-1] == (LITE0.name, 128, True)
    info, _ = device_calls.model.returns[-1]
    assert info.int8 and info.resolution == 128
    args = component_args(at)
    assert args["model_id"] == info.model_id != first and not args["mirror"]
    assert at.caption[0].value.startswith(f"{info.label} at 128×128 pixels, int8:")
    (download,) = [b for b in at.get("download_button") if b.label == "Download this file (ONNX)"]
    assert download.proto.url  # the file the devices run, served to download too
    at.toggle("webcam_paused").set_value(True).run()
    assert component_args(at)["paused"] and not at.exception


def report_value(model_id: str, seq: int = 1, **report) -> dict:
    return {
        "session_id": "0b7c6f2e-5c8e-4f0e-9d64-4d1c2b1f7a10",
        "seq": seq,
        "report": {
            "model_id": model_id,
            "device": {"browser": "Chrome 156", "os": "Linux", "cores": 2, "backend": "wasm"},
            "model_ms": 52.5,
            "fps": 16.9,
            "frames": 300,
            **report,
        },
    }


def test_a_report_from_the_device_is_submitted_once(streamer, device_calls):
    at = open_page("webcam", mode="device")
    value = report_value(component_args(at)["model_id"])
    at.session_state["webcam_device"] = value
    at.run()
    assert device_calls.submit.calls == [(value["session_id"], value["report"])]
    assert device_calls.submit.returns == [True]  # a good report is taken
    at.run()  # the component keeps its last value: a rerun must not submit it again
    assert len(device_calls.submit.calls) == 1
    at.session_state["webcam_device"] = report_value(value["report"]["model_id"], seq=2, fps=17.5)
    at.run()
    assert len(device_calls.submit.calls) == 2 and device_calls.submit.calls[-1][1]["fps"] == 17.5
    assert not at.exception


@pytest.mark.parametrize(
    "junk",
    [
        "not a dict",
        {"seq": 1, "report": {}},  # no session id
        {"session_id": "x" * 65, "seq": 1, "report": {}},
        {"session_id": "abc", "seq": "1", "report": {}},
        {"session_id": "abc", "seq": True, "report": {}},
        {"session_id": "abc", "seq": 0, "report": {}},
        {"session_id": "abc", "seq": 1, "action": "mode", "mode": "../../etc"},
    ],
)
def test_a_malformed_value_from_the_browser_is_ignored(streamer, device_calls, junk):
    at = open_page("webcam", mode="device")
    at.session_state["webcam_device"] = junk
    at.run()
    assert not device_calls.submit.calls and not at.exception
    assert at.get("button_group")[0].value == "device"


def test_the_device_can_send_the_page_back_to_a_server_mode(streamer, device_calls):
    at = open_page("webcam", mode="device")
    at.session_state["webcam_device"] = {"session_id": "abc", "seq": 1, "action": "mode", "mode": "upload"}
    at.run()
    assert at.info[0].value.startswith("Upload is on") and at.file_uploader
    assert "mode" not in at.query_params and not at.exception
