"""Snapshots, photos and video files as frames, for when live WebRTC video does not work.

They go through the same :class:`FrameProcessor` as the live stream, so a snapshot shows exactly
what the live view would have drawn. Uploads are untrusted: anything that is not a readable
picture or video becomes a ``MediaError`` with a message, and big inputs are scaled down first.
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
from lwviz.images import ImageInput, load_image
from lwviz.realtime.processor import FrameProcessor

MAX_HEIGHT = 720  # frames are drawn and sent at most this tall; the model sees a 224 crop anyway


class MediaError(ValueError):
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
    """Classify ``fps`` frames per second of the first ``max_seconds`` and encode them, annotated."""
    data = source if isinstance(source, bytes) else source.read()
    timeline = []
    out_buffer = io.BytesIO()
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise MediaError("the file has no video track")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            with av.open(out_buffer, mode="w", format="webm") as output:
                encoder = None
                slot = 0  # the k-th output frame is the first at or after k / fps seconds
                for frame in container.decode(stream):
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
                if encoder is None:
                    raise MediaError("the video has no frames that could be decoded")
                output.mux(encoder.encode(None))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:  # not a container PyAV can read, or broken
        raise MediaError(f"not a readable video ({exc})") from None
    return AnnotatedVideo(out_buffer.getvalue(), tuple(timeline), fps)


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
