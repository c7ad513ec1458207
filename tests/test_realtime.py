"""The frame processor on ``av.VideoFrame``s: shapes, overlay, labels, timings, dropping, pause, counters."""

import io
import math
import threading
from dataclasses import replace
from fractions import Fraction

import av
import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image
from torch import nn

from lwviz.builder import build
from lwviz.images import ImageError
from lwviz.presets import get_preset
from lwviz.realtime import (
    STAGES,
    FrameInput,
    FrameModel,
    FrameProcessor,
    FrameTimings,
    MediaError,
    StreamStats,
    annotate_video,
    cover,
    crop_box,
    image_frame,
    inference_copy,
    media,
    panning_clip,
    parse_ice_servers,
    rtc_configuration,
    write_y4m,
)
from lwviz.realtime.modes import (
    CONNECT_LIMIT_S,
    LIVE,
    SNAPSHOT,
    UPLOAD,
    StartAttempt,
    default_mode,
    start_problem,
    track_start,
)
from lwviz.realtime.overlay import PANEL, WARN
from lwviz.weights import LITE0
from lwviz.weights.preprocess import Preprocess

COLOURS = ("red", "green", "blue", "none")
IDENTITY = Preprocess(crop=32, resize=32, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
GAIN = 2.0


class MeanColour(nn.Module):
    """Logits = GAIN x the mean of each colour channel (0..1), and 0 for "none"; counts its calls
    and remembers the thread it ran on and torch's thread count there."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        with torch.no_grad():
            self.fc.weight.copy_(torch.cat([torch.eye(3), torch.zeros(1, 3)]) * GAIN)
            self.fc.bias.zero_()
        self.calls = 0
        self.threads = self.thread = None
        self.eval()

    def forward(self, x):
        self.calls += 1
        self.threads = torch.get_num_threads()
        self.thread = threading.current_thread().name
        return self.fc(x.mean((2, 3)))


def solid(colour, height=480, width=640, fmt="rgb24"):
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[..., COLOURS.index(colour)] = 255
    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=fmt)


def top_prob():
    """Softmax of (GAIN, 0, 0, 0) at index 0: the exact probability of a solid frame's colour."""
    return math.exp(GAIN) / (math.exp(GAIN) + 3)


@pytest.fixture
def colour_model():
    return FrameModel(MeanColour(), IDENTITY, COLOURS, "colours")


@pytest.fixture(scope="module")
def lite0():
    return FrameModel(LITE0.load(), LITE0.preprocess, LITE0.categories, "lite0")


def coffee_frame():
    """The coffee photo as a 640x480 camera frame (YUV 4:2:0, as WebRTC delivers it)."""
    return av.VideoFrame.from_ndarray(cover(skimage.data.coffee(), 640, 480), format="rgb24").reformat(format="yuv420p")


# --- input ---------------------------------------------------------------------------------------


def test_crop_box_is_preprocess_center_crop_in_frame_pixels():
    box = crop_box(480, 640, Preprocess(crop=224, resize=256))  # 224/256 of the 480-pixel side
    assert (box.top, box.left, box.side) == (30, 110, 420)
    assert crop_box(480, 640, Preprocess(crop=224, resize=224)).side == 480


def test_at_resolution_keeps_the_crop_ratio():
    assert Preprocess(crop=224, resize=256).at_resolution(160) == Preprocess(crop=160, resize=183)


def test_frame_input_matches_preprocess_with_one_resize_into_one_buffer():
    rgb = cover(skimage.data.coffee(), 640, 480)
    frame_input = FrameInput(LITE0.preprocess)
    x = frame_input(rgb)
    reference = LITE0.preprocess(rgb)
    assert x.shape == reference.shape == (1, 3, 224, 224)
    assert (x - reference).abs().mean() < 0.03  # area averaging vs antialiased bicubic, on a -1..1 scale
    assert frame_input(rgb) is x  # the same buffer every frame: no allocation per frame
    assert frame_input(rgb[:240, :320].copy()).shape == (1, 3, 224, 224)  # a new frame size is handled


@pytest.mark.parametrize("preset", ["mobilenet_v3_small", "efficientnet_lite0", "shufflenet_v2_x0_5"])
def test_inference_copy_folds_batch_norm_and_keeps_the_outputs(preset):
    model = build(get_preset(preset).with_(resolution=96)).eval()
    with torch.no_grad():  # non-trivial statistics, so folding has something to get right
        for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.uniform_(0.5, 1.5)
    fast = inference_copy(model)
    x = torch.randn(2, 3, 96, 96)
    with torch.inference_mode():
        assert torch.allclose(fast(x), model(x), atol=1e-4, rtol=1e-4)
        assert torch.allclose(fast(x.contiguous(memory_format=torch.channels_last)), model(x), atol=1e-4, rtol=1e-4)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # the original is untouched
    conv = next(m for m in fast.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    with pytest.raises(ValueError, match="training mode"):
        inference_copy(model.train())


# --- processor -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["rgb24", "yuv420p"])
def test_a_frame_comes_back_annotated_with_exact_labels_and_timings(colour_model, fmt):
    processor = FrameProcessor(colour_model)
    result = processor.process(solid("green", fmt=fmt))
    out = result.frame.to_ndarray(format="rgb24")
    assert (result.frame.width, result.frame.height) == (640, 480) and out.shape == (480, 640, 3)
    top, *rest = result.predictions
    tolerance = 0.01 if fmt == "yuv420p" else 1e-6  # YUV 4:2:0 -> RGB is not exactly 0 and 255
    assert top.label == "green" and top.prob == pytest.approx(top_prob(), abs=tolerance)
    assert len(rest) == 2 and {p.label for p in rest} < {"red", "blue", "none"}  # three tied at logit 0
    assert all(p.prob == pytest.approx((1 - top_prob()) / 3, abs=tolerance) for p in rest)
    assert (out[2, 2] == PANEL).all()  # the label panel is drawn...
    assert (out[400:, 580:] == out[479, 639]).all() and out[479, 639, 1] > 200  # ...and the picture is kept
    assert set(STAGES) == {"decode", "preprocess", "model", "cam", "draw", "encode"}
    assert result.timings.cam == 0  # no Grad-CAM overlay unless asked
    assert all(getattr(result.timings, s) >= 0 for s in STAGES) and result.timings.model > 0
    assert result.timings.total == pytest.approx(sum(getattr(result.timings, s) for s in STAGES))


def test_an_untrained_network_is_flagged_on_the_frame():
    model = FrameModel(MeanColour(), IDENTITY, COLOURS, "design", trained=False)
    trained = FrameProcessor(replace(model, trained=True)).process(solid("green")).frame.to_ndarray()
    untrained = FrameProcessor(model).process(solid("green")).frame.to_ndarray()

    def orange(rgb):
        return (rgb[:30] == WARN).all(-1).sum()

    assert orange(untrained) > 50 and orange(trained) == 0  # the orange "UNTRAINED" line on top of the panel


def test_lite0_names_the_coffee_on_a_camera_frame(lite0):
    result = FrameProcessor(lite0).process(coffee_frame())
    assert result.predictions[0].label == "espresso" and result.predictions[0].prob > 0.5
    assert len(result.predictions) == 3


@pytest.fixture(scope="module")
def small_net():
    """A small real network (random weights) with its explainer: Grad-CAM needs a builder ``Net``."""
    from lwviz.explain import Explainer

    net = build(get_preset("mobilenet_v3_small").with_(width=0.25, resolution=64)).eval()
    preprocess = Preprocess(crop=64, resize=64, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    return FrameModel(net, preprocess, tuple(map(str, range(1000))), "small", explainer=Explainer(net))


def test_grad_cam_overlay_is_the_blended_map_of_the_top1_refreshed_every_n_frames(small_net):
    from lwviz.explain.gradcam import colorize, resize_map
    from lwviz.realtime.processor import CAM_OPACITY

    calls = []
    explainer = small_net.explainer
    grad_cam = explainer.grad_cam

    def counted(x, layer=None, target=None, remember=True):
        assert not remember  # frames never come back: remembering them would push out the pages' maps
        calls.append(target)
        return grad_cam(x, layer, target, remember)

    explainer.grad_cam = counted
    try:
        plain = FrameProcessor(small_net).process(coffee_frame())
        processor = FrameProcessor(small_net, cam_every=3)
        results = [processor.process(coffee_frame()) for _ in range(7)]
    finally:
        del explainer.grad_cam
    assert len(calls) == 3  # frames 1, 4 and 7 compute a map; the others reuse it
    assert calls == [plain.predictions[0].index] * 3  # the map explains the label shown
    assert all(r.predictions == plain.predictions for r in results)
    assert results[0].timings.cam > results[1].timings.cam > 0

    rgb = coffee_frame().to_ndarray(format="rgb24")
    frame_input = FrameInput(small_net.preprocess)
    box = frame_input.box(*rgb.shape[:2])
    heatmap = grad_cam(frame_input(rgb), target=plain.predictions[0].index).heatmap
    colors = colorize(resize_map(heatmap, box.side, box.side))
    before = plain.frame.to_ndarray(format="rgb24")[box.rows, box.cols].astype(float)
    expected = np.round((1 - CAM_OPACITY) * before + CAM_OPACITY * colors)
    shown = results[-1].frame.to_ndarray(format="rgb24")[box.rows, box.cols].astype(float)
    inner = (slice(150, -5), slice(5, -5))  # below the label panel, inside the square's drawn border
    assert np.abs(shown[inner] - expected[inner]).max() <= 1
    outside = results[-1].frame.to_ndarray(format="rgb24")[:, box.left + box.side + 5 :]
    assert (outside[200:] == plain.frame.to_ndarray(format="rgb24")[:, box.left + box.side + 5 :][200:]).all()


def test_without_an_explainer_the_overlay_setting_draws_nothing(colour_model):
    plain = FrameProcessor(colour_model).process(solid("green")).frame.to_ndarray()
    asked = FrameProcessor(colour_model, cam_every=2).process(solid("green")).frame.to_ndarray()
    assert (plain == asked).all()
    with pytest.raises(ValueError, match="cam_every"):
        FrameProcessor(colour_model).configure(cam_every=-1)


def test_only_the_newest_of_the_queued_frames_is_classified_on_the_frame_thread(colour_model):
    processor = FrameProcessor(colour_model)
    out = processor.process_latest([solid("red"), solid("green"), solid("blue")])
    assert len(out) == 1 and colour_model.model.thread.startswith("lwviz-frames")
    stats = processor.stats.snapshot()
    assert (stats.received, stats.processed, stats.dropped) == (3, 1, 2)
    assert stats.predictions[0].label == "blue"
    assert colour_model.model.calls == 1 and stats.processed_share == pytest.approx(1 / 3)


def test_one_torch_thread_in_the_frame_path_and_the_setting_restored(colour_model):
    before = torch.get_num_threads()
    FrameProcessor(colour_model).process(solid("red"))
    assert colour_model.model.threads == 1
    assert torch.get_num_threads() == before


def test_mirror_flips_the_picture_before_drawing():
    half = np.zeros((480, 640, 3), np.uint8)
    half[:, :320, 0] = 255  # red on the left
    half[:, 320:, 2] = 255  # blue on the right
    model = FrameModel(MeanColour(), IDENTITY, COLOURS, "colours")
    plain = FrameProcessor(model).process(av.VideoFrame.from_ndarray(half, format="rgb24")).frame.to_ndarray()
    mirrored = FrameProcessor(model, mirror=True).process(av.VideoFrame.from_ndarray(half, format="rgb24"))
    out = mirrored.frame.to_ndarray()
    assert plain[470, 5, 0] == 255 and out[470, 5, 2] == 255  # bottom-left: red as shot, blue mirrored
    assert (out[2, 2] == PANEL).all()  # the text is drawn after the flip, so it reads the right way


def test_pause_freezes_the_last_picture_without_running_the_model(colour_model):
    processor = FrameProcessor(colour_model)
    first = processor.process_latest([solid("red")])[0].to_ndarray()
    processor.configure(paused=True)
    frozen = processor.process_latest([solid("blue")])[0].to_ndarray()
    assert colour_model.model.calls == 1 and processor.stats.snapshot().processed == 1
    assert (frozen[470, 5] == first[470, 5]).all()  # still the red picture
    assert (frozen[5, 635] != first[5, 635]).any()  # with the PAUSED badge
    processor.configure(paused=False)
    processor.process_latest([solid("blue")])
    assert processor.stats.snapshot().predictions[0].label == "blue"


def test_a_failing_frame_is_reported_and_the_stream_goes_on(colour_model):
    processor = FrameProcessor(FrameModel(MeanColour(), IDENTITY, ("a", "b", "c", "d"), "x"))
    processor.configure(
        model=FrameModel(nn.Sequential(nn.Flatten(), nn.Linear(5, 4)).eval(), IDENTITY, COLOURS, "broken")
    )
    frame = solid("red")
    assert processor.process_latest([frame]) == [frame]
    assert "RuntimeError" in processor.error
    processor.configure(model=colour_model)
    processor.process_latest([frame])
    assert processor.error is None


def test_configure_switches_model_and_resolution_between_frames(colour_model):
    processor = FrameProcessor(colour_model)
    processor.process(solid("red"))
    processor.configure(model=replace(colour_model, preprocess=colour_model.preprocess.at_resolution(64)))
    processor.process(solid("red"))
    assert processor._input.tensor.shape == (1, 3, 64, 64)


def test_reset_zeroes_the_counters(colour_model):
    processor = FrameProcessor(colour_model)
    processor.process_latest([solid("red"), solid("red")])
    processor.reset()
    stats = processor.stats.snapshot()
    assert (stats.received, stats.processed, stats.dropped, stats.predictions) == (0, 0, 0, ())
    assert stats.model_ms is None and stats.processed_share is None


def test_sessions_do_not_share_anything(colour_model):
    mine, theirs = FrameProcessor(colour_model), FrameProcessor(colour_model)
    mine.process(solid("red"))
    assert theirs.stats.snapshot().processed == 0 and mine.stats.snapshot().processed == 1


def test_frame_model_refuses_a_training_model():
    with pytest.raises(ValueError, match="training mode"):
        FrameModel(nn.Linear(3, 4), IDENTITY, COLOURS, "x")


# --- stats ---------------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_fps_over_the_last_two_seconds_and_medians():
    clock = Clock()
    stats = StreamStats(clock=clock)
    for i in range(31):  # 10 frames per second for 3 s
        clock.now = i / 10
        stats.record(1, FrameTimings(model=float(i)), callback_ms=2.0 * i, predictions=())
    snap = stats.snapshot()
    assert snap.fps == pytest.approx(10.0)
    assert snap.model_ms == 15.0 and snap.callback_ms == 30.0 and snap.stages_ms["decode"] == 0.0
    clock.now += 5
    assert stats.fps() == 0.0 and stats.snapshot().last_frame_age == pytest.approx(5.0)


def test_counters_are_exact_under_concurrent_writers():
    stats = StreamStats()

    def write():
        for _ in range(500):
            stats.record(2, FrameTimings(), 0.0, ())
            stats.snapshot()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = stats.snapshot()
    assert (snap.received, snap.processed, snap.dropped) == (4000, 2000, 2000)


# --- fallbacks -----------------------------------------------------------------------------------


def test_snapshot_image_goes_through_the_same_processor(lite0):
    buffer = io.BytesIO()
    from PIL import Image

    Image.fromarray(skimage.data.coffee()).save(buffer, format="JPEG")
    frame = image_frame(buffer.getvalue())
    assert (frame.width, frame.height) == (600, 400)
    assert FrameProcessor(lite0).process(frame).predictions[0].label == "espresso"
    with pytest.raises(ImageError):
        image_frame(b"not a picture")


def _clip(colours, fps=10, seconds_each=1.0, size=(64, 48)):
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for i, colour in enumerate(c for c in colours for _ in range(int(fps * seconds_each))):
            frame = solid(colour, size[1], size[0], "yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buffer.getvalue()


def test_uploaded_video_is_classified_and_encoded_annotated(colour_model):
    seen = []
    video = annotate_video(_clip(["red", "blue"]), FrameProcessor(colour_model), fps=5, progress=seen.append)
    assert [t for t, _ in video.timeline] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8])
    assert [preds[0].label for _, preds in video.timeline] == ["red"] * 5 + ["blue"] * 5
    with av.open(io.BytesIO(video.data)) as back:
        frames = list(back.decode(video=0))
    assert len(frames) == 10 and (frames[0].width, frames[0].height) == (64, 48)
    assert seen and seen[-1] <= 1.0


@pytest.mark.parametrize("data, message", [(b"\x00" * 100, "not a readable video"), (b"", "not a readable video")])
def test_unreadable_video_is_a_message(colour_model, data, message):
    with pytest.raises(MediaError, match=message):
        annotate_video(data, FrameProcessor(colour_model))


def _y4m(width, height, frames, rate="30:1"):
    """A raw YUV 4:2:0 clip written by hand, so its header can claim anything (black frames)."""
    header = f"YUV4MPEG2 W{width} H{height} F{rate} Ip A1:1 C420jpeg\n".encode()
    return header + (b"FRAME\n" + bytes(width * height * 3 // 2)) * frames


@pytest.mark.parametrize("width, height", [(4098, 2), (2, 4098)])
def test_a_video_larger_than_4096_pixels_a_side_is_refused_before_decoding(colour_model, width, height):
    model = colour_model.model
    with pytest.raises(MediaError) as err:
        annotate_video(_y4m(width, height, 1), FrameProcessor(colour_model))
    assert str(err.value) == (
        f"the video is {width}x{height} pixels, more than 4096 a side: save a smaller copy (720p is plenty, "
        "frames are shown at most 720 pixels tall)"
    )
    assert model.calls == 0


def test_a_video_header_claiming_a_giant_picture_with_nothing_after_it_is_refused(colour_model):
    with pytest.raises(MediaError, match="not a readable video"):
        annotate_video(b"YUV4MPEG2 W100000 H100000 F30:1 Ip C420jpeg\nFRAME\n", FrameProcessor(colour_model))


def _mjpeg_clip(sizes, start=0):
    """Motion JPEG in Matroska whose header says 64x48, whatever size each JPEG frame really is; frame i at
    ``start`` + i/10 seconds."""
    out = io.BytesIO()
    with av.open(out, "w", format="matroska") as clip:
        stream = clip.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        for i, size in enumerate(sizes):
            jpeg = io.BytesIO()
            Image.new("RGB", size).save(jpeg, format="JPEG")
            packet = av.Packet(jpeg.getvalue())
            packet.stream, packet.time_base = stream, Fraction(1, 10)
            packet.pts = packet.dts = start * 10 + i
            clip.mux(packet)
    return out.getvalue()


def test_a_frame_larger_than_the_header_said_is_refused_by_the_decoder(colour_model):
    clip = _mjpeg_clip([(64, 48), (4200, 4200)])  # 17.6 MP: more than 4096x4096
    with pytest.raises(MediaError, match=r"not a readable video \(Invalid argument"):
        annotate_video(clip, FrameProcessor(colour_model))
    assert len(annotate_video(_mjpeg_clip([(64, 48)] * 3), FrameProcessor(colour_model)).timeline) == 2


def test_a_video_whose_timestamps_never_reach_the_start_is_a_message(colour_model):
    with pytest.raises(MediaError) as err:
        annotate_video(_mjpeg_clip([(64, 48)] * 3, start=1000), FrameProcessor(colour_model))
    assert str(err.value) == (
        "no frame among the first 1 has a timestamp within the video's first 30 seconds: its timestamps are "
        "missing or broken"
    )


def test_an_absurd_frame_rate_stops_decoding_after_the_frame_budget(colour_model):
    """1000 frames per second: one second of video is 1000 frames, the budget 120 (0.12 s of this clip), so the
    frames at 0.2 s, 0.4 s... are never decoded."""
    assert media.frame_budget(1, 16, 16) == 120
    video = annotate_video(_y4m(16, 16, 1001, rate="1000:1"), FrameProcessor(colour_model), fps=5, max_seconds=1)
    assert [t for t, _ in video.timeline] == [0.0]
    assert [t for t, _ in annotate_video(_y4m(16, 16, 100, rate="100:1"), FrameProcessor(colour_model)).timeline] == (
        pytest.approx([0, 0.2, 0.4, 0.6, 0.8])  # an ordinary frame rate is read to the end
    )


def test_the_frame_budget_scales_with_the_picture():
    assert media.frame_budget(30, 1280, 720) == 30 * 120  # up to 1080p: 120 frames per second
    assert media.frame_budget(30, 3840, 2160) == 30 * 30  # 4K: 30
    assert media.frame_budget(30, 0, 0) == 30 * 120  # a size the header does not give counts as 1080p


def test_a_video_over_the_size_limit_is_refused_unread(colour_model, monkeypatch):
    monkeypatch.setattr(media, "MAX_VIDEO_BYTES", 2**20)
    clip = _y4m(16, 16, 2**20 // 390 + 1)
    assert len(clip) > 2**20
    with pytest.raises(MediaError) as err:
        annotate_video(clip, FrameProcessor(colour_model))
    assert str(err.value) == "the video is 1.0 MB, more than the 1 MB limit: trim it or save a smaller copy"
    with pytest.raises(MediaError) as err:
        annotate_video(io.BytesIO(clip), FrameProcessor(colour_model))
    assert str(err.value) == "the video is more than the 1 MB limit: trim it or save a smaller copy"


# --- fake camera clip ----------------------------------------------------------------------------


def test_y4m_clip_is_what_a_decoder_reads_back(tmp_path):
    rgb = cover(skimage.data.coffee(), 64, 48)
    path = write_y4m(tmp_path / "cam.y4m", [rgb, rgb[:, ::-1]], fps=30)
    data = path.read_bytes()
    header = b"YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n"
    assert data.startswith(header) and len(data) == len(header) + 2 * (len(b"FRAME\n") + 64 * 48 * 3 // 2)
    with av.open(str(path)) as clip:
        frames = [f.to_ndarray(format="rgb24") for f in clip.decode(video=0)]
    assert len(frames) == 2
    assert np.abs(frames[0].astype(int) - rgb).mean() < 6  # 4:2:0 chroma subsampling, nothing else


def test_y4m_refuses_odd_sizes_and_empty_clips(tmp_path):
    with pytest.raises(ValueError, match="even-sized"):
        write_y4m(tmp_path / "a.y4m", [np.zeros((5, 4, 3), np.uint8)], 30)
    with pytest.raises(ValueError, match="at least one frame"):
        write_y4m(tmp_path / "b.y4m", [], 30)


def test_panning_clip_moves_and_returns():
    frames = list(panning_clip(skimage.data.coffee(), 64, 48, frames=10))
    assert all(f.shape == (48, 64, 3) for f in frames)
    assert not np.array_equal(frames[0], frames[5]) and np.array_equal(
        frames[0], next(panning_clip(skimage.data.coffee(), 64, 48, frames=10))
    )


# --- connection and modes ------------------------------------------------------------------------


def test_ice_servers_from_text():
    text = "# the school's servers\nstun:stun.example.org:3478\n\nturn:turn.example.org:3478 alice s3cret\n"
    assert rtc_configuration(parse_ice_servers(text)) == {
        "iceServers": [
            {"urls": ["stun:stun.example.org:3478"]},
            {"urls": ["turn:turn.example.org:3478"], "username": "alice", "credential": "s3cret"},
        ]
    }
    assert rtc_configuration(parse_ice_servers("")) == {"iceServers": []}  # localhost: no STUN, works offline


@pytest.mark.parametrize(
    "text, message",
    [
        ("http://stun.example.org", "line 1: 'http://stun.example.org' is not a"),
        ("stun:ok:1\nturn:turn.example.org:3478", "line 2: a turn: server takes a username and a credential"),
        ("stun:a:1 user pass", "line 1: a stun: server takes nothing"),
    ],
)
def test_bad_ice_server_lines_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse_ice_servers(text)


@pytest.mark.parametrize(
    "url, webrtc_error, mode, skipped",
    [
        ("http://localhost:8501/webcam", None, LIVE, 0),
        ("http://127.0.0.1:8501/webcam", None, LIVE, 0),
        ("https://lab.example.org/webcam", None, LIVE, 0),
        ("http://192.168.1.20:8501/webcam", None, UPLOAD, 2),
        ("http://localhost:8501/webcam", "no streamlit-webrtc", SNAPSHOT, 1),
    ],
)
def test_default_mode_and_why(url, webrtc_error, mode, skipped):
    chosen, reasons = default_mode(url, webrtc_error)
    assert chosen == mode and len(reasons) == skipped
    if mode == UPLOAD:
        assert "localhost or over HTTPS" in str(reasons[0]) and "192.168.1.20" in str(reasons[0])


def test_a_start_is_followed_from_signalling_to_playing_or_giving_up():
    assert track_start(None, signalling=False, playing=False, now=5.0) is None  # nothing pressed yet
    start = track_start(None, signalling=True, playing=False, now=10.0)
    assert start == StartAttempt(10.0)
    assert track_start(start, signalling=True, playing=False, now=12.0) is start  # the same start, still waiting
    assert track_start(start, signalling=False, playing=True, now=11.0) is None  # video: nothing to explain
    ended = track_start(start, signalling=False, playing=False, now=40.0)
    assert ended == StartAttempt(10.0, ended=40.0) and ended.waited(now=99.0) == 30.0
    assert track_start(ended, signalling=False, playing=False, now=50.0) is ended  # kept until the next Start
    assert track_start(ended, signalling=True, playing=False, now=60.0) == StartAttempt(60.0)


def test_start_problem_only_after_the_limit_and_it_says_what_to_do():
    start = StartAttempt(100.0)
    assert start_problem(None, now=1e6) is None
    assert start_problem(start, now=100.0 + CONNECT_LIMIT_S - 0.1) is None
    waiting = str(start_problem(start, now=100.0 + CONNECT_LIMIT_S))
    assert waiting.startswith(
        f"Live video: no video {CONNECT_LIMIT_S:.0f} s after Start. The browser and this server could not connect."
    )
    assert "add a STUN or TURN server" in waiting and "choose Snapshot or Upload" in waiting
    assert start_problem(StartAttempt(100.0, ended=103.0), now=1e6) is None  # stopped by hand before the limit
    gave_up = str(start_problem(StartAttempt(100.0, ended=130.0), now=1e6))
    assert gave_up.startswith("Live video: the last Start waited 30 s and stopped without video.")
    assert start_problem(start, now=105.0, limit_s=5.0) is not None
