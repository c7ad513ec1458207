"""A class of N students on the Build page at once: how long each waits for the numbers, and what it costs.

No browsers (they would take the server's CPU): each student is a websocket client speaking
Streamlit's own protocol to the real app server, as the frontend does. Each class size N gets a
fresh server (``tests.browser.conftest.serve_app``; --url loads a running one instead), left to
finish its start-up warm-up (idle CPU), then visited by two warm-up students, and idle again.
Then the class: every student opens the Build page at a random moment within --ramp seconds
(the first render, timed on its own); once all have it open, each moves the "Width multiplier
α" slider M times to random values on the slider's grid, the first change at a random moment
within --interval, the next about --interval later (x0.75 to x1.25), or as soon as the answer
came if it took longer. Measured per change, on the client's clock: send -> the delta holding
the new "MACs" metric (its text checked against ``lwviz.analyze``) and send -> ``script_finished``
(the whole page redrawn). Errors: exceptions and st.error boxes in deltas, a wrong MACs value, a
run not finished within 60 s, a closed connection. The server's CPU (cores busy: psutil CPU
seconds of its process tree over wall seconds) while the class slides, and its resident memory
before the class connects and after the last change (every session still connected); growth per
session is their difference over N. RSS moves by +-15 MB on its own (a garbage collection frees a
batch), so only the figure for a big class means much.

Targets (the project issue): 30 sessions p95 send -> MACs <= 100 ms, no errors, memory growth
under 2 MB per session.

    python benchmarks/classroom_load.py [--sessions 1 10 30] [--changes 10] [--interval 1.0] [--url URL]

The protocol, as Streamlit 1.67 speaks it (uvicorn/starlette server, no tornado):

- Websocket ``ws://HOST/_stcore/stream``, binary frames only. The frontend's
  ``Sec-WebSocket-Protocol`` is a list "streamlit, <xsrf token>, <session id to resume>": the
  server echoes the first entry and reads the XSRF token only to trust an auth cookie, so a plain
  client offers "streamlit" alone and needs no cookie. Client -> server: ``BackMsg``; server ->
  client: ``ForwardMsg``, one per frame.
- Nothing runs on connect: the client asks with ``BackMsg.rerun_script = ClientState``. With
  st.navigation the first request names the page by its URL path (``page_name="build"``, empty
  ``page_script_hash``); the ``navigation`` message answers with the pages (title,
  ``url_pathname``, ``page_script_hash``) and the hash of the page that ran. Later reruns send
  that ``page_script_hash`` (and an empty ``page_name``), as the frontend does. A wrong name
  gives a ``page_not_found`` message and the default page.
- Every run starts with ``new_session`` and ends with ``script_finished`` (status
  FINISHED_SUCCESSFULLY). ``FINISHED_EARLY_FOR_RERUN`` is not the end: on a fresh server the
  first visit to /build reruns itself once (``lwviz.ui.nav.require_frame``) and the page follows.
- Elements arrive as ``delta.new_element`` (``metadata.delta_path`` is their place); the slider
  is ``new_element.slider``, its ``id`` ends with the user key ("...-knob_width"); a float
  slider's widget state is ``double_array_value.data = [value]``. Sending only that one widget's
  state is enough: the server keeps the other widgets' values from the previous run.
- ``st.query_params`` changes come as ``page_info_changed.query_string``; send it back in the
  next ``ClientState.query_string``, as the browser's URL would.
- Leaving ``cached_message_hashes`` empty makes the server send every message in full (no
  ``ref_hash`` stubs to fetch over HTTP).
- Script threads only queue messages; the runtime's event loop sends every session's queue,
  then sleeps 5 ms (``MESSAGE_FLUSH_INTERVAL_SECS``). Under load that loop waits for the GIL
  behind the script threads, and a run's messages can come in one burst at its end.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the browser tests' server, reused as is

from lwviz.cost import analyze  # noqa: E402 (after the path is set)
from lwviz.presets import get_preset  # noqa: E402 (after the path is set)
from tests.browser.conftest import serve_app  # noqa: E402 (after the path is set)

PRESET = "mobilenet_v2"  # what the Build page shows without a ?spec= link
WIDTHS = [round(0.25 + 0.05 * i, 2) for i in range(36)]  # the slider's grid, 0.25 ... 2.0
TIMEOUT = 60.0  # seconds for one run before it counts as an error
TARGET_P95_MS, TARGET_SESSIONS, TARGET_MB = 100.0, 30, 2.0


def expected_macs(width: float) -> str:
    return f"{analyze(get_preset(PRESET).with_(width=width)).macs / 1e6:.1f} M"


@dataclass
class Run:
    macs_ms: float | None = None  # send -> the MACs metric
    finished_ms: float | None = None  # send -> script_finished
    macs: str | None = None  # the MACs metric's text
    kb: float = 0.0  # received, all messages of the run


@dataclass
class Student:
    url: str
    rng: random.Random
    first: list[Run] = field(default_factory=list)  # the first render
    changes: list[Run] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ws: object = None
    query_string: str = ""
    page_hash: str = ""
    slider_id: str = ""
    rendered: asyncio.Event = field(default_factory=asyncio.Event)  # set after the first render (or failing)
    finished: asyncio.Event = field(default_factory=asyncio.Event)  # set after the last change (or failing)

    async def run(self, widths: list[float] | None = None) -> Run:
        """One script run: send a rerun (the slider at ``width``, or the first visit), read until it finishes."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        if self.page_hash:
            state.page_script_hash = self.page_hash
        else:
            state.page_name = "build"
        if widths is not None:
            widget = state.widget_states.widgets.add()
            widget.id = self.slider_id
            widget.double_array_value.data[:] = widths
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        run = Run()
        async with asyncio.timeout(TIMEOUT):
            while True:
                raw = await self.ws.recv()
                run.kb += len(raw) / 1e3
                fwd = ForwardMsg.FromString(raw)
                kind = fwd.WhichOneof("type")
                if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    self._element(fwd.delta.new_element, run, start)
                elif kind == "navigation":
                    self.page_hash = fwd.navigation.page_script_hash
                    paths = {p.page_script_hash: p.url_pathname for p in fwd.navigation.app_pages}
                    if paths.get(self.page_hash) != "build":
                        self.errors.append(f"ran page {paths.get(self.page_hash)!r}, not build")
                elif kind == "page_not_found":
                    self.errors.append("page not found")
                elif kind == "page_info_changed":
                    self.query_string = fwd.page_info_changed.query_string
                elif kind == "script_finished" and fwd.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run.finished_ms = (time.perf_counter() - start) * 1e3
                    if fwd.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                        self.errors.append(f"script finished with status {fwd.script_finished}")
                    return run

    def _element(self, element, run: Run, start: float) -> None:
        kind = element.WhichOneof("type")
        if kind == "slider" and element.slider.id.endswith("knob_width"):
            self.slider_id = element.slider.id
        elif kind == "metric" and element.metric.label == "MACs" and run.macs is None:
            run.macs_ms, run.macs = (time.perf_counter() - start) * 1e3, element.metric.body
        elif kind == "exception":
            self.errors.append(f"exception: {element.exception.type}: {element.exception.message[:200]}")
        elif kind == "alert" and element.alert.format == Alert.ERROR:
            self.errors.append(f"st.error: {element.alert.body[:200]}")

    async def session(self, ramp: float, changes: int, interval: float, go: asyncio.Event, done: asyncio.Event):
        """Open the page within ``ramp`` s; once ``go`` is set, make ``changes`` slider moves; stay until ``done``."""
        await asyncio.sleep(self.rng.uniform(0, ramp))
        try:
            async with connect(
                self.url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], max_size=None
            ) as self.ws:
                self.first.append(await self.run())
                if self.first[-1].macs != expected_macs(1.0):
                    self.errors.append(f"first render shows MACs {self.first[-1].macs!r}")
                if not self.slider_id:
                    self.errors.append("no knob_width slider on the page")
                    return
                self.rendered.set()
                await go.wait()
                width = 1.0
                await asyncio.sleep(self.rng.uniform(0, interval))
                for _ in range(changes):
                    width = self.rng.choice([w for w in WIDTHS if w != width])
                    due = time.perf_counter() + interval * self.rng.uniform(0.75, 1.25)
                    run = await self.run([width])
                    self.changes.append(run)
                    if run.macs != expected_macs(width):
                        self.errors.append(f"width {width}: MACs {run.macs!r}, expected {expected_macs(width)!r}")
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                self.finished.set()
                await done.wait()
        except TimeoutError:
            self.errors.append(f"timeout: no script_finished within {TIMEOUT:.0f} s")
        except (ConnectionClosed, OSError) as exc:
            self.errors.append(f"disconnected: {exc!r}")
        finally:
            self.rendered.set()
            self.finished.set()


