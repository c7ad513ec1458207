"""What students' devices report about running a network, checked and kept in one table for the Class page.

A device in on-device mode sends, about once a second, what it measured: the median milliseconds of
the model over its last frames, its frames per second, and a short description of itself. Those
reports come from browsers anyone in the room can script, so each is untrusted input: it is checked
field by field (known model, finite numbers in sane ranges, short strings), a session may send only a
few a second, and the table has a fixed number of rows. A report that fails a check is dropped with
one ``logging`` warning; nothing here raises to the page. Nothing personal is kept: the device is
"browser / OS / cores / backend", and the component's random session id is kept only as a hash.

No Streamlit here: ``lwviz.ui.device`` holds the one server-wide table and passes the lookup of known
models in.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lwviz.i18n import N_, Translate, english

if TYPE_CHECKING:
    from lwviz.export import DeviceModelInfo

log = logging.getLogger(__name__)

BACKENDS = ("wasm", "webgpu")
MAX_SESSION_ID = 64  # characters; the component sends a UUID (36)
MAX_MODEL_ID = 32  # characters; lwviz.export.model_id makes 12
MAX_NAME = 40  # characters of a browser's or an OS's name ("Chrome 131", "Samsung Internet 27", "ChromeOS")
MS_RANGE = (0.0, 60_000.0)  # model milliseconds: more than 0, at most a minute
FPS_RANGE = (0.0, 240.0)
CORES_RANGE = (1, 1024)
MAX_FRAMES = 10**9  # a day at 240 FPS is 2e7
PER_SECOND = 3  # reports a session may send in any one second (the component sends one)
MAX_ROWS = 200  # devices x networks kept; the least recently seen goes first
# Printable text only: no control characters, no line breaks (a name lands in a table cell and a log line).
PRINTABLE = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]*")
DEVICE_WORDS = N_("{browser} / {os} / {cores} cores / {backend}")


class BadReport(ValueError):
    """Why a report was dropped: the field and what was wrong, for the log."""


@dataclass(frozen=True)
class Device:
    """A device as it describes itself: nothing that names a person."""

    browser: str
    os: str
    cores: int
    backend: str  # "wasm" or "webgpu"

    def label(self, _: Translate = english) -> str:
        return _(DEVICE_WORDS, browser=self.browser, os=self.os, cores=self.cores, backend=self.backend)


@dataclass(frozen=True)
class Report:
    """One report that passed every check."""

    model_id: str
    device: Device
    model_ms: float
    fps: float
    frames: int


@dataclass(frozen=True)
class Row:
    """The latest report of one device running one network."""

    session: str  # a hash of the component's random session id: which rows are the same device
    model: DeviceModelInfo  # the exported file it ran, as the lookup knew it
    device: Device
    model_ms: float  # median model milliseconds over the device's last frames
    fps: float
    frames: int
    reports: int  # how many reports of this device and network were taken
    first_seen: float  # the table's clock
    last_seen: float


def session_key(session_id: str) -> str:
    """What the table keeps of a session id: enough to tell devices apart, nothing to find the browser by."""
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()[:16]


def _text(value: object, field: str, limit: int) -> str:
    """A short printable string; longer ones are refused (not cut: a real browser never sends one)."""
    if not isinstance(value, str):
        raise BadReport(f"{field}: expected a string, got {type(value).__name__}")
    if not value.strip():
        raise BadReport(f"{field}: empty")
    if len(value) > limit:
        raise BadReport(f"{field}: {len(value)} characters, more than {limit}")
    if not PRINTABLE.fullmatch(value):
        raise BadReport(f"{field}: contains control characters")
    return value.strip()


def _number(value: object, field: str, low: float, high: float, *, low_open: bool = False) -> float:
    """A finite JSON number in ``[low, high]`` (``(low, high]`` with ``low_open``); booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadReport(f"{field}: expected a number, got {type(value).__name__}")
    number = float(value) if not isinstance(value, int) or abs(value) < 2**53 else math.inf
    if not math.isfinite(number):
        raise BadReport(f"{field}: {value!r} is not a finite number")
    if number < low or number > high or (low_open and number == low):
        where = f"({low:g}, {high:g}]" if low_open else f"[{low:g}, {high:g}]"
        raise BadReport(f"{field}: {number:g} is outside {where}")
    return number


def _integer(value: object, field: str, low: int, high: int) -> int:
    """An integer in ``low..high``: a JSON number with no fraction (JavaScript sends ``8`` as ``8`` or ``8.0``)."""
    number = _number(value, field, low, high)
    if number != int(number):
        raise BadReport(f"{field}: {number:g} is not a whole number")
    return int(number)


