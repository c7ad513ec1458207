"""Y4M (YUV4MPEG2) clips: what Chromium plays as a fake camera (``--use-file-for-fake-video-capture``).

The format is a one-line header and, per frame, ``FRAME\\n`` followed by the raw I420 planes
(full-resolution Y, then quarter-resolution U and V). Chromium loops the clip for as long as the
page keeps the camera open, so a few seconds of frames make an endless camera.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np


def write_y4m(path: str | Path, frames: Iterable[np.ndarray], fps: int) -> Path:
    """Write RGB ``HxWx3`` uint8 frames (even sizes, all the same) as a 4:2:0 Y4M clip."""
    path = Path(path)
    size = None
    with path.open("wb") as out:
        for rgb in frames:
            height, width = rgb.shape[:2]
            if size is None:
                if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or height % 2 or width % 2:
                    raise ValueError(f"frames: expected even-sized HxWx3 uint8 RGB, got {rgb.shape} {rgb.dtype}")
                size = rgb.shape
                out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
            elif rgb.shape != size:
                raise ValueError(f"frames: every frame must be {size}, got {rgb.shape}")
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
    if size is None:
        raise ValueError("frames: a clip needs at least one frame")
    return path


def cover(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``rgb`` to fill ``width`` x ``height``, cropping the overflow evenly (like CSS ``cover``)."""
    h, w = rgb.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(
        rgb,
        (max(width, round(w * scale)), max(height, round(h * scale))),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
    )
    top, left = (resized.shape[0] - height) // 2, (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[top : top + height, left : left + width])


def panning_clip(rgb: np.ndarray, width: int, height: int, frames: int, zoom: float = 1.1) -> Iterator[np.ndarray]:
    """A camera slowly panning across a photo, there and back: moving content makes the video
    encoders do real work, as a hand-held camera does (a still picture costs them almost nothing)."""
    wide = cover(rgb, round(width * zoom), round(height * zoom))
    travel = wide.shape[1] - width
    top = (wide.shape[0] - height) // 2
    for i in range(frames):
        phase = 2 * i / frames if frames > 1 else 0.0
        left = round(travel * (phase if phase <= 1 else 2 - phase))
        yield np.ascontiguousarray(wide[top : top + height, left : left + width])
