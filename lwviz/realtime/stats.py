"""Per-session counters of a live stream: what arrived, what was classified, where the time went.

streamlit-webrtc calls the frame callback from its own worker thread while the page reads from
the script thread, so every access takes one lock and the page gets an immutable snapshot.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields

from lwviz.classify import Prediction


@dataclass(frozen=True)
class FrameTimings:
    """Milliseconds spent on one frame, step by step, in the order the frame path runs them."""

    decode: float = 0.0  # the camera's YUV frame -> an RGB array
    preprocess: float = 0.0  # mirror, crop, one resize, normalize
    model: float = 0.0  # the forward pass alone
    cam: float = 0.0  # the Grad-CAM overlay: a forward and backward pass every few frames, blending on every one
    draw: float = 0.0  # the overlay
    encode: float = 0.0  # the RGB array -> a frame to send back

    @property
    def total(self) -> float:
        return sum(getattr(self, f.name) for f in fields(self))


STAGES = tuple(f.name for f in fields(FrameTimings))


@dataclass(frozen=True)
class StatsSnapshot:
    received: int  # frames that reached the processor since the last reset
    processed: int  # frames classified
    dropped: int  # stale frames skipped because a newer one was waiting
    fps: float  # frames classified per second, over the last few seconds
    model_ms: float | None  # median over recent frames; None before the first
    callback_ms: float | None  # median time inside the frame callback, every step included
    stages_ms: dict[str, float]  # median per step of ``FrameTimings``
    predictions: tuple[Prediction, ...]  # of the latest classified frame, most probable first
    last_frame_age: float | None  # seconds since the latest classified frame

    @property
    def processed_share(self) -> float | None:
        """The share of arriving frames that were classified (1.0 keeps up with the camera)."""
        return self.processed / self.received if self.received else None


class StreamStats:
    """Counters and recent timings of one session's stream; ``reset`` when the stream (re)starts."""

    def __init__(self, window: int = 300, horizon_s: float = 2.0, clock: Callable[[], float] = time.perf_counter):
        self.window = window  # recent frames kept for medians (10 s at 30 FPS)
        self.horizon_s = horizon_s  # the FPS is measured over this many seconds
        self.clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._received = self._processed = self._dropped = 0
            self._stamps: deque[float] = deque(maxlen=self.window)
            self._stages: dict[str, deque[float]] = {s: deque(maxlen=self.window) for s in STAGES}
            self._callback: deque[float] = deque(maxlen=self.window)
            self._predictions: tuple[Prediction, ...] = ()

    def record(
        self, arrived: int, timings: FrameTimings, callback_ms: float, predictions: tuple[Prediction, ...]
    ) -> None:
        """One frame classified out of ``arrived`` waiting (the other ``arrived - 1`` were stale)."""
        now = self.clock()
        with self._lock:
            self._received += arrived
            self._processed += 1
            self._dropped += arrived - 1
            self._stamps.append(now)
            for stage, values in self._stages.items():
                values.append(getattr(timings, stage))
            self._callback.append(callback_ms)
            self._predictions = predictions

    def fps(self) -> float:
        """Frames classified per second over the last ``horizon_s`` (cheap enough for every frame)."""
        now = self.clock()
        with self._lock:
            return self._fps(now)

    def snapshot(self) -> StatsSnapshot:
        now = self.clock()
        with self._lock:
            return StatsSnapshot(
                received=self._received,
                processed=self._processed,
                dropped=self._dropped,
                fps=self._fps(now),
                model_ms=_median(self._stages["model"]),
                callback_ms=_median(self._callback),
                stages_ms={s: _median(v) for s, v in self._stages.items() if v},
                predictions=self._predictions,
                last_frame_age=now - self._stamps[-1] if self._stamps else None,
            )

    def _fps(self, now: float) -> float:
        first = last = None
        count = 0
        for stamp in reversed(self._stamps):  # newest first; stop at the horizon
            if now - stamp > self.horizon_s:
                break
            last = stamp if last is None else last
            first = stamp
            count += 1
        return (count - 1) / (last - first) if count > 1 and last > first else 0.0


def _median(values: deque[float]) -> float | None:
    return statistics.median(values) if values else None
