"""One camera frame in, the same frame annotated with the network's top-3 out.

The frame path does only what it must: one YUV -> RGB conversion, a crop view and one resize
into reused buffers, the forward pass on one torch thread (the browser needs the other core),
drawing into the same array, one conversion back. When frames queue up behind a slow network,
only the newest is classified: a live demo must show what the camera sees now, not a second ago.

Live frames of every session run on one long-lived thread. streamlit-webrtc starts a new worker
thread for each stream, and glibc gives new threads new malloc arenas that keep the megabytes
a forward pass frees, so the server grew with every start/stop (docs/BENCHMARKS.md, webcam;
``tests/browser/test_webcam_browser.py`` keeps it flat). One thread also means two students'
streams take turns instead of fighting over two cores.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import av
import cv2
import numpy as np
import torch
from torch import nn

from lwviz.classify import Prediction
from lwviz.explain import Explainer
from lwviz.explain.gradcam import colorize, resize_map
from lwviz.perf import num_threads
from lwviz.realtime.frame_input import CropBox, FrameInput
from lwviz.realtime.overlay import draw_overlay, draw_paused
from lwviz.realtime.stats import FrameTimings, StreamStats
from lwviz.weights.preprocess import Preprocess

TOPK = 3
DEFAULT_THREADS = 1  # with the browser on the same 2-core laptop, one thread is faster than two


@dataclass(frozen=True, eq=False)
class FrameModel:
    """An eval-mode network with the preprocessing and class names its weights expect."""

    model: nn.Module
    preprocess: Preprocess
    categories: tuple[str, ...]
    title: str  # short, drawn on every frame
    trained: bool = True  # False: random weights, flagged on the frame
    explainer: Explainer | None = None  # the same network's float weights, for the Grad-CAM overlay

    def __post_init__(self):
        if self.model.training:
            raise ValueError("model: it is in training mode; pass an eval() model")
        if len(self.categories) < TOPK:
            raise ValueError(f"categories: {len(self.categories)} classes, fewer than the top-{TOPK} shown")


@dataclass(frozen=True)
class FrameResult:
    frame: av.VideoFrame  # annotated
    predictions: tuple[Prediction, ...]
    timings: FrameTimings


@dataclass(frozen=True)
class _Settings:
    model: FrameModel | None = None
    mirror: bool = False
    paused: bool = False
    cam_every: int = 0  # refresh the Grad-CAM overlay every this many frames; 0: no overlay


@dataclass(frozen=True)
class _Cam:
    """The latest Grad-CAM map, coloured at the size of the square the model sees."""

    model: FrameModel
    colors: np.ndarray  # [side, side, 3] uint8
    age: int = 0  # frames drawn since it was computed


CAM_OPACITY = 0.45
_UNSET = object()
FRAME_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lwviz-frames")  # see the module docstring


class FrameProcessor:
    """A session's frame path: ``process`` one frame, or ``process_latest`` of the frames that queued up.

    The page changes settings with ``configure`` from the script thread while frames run in
    streamlit-webrtc's worker thread: settings are one immutable object swapped in a single
    assignment, and frames run one at a time under a lock (their buffers are reused).
    """

    def __init__(
        self,
        model: FrameModel | None = None,
        *,
        mirror: bool = False,
        paused: bool = False,
        cam_every: int = 0,
        threads: int | None = DEFAULT_THREADS,
    ):
        self.threads = threads  # torch intra-op threads during the forward pass; None leaves torch's setting
        self.stats = StreamStats()
        self.error: str | None = None  # the last frame's failure, for the page to show
        self._settings = _Settings(model, mirror, paused, cam_every)
        self._lock = threading.Lock()
        self._input: FrameInput | None = None
        self._mirrored: np.ndarray | None = None
        self._last_rgb: np.ndarray | None = None  # the latest annotated picture, frozen while paused
        self._paused_frame: av.VideoFrame | None = None
        self._cam: _Cam | None = None

    @property
    def model(self) -> FrameModel | None:
        return self._settings.model

    @property
    def mirror(self) -> bool:
        return self._settings.mirror

    @property
    def paused(self) -> bool:
        return self._settings.paused

    @property
    def cam_every(self) -> int:
        return self._settings.cam_every

    def configure(self, *, model=_UNSET, mirror=_UNSET, paused=_UNSET, cam_every=_UNSET) -> None:
        """Change any of the settings; the next frame uses them."""
        given = {"model": model, "mirror": mirror, "paused": paused, "cam_every": cam_every}
        changes = {k: v for k, v in given.items() if v is not _UNSET}
        if changes.get("cam_every", 0) < 0:
            raise ValueError(f"cam_every: {cam_every} is negative; 0 turns the overlay off")
        self._settings = replace(self._settings, **changes)

    def reset(self) -> None:
        """Zero the counters (a new stream starts) and forget the frozen picture."""
        self.stats.reset()
        self.error = None
        with self._lock:
            self._last_rgb = self._paused_frame = self._cam = None

    async def recv_queued(self, frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
        """streamlit-webrtc's ``queued_video_frames_callback``."""
        return self.process_latest(frames)

    def process_latest(self, frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
        """Classify the newest frame only (on ``FRAME_THREAD``); the older ones are stale and counted as dropped."""
        settings = self._settings
        if settings.paused:
            return [self._frozen(frames[-1])]
        try:
            return [FRAME_THREAD.submit(self.process, frames[-1], len(frames)).result().frame]
        except Exception as exc:  # a broken frame or design must not kill the stream; the page shows why
            self.error = f"{type(exc).__name__}: {exc}"
            return [frames[-1]]

    def process(self, frame: av.VideoFrame, arrived: int = 1) -> FrameResult:
        """Classify ``frame`` and draw the result on a copy of it; counts in ``stats``."""
        settings = self._settings
        if settings.model is None:
            raise ValueError("model: no network is configured")
        start = time.perf_counter()
        with self._lock:
            result = self._run(frame, settings)
        self.stats.record(arrived, result.timings, (time.perf_counter() - start) * 1e3, result.predictions)
        self.error = None
        return result

    def _run(self, frame: av.VideoFrame, settings: _Settings) -> FrameResult:
        fm = settings.model
        t0 = time.perf_counter()
        rgb = frame.to_ndarray(format="rgb24")
        t1 = time.perf_counter()
        if settings.mirror:
            rgb = self._mirror(rgb)
        frame_input = self._frame_input(fm.preprocess)
        # every torch op on one thread: a small elementwise op split across two busy cores waits for
        # the slower one (docs/BENCHMARKS.md, webcam)
        with num_threads(self.threads), torch.inference_mode():
            x = frame_input(rgb)
            t2 = time.perf_counter()
            logits = fm.model(x)
            probs, indices = logits[0].float().softmax(-1).topk(TOPK)
        predictions = tuple(Prediction(fm.categories[i], p, i) for p, i in zip(probs.tolist(), indices.tolist()))
        box = frame_input.box(*rgb.shape[:2])
        t3 = t3b = time.perf_counter()
        if settings.cam_every and fm.explainer is not None:
            self._draw_cam(rgb, box, x, predictions[0].index, fm, settings.cam_every)
            t3b = time.perf_counter()
        draw_overlay(
            rgb,
            predictions,
            model_ms=(t3 - t2) * 1e3,
            fps=self.stats.fps(),
            title=fm.title,
            untrained=not fm.trained,
            box=box,
        )
        self._last_rgb, self._paused_frame = rgb, None
        t4 = time.perf_counter()
        out = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        out.pts = frame.pts
        if frame.time_base is not None:
            out.time_base = frame.time_base
        t5 = time.perf_counter()
        stamps = (t0, t1, t2, t3, t3b, t4, t5)
        return FrameResult(out, predictions, FrameTimings(*((b - a) * 1e3 for a, b in zip(stamps, stamps[1:]))))

    def _draw_cam(
        self, rgb: np.ndarray, box: CropBox, x: torch.Tensor, target: int, fm: FrameModel, every: int
    ) -> None:
        """Blend the Grad-CAM map of ``target`` into the model's square; recompute it every ``every`` frames.

        Grad-CAM needs a backward pass, several times the forward's cost: refreshing it on every
        frame would halve the frame rate, while a map a few frames old still follows the object.
        """
        cam = self._cam
        if cam is None or cam.model is not fm or cam.age >= every or cam.colors.shape[0] != box.side:
            with num_threads(self.threads):  # clone: x is an inference tensor, which autograd refuses
                heatmap = fm.explainer.grad_cam(x.clone(), target=target, remember=False).heatmap
            cam = _Cam(fm, colorize(resize_map(heatmap, box.side, box.side)))
        self._cam = replace(cam, age=cam.age + 1)
        square = rgb[box.rows, box.cols]
        square[:] = cv2.addWeighted(square, 1 - CAM_OPACITY, cam.colors, CAM_OPACITY, 0)

    def _frame_input(self, preprocess: Preprocess) -> FrameInput:
        if self._input is None or self._input.preprocess != preprocess:
            self._input = FrameInput(preprocess)
        return self._input

    def _mirror(self, rgb: np.ndarray) -> np.ndarray:
        """Left-right flip into a buffer kept for the next frame of the same size."""
        if self._mirrored is None or self._mirrored.shape != rgb.shape:
            self._mirrored = np.empty_like(rgb)
        return cv2.flip(rgb, 1, dst=self._mirrored)

    def _frozen(self, frame: av.VideoFrame) -> av.VideoFrame:
        """While paused: the last annotated picture with a badge (the camera frame if there is none yet)."""
        with self._lock:
            if self._last_rgb is None:
                return frame
            if self._paused_frame is None:
                picture = self._last_rgb.copy()
                draw_paused(picture)
                self._paused_frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            return self._paused_frame
