"""What is drawn on every frame: the top-k labels with bars, latency and FPS, the square the model sees.

Drawn with OpenCV straight into the frame's RGB array: no conversion to a PIL image and back,
which costs more than the drawing itself at 640x480. Hershey fonts are ASCII only; the rare
non-ASCII class name is transliterated with ``?``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from lwviz.classify import Prediction
from lwviz.realtime.frame_input import CropBox

FONT = cv2.FONT_HERSHEY_SIMPLEX
PANEL = (24, 24, 24)  # RGB; solid (not blended) so the cost does not grow with the panel
TEXT = (255, 255, 255)
BAR = (46, 160, 67)
WARN = (255, 140, 0)
BOX = (255, 214, 0)


def ascii_text(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def draw_overlay(
    rgb: np.ndarray,
    predictions: Sequence[Prediction],
    *,
    model_ms: float,
    fps: float,
    title: str,
    untrained: bool = False,
    box: CropBox | None = None,
) -> None:
    """Annotate ``rgb`` (HxWx3 uint8, C-contiguous) in place; sizes scale with the frame height."""
    height, width = rgb.shape[:2]
    scale = height / 480
    font = 0.6 * scale
    thick = max(1, round(1.5 * scale))
    line = round(26 * scale)
    pad = round(8 * scale)
    if box is not None:
        cv2.rectangle(rgb, (box.left, box.top), (box.left + box.side - 1, box.top + box.side - 1), BOX, thick)

    header = "UNTRAINED: random weights, labels mean nothing" if untrained else None
    rows = len(predictions) + 1 + (header is not None)
    panel_w = min(width, round(330 * scale) if header is None else round(470 * scale))
    panel_h = min(height, rows * line + 2 * pad)
    rgb[:panel_h, :panel_w] = PANEL
    y = pad
    if header is not None:
        cv2.putText(rgb, header, (pad, y + line - round(8 * scale)), FONT, font * 0.9, WARN, thick, cv2.LINE_AA)
        y += line
    bar_w = panel_w - 2 * pad
    for p in predictions:
        cv2.rectangle(rgb, (pad, y + line - round(5 * scale)), (pad + round(bar_w * p.prob), y + line - 2), BAR, -1)
        cv2.putText(
            rgb,
            f"{p.prob:4.0%} {ascii_text(p.label)}",
            (pad, y + line - round(9 * scale)),
            FONT,
            font,
            TEXT,
            thick,
            cv2.LINE_AA,
        )
        y += line
    cv2.putText(
        rgb,
        f"{model_ms:.0f} ms  {fps:.1f} FPS  {ascii_text(title)}",
        (pad, y + line - round(9 * scale)),
        FONT,
        font * 0.8,
        TEXT,
        max(1, thick - 1),
        cv2.LINE_AA,
    )


def draw_paused(rgb: np.ndarray) -> None:
    """A "PAUSED" badge in the top-right corner, in place."""
    height, width = rgb.shape[:2]
    scale = height / 480
    (w, h), base = cv2.getTextSize("PAUSED", FONT, 0.8 * scale, max(1, round(2 * scale)))
    pad = round(8 * scale)
    rgb[: h + base + 2 * pad, max(0, width - w - 2 * pad) :] = WARN
    cv2.putText(
        rgb, "PAUSED", (width - w - pad, h + pad), FONT, 0.8 * scale, PANEL, max(1, round(2 * scale)), cv2.LINE_AA
    )
