"""Long work (training, distillation) on a background thread that outlives the page's reruns.

A Streamlit script run ends at every widget change, so training inside it would die at the first
click, the Stop button included. A :class:`Job` runs the work on its own thread; the page polls
it from a fragment (progress bar and live curves) and asks it to stop between two steps.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_RUNNING: weakref.WeakSet[Job] = weakref.WeakSet()

Work = Callable[..., Any]
"""``work(progress=..., should_stop=..., on_accuracy=...)`` -> result."""


@dataclass
class JobState:
    """A snapshot the page can draw from without holding the lock."""

    step: int = 0
    total: int = 0
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)  # of each step's training batch
    seconds: float = 0.0


class Job:
    def __init__(self, work: Work, total: int, kind: str):
        self.kind = kind  # what the page started it for, e.g. "train"
        self._lock = threading.Lock()
        self._state = JobState(total=total)
        self._stop = threading.Event()
        self._start = time.perf_counter()
        self.result: Any = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), name=f"lwviz-{kind}", daemon=True)
        self._thread.start()
        _RUNNING.add(self)

    def _run(self, work: Work) -> None:
        try:
            self.result = work(progress=self._progress, should_stop=self._stop.is_set, on_accuracy=self._accuracy)
        except Exception as exc:  # shown on the page; the app carries on
            self.error = f"{type(exc).__name__}: {exc}"

    def _progress(self, step: int, total: int, loss: float) -> None:
        with self._lock:
            self._state.step, self._state.total = step, total
            self._state.losses.append(loss)

    def _accuracy(self, accuracy: float) -> None:
        with self._lock:
            self._state.accuracies.append(accuracy)

    def state(self) -> JobState:
        with self._lock:
            return JobState(
                self._state.step,
                self._state.total,
                list(self._state.losses),
                list(self._state.accuracies),
                time.perf_counter() - self._start,
            )

    def stop(self) -> None:
        """Ask the work to end after the current step (it returns what it has)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.done


@atexit.register
def _stop_running() -> None:
    """Stop and join what still runs when the server exits: a thread killed inside torch aborts the process."""
    jobs = list(_RUNNING)
    for job in jobs:
        job.stop()
    for job in jobs:
        job.wait(30)
