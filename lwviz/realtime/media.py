"""Snapshots, photos and video files as frames, for when live WebRTC video does not work.

They go through the same :class:`FrameProcessor` as the live stream, so a snapshot shows exactly
what the live view would have drawn. Uploads are untrusted: anything that is not a readable
picture or video becomes a ``MediaError`` with a message, and big inputs are scaled down first.

A video file is bounded before and while it is decoded: its size; its resolution, from the header
before decoding, then by the decoder itself, which refuses any frame of more than 4096x4096 pixels
(a stream can change size, and a header can lie); and the number of frames decoded, so that a file
of absurd frame rate, or whose timestamps never advance, stops instead of keeping a 2-core server
busy for hours.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import av
import cv2
import numpy as np

from lwviz.classify import Prediction
from lwviz.errors import Refusal
from lwviz.i18n import N_
from lwviz.images import ImageInput, load_image
from lwviz.realtime.processor import FrameProcessor

MAX_HEIGHT = 720  # frames are drawn and sent at most this tall; the model sees a 224 crop anyway
MAX_VIDEO_BYTES = 200 * 2**20  # the Webcam page's upload limit
MAX_SIDE = 4096  # pixels; 4K video is 3840x2160, and one 4096x4096 frame in RGB is 50 MB
# Decoding work allowed per second of video: 1080p at 120 frames per second (4K at 30). More frames per
# second than that is a slow-motion clip, a broken file or a hostile one: reading stops there.
MAX_DECODE_RATE = 120 * 1920 * 1080


class MediaError(Refusal):
    """An upload that is not a usable video; the message says what was wrong."""


def fit_height(rgb: np.ndarray, max_height: int = MAX_HEIGHT) -> np.ndarray:
    """Scale down to ``max_height`` rows (even sizes, as video needs), never up."""
    height, width = rgb.shape[:2]
    if height <= max_height and height % 2 == 0 and width % 2 == 0:
        return rgb
    scale = min(1.0, max_height / height)
    size = (max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def image_frame(source: ImageInput) -> av.VideoFrame:
    """A snapshot or photo (anything ``load_image`` reads) as a video frame; ``ImageError`` if unreadable."""
    return av.VideoFrame.from_ndarray(fit_height(np.asarray(load_image(source))), format="rgb24")


@dataclass(frozen=True)
class AnnotatedVideo:
    data: bytes  # WebM (VP8): every browser plays it
    timeline: tuple[tuple[float, tuple[Prediction, ...]], ...]  # (seconds into the clip, top-k)
    fps: float


def annotate_video(
    source: bytes | BinaryIO,
    processor: FrameProcessor,
    *,
    fps: float = 5.0,
    max_seconds: float = 30.0,
    progress: Callable[[float], None] | None = None,
) -> AnnotatedVideo:
    """Classify ``fps`` frames per second of the first ``max_seconds`` and encode them, annotated.

    Decoding stops after ``max_seconds`` of video time or :func:`frame_budget` frames, whichever
    comes first; ``MediaError`` for a file that is too big, too large a picture or no video at all.
    """
    data = source if isinstance(source, bytes) else source.read(MAX_VIDEO_BYTES + 1)
    if len(data) > MAX_VIDEO_BYTES:
        limit = f"{MAX_VIDEO_BYTES / 2**20:.0f}"
        if isinstance(source, bytes):
            raise MediaError(
                N_("the video is {size} MB, more than the {limit} MB limit: trim it or save a smaller copy"),
                size=f"{len(data) / 2**20:.1f}",
                limit=limit,
            )
        raise MediaError(  # a file was read only so far
            N_("the video is more than the {limit} MB limit: trim it or save a smaller copy"), limit=limit
        )
    timeline = []
    out_buffer = io.BytesIO()
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise MediaError(N_("the file has no video track"))
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if max(width, height) > MAX_SIDE:
                raise MediaError(
                    N_(
                        "the video is {width}x{height} pixels, more than {side} a side: save a smaller copy "
                        "(720p is plenty, frames are shown at most 720 pixels tall)"
                    ),
                    width=width,
                    height=height,
                    side=MAX_SIDE,
                )
            stream.codec_context.options = {"max_pixels": str(MAX_SIDE * MAX_SIDE)}  # checked on every frame
            stream.thread_type = "AUTO"
            budget = frame_budget(max_seconds, width, height)
            with av.open(out_buffer, mode="w", format="webm") as output:
                encoder, decoded = None, 0
                slot = 0  # the k-th output frame is the first at or after k / fps seconds
                for decoded, frame in enumerate(container.decode(stream), 1):
                    if decoded > budget:
                        break
                    if frame.time is None or frame.time * fps + 1e-6 < slot:
                        continue
                    if frame.time > max_seconds:
                        break
                    slot = math.floor(frame.time * fps + 1e-6) + 1
                    picture = av.VideoFrame.from_ndarray(fit_height(frame.to_ndarray(format="rgb24")), format="rgb24")
                    result = processor.process(picture)
                    if encoder is None:
                        encoder = _vp8_stream(output, result.frame.width, result.frame.height, fps)
                    result.frame.pts = len(timeline)
                    output.mux(encoder.encode(result.frame))
                    timeline.append((round(frame.time, 3), result.predictions))
                    if progress is not None:
                        progress(min(1.0, frame.time / min(max_seconds, _duration(container, stream) or max_seconds)))
                if encoder is None and decoded:
                    raise MediaError(
                        N_(
                            "no frame among the first {frames} has a timestamp within the video's first "
                            "{seconds} seconds: its timestamps are missing or broken"
                        ),
                        frames=min(decoded, budget),
                        seconds=f"{max_seconds:g}",
                    )
                if encoder is None:
                    raise MediaError(N_("the video has no frames that could be decoded"))
                output.mux(encoder.encode(None))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:  # not a container PyAV can read, or broken
        raise MediaError(N_("not a readable video ({detail})"), detail=exc) from None
    return AnnotatedVideo(out_buffer.getvalue(), tuple(timeline), fps)


def frame_budget(max_seconds: float, width: int, height: int) -> int:
    """How many frames of ``width`` x ``height`` to decode at most: ``max_seconds`` of :data:`MAX_DECODE_RATE`
    (120 per second up to 1080p, fewer for larger frames; an undeclared size counts as 1080p)."""
    return math.ceil(max_seconds * MAX_DECODE_RATE / max(width * height, 1920 * 1080))


def _vp8_stream(output, width: int, height: int, fps: float):
    rate = Fraction(fps).limit_denominator(1000)
    stream = output.add_stream("libvpx", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.time_base = 1 / rate  # one tick per frame: pts counts frames
    return stream


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return container.duration / av.time_base if container.duration else None
