"""Heavy work (training, timing, compressing, exporting) bounded machine-wide and owned by a browser session.

A class shares one laptop. However many students press a heavy button, at most :data:`QUEUE`'s
``slots`` jobs run at once (one on a 2-core laptop: the other core keeps every page answering);
the rest wait in one first-come, first-served queue and see their place in it. A job belongs to
the session that started it and stops when that session ends: a closed tab or an expired session
frees its slot within a step.

Two shapes of job:

* :class:`Job` runs on its own thread and outlives the page's reruns (training, distillation: a
  Streamlit script run ends at every widget change, the Stop button's included). The page polls
  it from a fragment and asks it to stop between two steps; it also stops by itself when its
  session is no longer connected.
* :func:`turn` wraps work done inside the script run (latency, the Zoo's timing, compression,
  export). It waits for a slot while showing the place in the queue. Streamlit stops a script run
  when its session disconnects or its user changes something, at the run's next ``st`` call, which
  the work's progress bar makes after every step.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lwviz.ui.language import _

POLL_SECONDS = 0.25  # how often a waiting job looks at the queue and at its session

Work = Callable[..., Any]
"""``work(progress=..., should_stop=..., on_accuracy=...)`` -> result."""


def default_slots() -> int:
    """Heavy jobs at once: ``LWVIZ_JOBS``, else half the cores (at least one)."""
    return int(os.environ.get("LWVIZ_JOBS") or max(1, (os.cpu_count() or 1) // 2))


@dataclass(eq=False)  # each ticket is itself: two "train" tickets are two places in the queue
class Ticket:
    kind: str  # what it is for, e.g. "train", shown to those waiting behind it


class JobQueue:
    """First come, first served, with ``slots`` jobs running at once."""

    def __init__(self, slots: int):
        if slots < 1:
            raise ValueError(f"slots: must be at least 1, got {slots}")
        self.slots = slots
        self._changed = threading.Condition()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []

    def join(self, kind: str) -> Ticket:
        ticket = Ticket(kind)
        with self._changed:
            self._waiting.append(ticket)
            self._promote()
        return ticket

    def wait(self, ticket: Ticket, timeout: float) -> bool:
        """True once ``ticket`` may run; waits at most ``timeout`` seconds for that."""
        with self._changed:
            if ticket not in self._running:
                self._changed.wait(timeout)
            return ticket in self._running

    def ahead(self, ticket: Ticket) -> list[str]:
        """The kinds of the jobs before ``ticket``: those running, then those waiting in front (empty once it runs)."""
        with self._changed:
            if ticket not in self._waiting:
                return []
            return [t.kind for t in self._running + self._waiting[: self._waiting.index(ticket)]]

    def leave(self, ticket: Ticket) -> None:
        """Done or given up: the slot or the place goes to the next in line."""
        with self._changed:
            for line in (self._waiting, self._running):
                if ticket in line:
                    line.remove(ticket)
            self._promote()

    @property
    def running(self) -> int:
        with self._changed:
            return len(self._running)

    def _promote(self) -> None:
        while self._waiting and len(self._running) < self.slots:
            self._running.append(self._waiting.pop(0))
        self._changed.notify_all()


QUEUE = JobQueue(default_slots())


def session_id() -> str | None:
    """The browser session running this script, or None outside a script run."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else None


def session_alive(session: str | None) -> bool:
    """False once the session's browser has gone (tab closed, connection lost) or the session expired.

    Without a server (a test, a script) every session counts as alive.
    """
    return session is None or not Runtime.exists() or Runtime.instance().is_active_session(session)


def waiting_text(ahead: list[str]) -> str:
    """The place in the queue, in the reader's words (a job's kind is a catalog message: see :func:`turn`)."""
    kinds = ", ".join(_(kind) for kind in ahead)
    if len(ahead) == 1:
        return _("Waiting for the machine: 1 job ahead of you ({kinds}). This starts by itself.", kinds=kinds)
    return _(
        "Waiting for the machine: {n} jobs ahead of you ({kinds}). This starts by itself.", n=len(ahead), kinds=kinds
    )


@contextmanager
def turn(kind: str, queue: JobQueue | None = None) -> Iterator[None]:
    """Run the with-block when a slot is free; meanwhile show the place in the queue (and leave it if stopped).

    ``kind`` is what the sessions waiting behind this job read: a message marked for the catalog (``N_``), which
    each of them sees in its own language.
    """
    queue = queue or QUEUE
    ticket = queue.join(kind)
    try:
        if not queue.wait(ticket, 0):
            shown = st.empty()
            while not queue.wait(ticket, POLL_SECONDS):
                shown.info(waiting_text(queue.ahead(ticket)), icon=":material/hourglass_top:")
            shown.empty()
        yield
    finally:
        queue.leave(ticket)


_RUNNING: weakref.WeakSet[Job] = weakref.WeakSet()


@dataclass
class JobState:
    """A snapshot the page can draw from without holding the lock."""

    step: int = 0
    total: int = 0
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)  # of each step's training batch
    seconds: float = 0.0
    ahead: list[str] = field(default_factory=list)  # the jobs before this one while it waits for a slot


class Job:
    """``work`` on its own thread once the queue lets it run, until it ends, is stopped or its session ends."""

    def __init__(self, work: Work, total: int, kind: str, queue: JobQueue | None = None):
        self.kind = kind  # what the page started it for, e.g. "train"
        self.session = session_id()
        self._queue = queue or QUEUE
        self._ticket = self._queue.join(kind)
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
            while not self._queue.wait(self._ticket, POLL_SECONDS):
                if self.should_stop():
                    return
            self._start = time.perf_counter()  # the time shown is the time it ran, not the time it waited
            self.result = work(progress=self._progress, should_stop=self.should_stop, on_accuracy=self._accuracy)
        except Exception as exc:  # shown on the page; the app carries on
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._queue.leave(self._ticket)

    def should_stop(self) -> bool:
        """Asked between two steps: the Stop button was pressed, or nobody is watching any more."""
        return self._stop.is_set() or not session_alive(self.session)

    def _progress(self, step: int, total: int, loss: float) -> None:
        with self._lock:
            self._state.step, self._state.total = step, total
            self._state.losses.append(loss)

    def _accuracy(self, accuracy: float) -> None:
        with self._lock:
            self._state.accuracies.append(accuracy)

    def state(self) -> JobState:
        ahead = self._queue.ahead(self._ticket)
        with self._lock:
            return JobState(
                self._state.step,
                self._state.total,
                list(self._state.losses),
                list(self._state.accuracies),
                0.0 if ahead else time.perf_counter() - self._start,
                ahead,
            )

    def stop(self) -> None:
        """Ask the work to end after the current step (it returns what it has); a waiting job leaves the queue."""
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