def listening_pid(url: str) -> int | None:
    """The process serving ``url``'s port on this machine, or None (elsewhere, or not allowed to look)."""
    port = int(url.rsplit(":", 1)[-1].split("/")[0])
    try:
        found = [c.pid for c in psutil.net_connections("tcp") if c.status == "LISTEN" and c.laddr.port == port]
    except psutil.AccessDenied:
        return None
    return found[0] if found else None


def tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(pid: int | None) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in tree(pid)) if pid else math.nan


def rss_mb(pid: int | None) -> float:
    return sum(p.memory_info().rss for p in tree(pid)) / 2**20 if pid else math.nan


def settle(pid: int | None, idle_cores: float = 0.1, limit: float = 180.0) -> None:
    """Wait until the server is idle (its start-up warm-up done): two 1 s windows below ``idle_cores``."""
    calm, deadline = 0, time.perf_counter() + limit
    while pid and calm < 2 and time.perf_counter() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        calm = calm + 1 if cpu_seconds(pid) - before < idle_cores else 0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the value at or below which ``q`` of the values lie)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


async def measure(url: str, pid: int, n: int, changes: int, interval: float, ramp: float, seed: int) -> dict:
    settle(pid)  # the app warms up on a thread as it starts
    free = asyncio.Event()
    free.set()
    warm = [Student(url, random.Random(-1 - i)) for i in range(2)]  # what the app's own warm-up leaves
    await asyncio.gather(*(s.session(0.5, 3, 0.3, free, free) for s in warm))
    if any(s.errors for s in warm):
        raise RuntimeError(f"the warm-up students failed: {[e for s in warm for e in s.errors]}")
    settle(pid)

    rss0 = rss_mb(pid)
    students = [Student(url, random.Random(seed * 1000 + i)) for i in range(n)]
    go, done = asyncio.Event(), asyncio.Event()
    t0, cpu0, me0 = time.perf_counter(), cpu_seconds(pid), sum(psutil.Process().cpu_times()[:2])
    tasks = [asyncio.create_task(s.session(ramp, changes, interval, go, done)) for s in students]
    await asyncio.gather(*(s.rendered.wait() for s in students))  # the whole class has the page open
    t1, cpu1 = time.perf_counter(), cpu_seconds(pid)
    go.set()
    await asyncio.gather(*(s.finished.wait() for s in students))
    t2, cpu2, me2 = time.perf_counter(), cpu_seconds(pid), sum(psutil.Process().cpu_times()[:2])
    rss1 = rss_mb(pid)  # every session still connected
    done.set()
    await asyncio.gather(*tasks)
    runs = [r for s in students for r in s.changes]
    return {
        "n": n,
        "first": [r.finished_ms for s in students for r in s.first if r.finished_ms is not None],
        "macs": [r.macs_ms for r in runs if r.macs_ms is not None],
        "finished": [r.finished_ms for r in runs if r.finished_ms is not None],
        "kb": statistics.median([r.kb for r in runs]) if runs else math.nan,
        "expected": n * changes,
        "errors": [e for s in students for e in s.errors],
        "open_cores": (cpu1 - cpu0) / (t1 - t0),
        "open_wall": t1 - t0,
        "cores": (cpu2 - cpu1) / (t2 - t1),
        "cpu_ms": (cpu2 - cpu1) * 1e3 / max(1, len(runs)),  # server CPU per change
        "wall": t2 - t1,
        "client_cores": (me2 - me0) / (t2 - t0),
        "rss": (rss0, rss1),
    }