def parse_report(raw: object, lookup: Callable[[str], DeviceModelInfo | None]) -> tuple[Report, DeviceModelInfo]:
    """``raw``, what a browser sent, as a checked :class:`Report` with the model it names; :class:`BadReport`
    otherwise. Unknown extra keys are ignored (a newer component may send more)."""
    if not isinstance(raw, dict):
        raise BadReport(f"report: expected an object, got {type(raw).__name__}")
    model_id = _text(raw.get("model_id"), "model_id", MAX_MODEL_ID)
    model = lookup(model_id)
    if model is None:
        raise BadReport(f"model_id: {model_id!r} is not a network this server exported")
    device = raw.get("device")
    if not isinstance(device, dict):
        raise BadReport(f"device: expected an object, got {type(device).__name__}")
    backend = device.get("backend")
    if backend not in BACKENDS:
        raise BadReport(f"device.backend: expected one of {', '.join(BACKENDS)}")
    report = Report(
        model_id,
        Device(
            _text(device.get("browser"), "device.browser", MAX_NAME),
            _text(device.get("os"), "device.os", MAX_NAME),
            _integer(device.get("cores"), "device.cores", *CORES_RANGE),
            backend,
        ),
        _number(raw.get("model_ms"), "model_ms", *MS_RANGE, low_open=True),
        _number(raw.get("fps"), "fps", *FPS_RANGE),
        _integer(raw.get("frames"), "frames", 0, MAX_FRAMES),
    )
    return report, model


class ClassTable:
    """Every device's latest report per network, for the Class page: thread-safe, bounded, rate-limited.

    ``lookup(model_id)`` gives the exported model a report names, or None for one this server does not
    know. ``clock`` (seconds, monotonic) is injectable for tests; rows' times are on it.
    """

    def __init__(
        self,
        lookup: Callable[[str], DeviceModelInfo | None],
        *,
        max_rows: int = MAX_ROWS,
        per_second: int = PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._lookup = lookup
        self.max_rows, self.per_second, self.clock = max_rows, per_second, clock
        self._lock = threading.Lock()
        self._rows: OrderedDict[tuple[str, str], Row] = OrderedDict()  # least recently seen first
        self._recent: OrderedDict[str, deque[float]] = OrderedDict()  # session -> times of its last reports
        self._flooding: set[str] = set()  # sessions already logged as over the rate in their current second
        self.dropped = 0  # reports dropped since the last clear, for the page and tests

    def submit(self, session_id: object, raw: object) -> bool:
        """Check a report and keep it; False (and one log line) when it is dropped. Never raises."""
        try:
            if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID:
                raise BadReport(f"session id: expected a string of 1 to {MAX_SESSION_ID} characters")
            session = session_key(session_id)
            with self._lock:
                now = self.clock()
                if not self._admit(session, now):
                    self.dropped += 1
                    return False
            report, model = parse_report(raw, self._lookup)
        except BadReport as exc:
            self._drop(str(exc))
            return False
        except Exception as exc:  # a lookup or a value that misbehaves in a way nobody foresaw: still only a drop
            self._drop(f"{type(exc).__name__}: {exc}")
            return False
        with self._lock:
            self._keep(session, report, model, now)
        return True

    def _drop(self, why: str) -> None:
        with self._lock:
            self.dropped += 1
        log.warning("device report dropped: %s", why)

    def _admit(self, session: str, now: float) -> bool:
        """Whether ``session`` may send a report now: at most ``per_second`` in any one second."""
        times = self._recent.pop(session, None) or deque()
        while times and times[0] <= now - 1.0:
            times.popleft()
        self._recent[session] = times  # most recent last
        while len(self._recent) > 4 * self.max_rows:  # sessions that went quiet are forgotten, oldest first
            self._recent.popitem(last=False)
        if len(times) >= self.per_second:
            if session not in self._flooding:  # one line per flood, not one per report
                log.warning("device report dropped: more than %d reports in one second from one session", len(times))
                self._flooding.add(session)
            return False
        self._flooding.discard(session)
        times.append(now)
        return True

    def _keep(self, session: str, report: Report, model: DeviceModelInfo, now: float) -> None:
        key = (session, report.model_id)
        old = self._rows.pop(key, None)
        self._rows[key] = Row(
            session,
            model,
            report.device,
            report.model_ms,
            report.fps,
            report.frames,
            1 if old is None else old.reports + 1,
            now if old is None else old.first_seen,
            now,
        )
        while len(self._rows) > self.max_rows:
            self._rows.popitem(last=False)

    def rows(self) -> list[Row]:
        """Every row, the most recently seen first."""
        with self._lock:
            return list(reversed(self._rows.values()))

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._recent.clear()
            self._flooding.clear()
            self.dropped = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)