def stats(values: list[float]) -> str:
    if not values:
        return f"{'-':>7} {'-':>7} {'-':>7}"
    return f"{statistics.median(values):7.1f} {percentile(values, 0.95):7.1f} {max(values):7.1f}"


def report(results: list[dict], changes: int, interval: float) -> None:
    print(
        f"\nBuild page, {changes} width changes per student about {interval:g} s apart; "
        f"{len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'':8} {'first render ms':>15} {'send -> MACs ms':>23} {'send -> finished ms':>23} {'':>6} "
        f"{'server':>6} {'RSS MB':>15} {'MB per':>7}"
    )
    print(
        f"{'sessions':>8} {'median':>7} {'max':>7} {'median':>7} {'p95':>7} {'max':>7} {'median':>7} {'p95':>7} "
        f"{'max':>7} {'errors':>6} {'cores':>6} {'before':>7} {'after':>7} {'session':>7}"
    )
    for r in results:
        first = f"{statistics.median(r['first']):7.1f} {max(r['first']):7.1f}" if r["first"] else f"{'-':>7} {'-':>7}"
        rss0, rss1 = r["rss"]
        print(
            f"{r['n']:8} {first} {stats(r['macs'])} {stats(r['finished'])} {len(r['errors']):6} {r['cores']:6.2f} "
            f"{rss0:7.1f} {rss1:7.1f} {(rss1 - rss0) / r['n']:7.2f}"
        )
    for r in results:
        print(
            f"  {r['n']} sessions: all opened in {r['open_wall']:.1f} s (server {r['open_cores']:.2f} cores); "
            f"{len(r['finished'])} of {r['expected']} changes answered in {r['wall']:.1f} s, "
            f"{r['cpu_ms']:.0f} ms server CPU and {r['kb']:.0f} kB each; this client {r['client_cores']:.2f} cores"
        )
        for error in sorted(set(r["errors"]))[:5]:
            print(f"    error x{r['errors'].count(error)}: {error}")
    target = next((r for r in results if r["n"] == TARGET_SESSIONS), None)
    if target is None:
        print(f"\ntargets apply to {TARGET_SESSIONS} sessions: not run")
        return
    p95, growth = percentile(target["macs"], 0.95), (target["rss"][1] - target["rss"][0]) / target["n"]
    print(f"\ntargets at {TARGET_SESSIONS} sessions:")
    print(f"  p95 send -> MACs <= {TARGET_P95_MS:.0f} ms: {p95:.1f} ms {'PASS' if p95 <= TARGET_P95_MS else 'FAIL'}")
    print(
        f"  (p95 send -> script_finished, the whole page: {percentile(target['finished'], 0.95):.1f} ms, for reference)"
    )
    errors, unanswered = len(target["errors"]), target["expected"] - len(target["finished"])
    verdict = "PASS" if errors == unanswered == 0 else "FAIL"
    print(f"  no errors: {errors} errors, {unanswered} of {target['expected']} changes unanswered {verdict}")
    print(
        f"  memory growth < {TARGET_MB:.0f} MB per session: {growth:.2f} MB (+-{15 / target['n']:.1f}: RSS moves "
        f"+-15 MB on its own) {'PASS' if growth < TARGET_MB else 'FAIL'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30], help="class sizes, one run each")
    parser.add_argument("--changes", type=int, default=10, help="slider changes per student (M)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a student's changes")
    parser.add_argument("--ramp", type=float, default=3.0, help="students open the page within this many seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--url", help="a running app server to load instead of a fresh one per class size")
    args = parser.parse_args()
    t0 = time.perf_counter()
    results = []
    for n in args.sessions:
        with serve_app() if not args.url else nullcontext() as server:
            url = server.url if server else args.url.rstrip("/")
            pid = server.pid if server else listening_pid(url)
            results.append(asyncio.run(measure(url, pid, n, args.changes, args.interval, args.ramp, args.seed)))
    report(results, args.changes, args.interval)
    print(f"\nwhole benchmark {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
