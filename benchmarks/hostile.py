"""What hostile student inputs do to a live app: the message shown, how long it took, the server's memory.

The app cases run against a real ``streamlit run app.py`` (started here on a free port or --port and
stopped at the end; --url uses a running one instead) through Debian's Chromium driven by Playwright,
as the browser tests do, each in a fresh browser context; the CLI cases run ``python -m lwviz``.
Measured per case: the outcome (the alert or exception text the page showed, or the CLI's exit code and
first line of output; "still running after N s" at the per-case --timeout), the seconds from the
action to that answer, and the peak memory growth: the resident memory (RSS) of the server process and
its children, sampled every 50 ms from a background thread with psutil, minus the same taken right
before the case (a CLI case: the child's peak RSS). Before every app case the server is left to go
idle; one this script started is restarted if it died or is still busy after 20 s. A server is warmed
up first by a visit to each page used, as a class's first student would have done. A growth past
--guard MB ends a case (and kills a CLI child).

1. hostile link: /build?spec= with 500 stages of ir_r64_c64_e16; seconds from the navigation;
2. zip bomb: a 1 MB .pt checkpoint whose one tensor unpacks to 1 GiB of zeros, uploaded on Classify
   as "your checkpoint"; seconds from the upload;
3. closed tab: Train pressed, the tab closed once steps advance; seconds until the server's processes
   use under 10% of a core (psutil CPU times over 0.25 s, twice in a row);
4. latency: mobilenet_v2 at width 4, depth 4, resolution 1024, Build's "Measured latency" with 50
   timed runs; seconds from turning "Measure real latency" on;
5. CLI: ``lwviz cost`` of the 500-stage spec, ``lwviz classify`` of a directory and of /dev/zero,
   ``lwviz gradcam`` writing into a folder that does not exist. In brackets: what is left over the
   start-up of ``lwviz --help``, run right before each; the verdict is on that.

Targets (done when): every case answered within 2 s with < +200 MB; a closed tab's job stopped within 5 s.
Other work on the machine slows every case: run it on an otherwise idle one.

    python benchmarks/hostile.py [--timeout 60] [--cases link,zip,train,latency,cli] [--port P | --url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

import psutil
import skimage.data
import torch
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the browser tests' Chromium setup, reused as is

from lwviz.presets import PRESETS  # noqa: E402 (after the path is set)
from lwviz.spec import Stage  # noqa: E402 (after the path is set)
from tests.browser.conftest import CHROMIUM_FLAGS, chromium_executable  # noqa: E402 (after the path is set)

ANSWER_S, GROWTH_MB, STOP_S, IDLE_CORES = 2.0, 200.0, 5.0, 0.10
TITLES = {
    "link": "1 hostile link (500 stages)",
    "zip": "2 zip-bomb checkpoint (1 GiB)",
    "train": "3 closed tab's training",
    "latency": "4 latency, mobilenet_v2 w4 d4 r1024",
}
CASES = (*TITLES, "cli")
STARTUP = "5  lwviz --help (start-up, median)"
SNAPSHOT = r"""() => {
  const fresh = (e) => !e.closest('[data-stale="true"]');
  const texts = (sel) => [...new Set([...document.querySelectorAll(sel)].filter(fresh)
    .map((e) => e.innerText.trim()).filter(Boolean))];
  return {alerts: texts('[data-testid="stAlert"], [data-testid="stAlertContainer"], [data-testid="stException"]'),
          metrics: texts('[data-testid="stMetric"]'), captions: texts('[data-testid="stCaptionContainer"]'),
          step: (document.body.innerText.match(/Step (\d+) of \d+/) || [])[1] || null};
}"""


@dataclass
class Row:
    case: str
    outcome: str
    seconds: float | None = None  # None: no answer
    mb: float | None = None  # None: not measured (a server on another machine)
    target_s: float = ANSWER_S
    startup: tuple[float, float] | None = None  # a CLI case: the start-up's (seconds, MB), judged over it
    # The closed tab's training is judged on when it stops: the memory it used while it ran is a real training
    # job's (bounded by lwviz.limits.RUN and run one at a time), shown but not what the case is about.
    judge_memory: bool = True

    def verdict(self) -> str:
        s, mb = self.seconds, self.mb if self.judge_memory else None
        if self.startup and s is not None:
            s, mb = s - self.startup[0], None if mb is None else mb - self.startup[1]
        return "PASS" if s is not None and s <= self.target_s and (mb is None or mb < GROWTH_MB) else "FAIL"


def first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def tree(pid: int) -> list[psutil.Process]:
    try:
        process = psutil.Process(pid)
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def tree_sum(pid: int, read) -> float:
    total = 0.0
    for p in tree(pid):
        with contextlib.suppress(psutil.Error):  # a child that just ended
            total += read(p)
    return total


def tree_rss(pid: int) -> float:
    """Bytes resident in ``pid`` and its children."""
    return tree_sum(pid, lambda p: p.memory_info().rss)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its children."""
    return tree_sum(pid, lambda p: sum(p.cpu_times()[:2]))


class Peak(threading.Thread):
    """Peak RSS of ``pid``'s process tree over ``baseline`` (default: now), sampled every 50 ms while in use."""

    def __init__(self, pid: int | None, guard_mb: float, baseline: float | None = None):
        super().__init__(daemon=True)
        self.pid, self.guard_mb = pid, guard_mb
        self.baseline = 0.0 if pid is None else tree_rss(pid) if baseline is None else baseline
        self.peak, self._done = self.baseline, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.05):
            self.peak = max(self.peak, tree_rss(self.pid))

    def __enter__(self) -> Peak:
        if self.pid is not None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self.is_alive():
            self.join()

    @property
    def mb(self) -> float | None:
        return None if self.pid is None else (self.peak - self.baseline) / 2**20

    @property
    def over(self) -> bool:
        return self.pid is not None and self.mb > self.guard_mb


def wait_idle(pid: int | None, seconds: float) -> bool:
    """True once ``pid``'s processes use under 10% of a core over half a second; False after ``seconds``."""
    deadline = time.monotonic() + seconds
    while pid is not None and time.monotonic() < deadline:
        before = tree_cpu(pid)
        time.sleep(0.5)
        if (tree_cpu(pid) - before) / 0.5 < IDLE_CORES:
            return True
    return pid is None


class Server:
    """The app at --url, or ``streamlit run app.py`` started (and restarted) here on ``port``."""

    def __init__(self, url: str | None, port: int | None):
        self.owned, self.process, self.warm = url is None, None, False
        self.port = (port or free_port()) if self.owned else (urlparse(url).port or 80)
        self.url = url.rstrip("/") if url else f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        if self.process:
            return self.process.pid
        try:  # a server on this machine, found by the port it listens on
            listeners = [c.pid for c in psutil.net_connections("tcp") if c.laddr.port == self.port and c.pid]
        except psutil.Error:
            return None
        return listeners[0] if listeners and urlparse(self.url).hostname in ("127.0.0.1", "localhost") else None

    def alive(self) -> bool:
        return not self.owned or (self.process is not None and self.process.poll() is None)

    def start(self) -> None:
        self.log = tempfile.TemporaryFile()  # not a pipe: a full pipe would stall the server
        command = ["streamlit", "run", "app.py", "--server.headless=true", f"--server.port={self.port}"]
        command += ["--server.address=127.0.0.1", "--browser.gatherUsageStats=false"]
        self.process = subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise RuntimeError(f"the app server did not start: {self.log.read().decode()[-2000:]}") from None
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
            self.process.kill()  # nothing, once it has ended
            self.process.wait()
            self.process, _ = None, self.log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(server: Server, browser) -> None:
    """An idle, warmed-up server before a case: one this script owns is (re)started if dead or still busy."""
    if server.owned and not (server.alive() and wait_idle(server.pid, 20)):
        print(f"  ({'restarting' if server.process else 'starting'} the app server)", flush=True)
        server.stop()
        server.start()
        server.warm = False
    if not server.warm:  # a fresh server's first visit to a page takes seconds: not what a case measures
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        for path in ("build", "classify", "train"):
            page = context.new_page()
            page.goto(f"{server.url}/{path}")
            page.wait_for_selector("h1", timeout=120_000)
            wait_idle(server.pid, 60)
            page.close()
        context.close()
        server.warm = True
    if not wait_idle(server.pid, 20):
        print("  (the server is still busy from the previous case)", flush=True)


def spec_strings() -> tuple[str, str]:
    """The 500-stage design and the largest mobilenet_v2 the sliders allow, as spec strings."""
    base = PRESETS["mobilenet_v2"].spec
    stages = (Stage(block="ir", repeats=64, out_chs=64, expand=16),) * 500
    return base.with_(stages=stages).to_string(), base.with_(width=4.0, depth=4.0, resolution=1024).to_string()


def zip_bomb(path: Path, numel: int = 2**28) -> Path:
    """A torch.save archive of one float tensor of ``numel`` zeros (1 GiB), its members deflated: about 1 MB."""
    mark, buffer = 123457, io.BytesIO()  # a size written as a 4-byte BININT, then swapped in the pickle
    torch.save({"stem.conv.weight": torch.zeros(mark)}, buffer)
    with zipfile.ZipFile(buffer) as real, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in real.infolist():
            if info.filename.endswith("/data/0"):
                with bomb.open(info.filename, "w", force_zip64=True) as member:
                    for _ in range(numel * 4 // 2**20):
                        member.write(bytes(2**20))
            else:
                data = real.read(info)
                if info.filename.endswith("data.pkl"):
                    data = data.replace(b"J" + struct.pack("<i", mark), b"J" + struct.pack("<i", numel))
                bomb.writestr(info.filename, data)
    return path


def wait_answer(page, deadline: float, mem: Peak, done=lambda snap: None, before=(), ignore=None, grace=0.0):
    """(the answer, monotonic time it came): an alert not in ``before`` nor matching ``ignore``, or
    ``done(snapshot)``'s text once ``grace`` seconds pass without such an alert; (None, None) at ``deadline``."""
    found = None
    while time.monotonic() < deadline and not mem.over:
        snap = page.evaluate(SNAPSHOT)
        now = time.monotonic()
        if new := [a for a in snap["alerts"] if a not in before and not (ignore and ignore.search(a))]:
            return new[0], now
        if found is None and (text := done(snap)):
            found = text, now
        if found and now - found[1] >= grace:
            return found
        page.wait_for_timeout(100)
    return found or (None, None)


def answered(text: str | None, start: float, at: float | None, mem: Peak, timeout: float) -> tuple[str, float | None]:
    """The outcome and seconds of an answer that came at ``at``, or why none came within the case's ``timeout``."""
    if text is not None:
        return text, at - start
    if mem.over:
        return f"stopped: the server grew past +{mem.guard_mb:.0f} MB", None
    return f"still running after {timeout:g} s", None


def click_label(page, label: str, timeout_ms: float) -> bool:
    """Click what shows ``label`` (a tab, a segmented control's button, a toggle's label); False if nothing does."""
    try:
        page.get_by_text(label, exact=True).first.click(timeout=timeout_ms)
        return True
    except PlaywrightTimeout:
        return False


def case_link(page, url: str, mem: Peak, timeout: float, spec: str) -> Row:
    start = time.monotonic()
    page.goto(f"{url}/build?spec={quote(spec, safe='')}", wait_until="commit")
    macs = lambda s: next((f"no message; tile {m!r}" for m in s["metrics"] if m.startswith("MACs")), None)  # noqa: E731
    text, at = wait_answer(page, start + timeout, mem, macs, grace=1.0)
    return Row(TITLES["link"], *answered(text, start, at, mem, timeout), mem.mb)


def case_zip(page, url: str, mem: Peak, timeout: float, bomb: Path) -> Row:
    deadline = time.monotonic() + timeout
    page.goto(f"{url}/classify")
    try:
        page.locator('[data-testid="stSelectbox"]', has_text="Network").first.click()
        page.get_by_role("option", name=re.compile("with your checkpoint")).first.click(timeout=15_000)
        upload = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
        upload.wait_for(state="attached", timeout=15_000)
    except PlaywrightTimeout:
        return Row(TITLES["zip"], "control not found: the Network box's checkpoint option or its uploader", mb=mem.mb)
    before = page.evaluate(SNAPSHOT)["alerts"]
    start = time.monotonic()
    upload.set_input_files(str(bomb))
    says = lambda s: next((f"loaded; {m!r}" for m in s["metrics"] if m.startswith("The network says")), None)  # noqa: E731
    text, at = wait_answer(page, deadline, mem, says, before)
    return Row(TITLES["zip"], *answered(text, start, at, mem, timeout), mem.mb)


def case_train(page, url: str, pid: int | None, mem: Peak, timeout: float) -> Row:
    deadline, title = time.monotonic() + timeout, TITLES["train"]
    page.goto(f"{url}/train")
    button = page.get_by_role("button", name="Train", exact=True)
    try:
        button.wait_for()
    except PlaywrightTimeout:
        return Row(title, "control not found: the Train button", mb=mem.mb, target_s=STOP_S)
    before = page.evaluate(SNAPSHOT)["alerts"]
    button.click()
    step = lambda s: s["step"]  # noqa: E731
    first, _ = wait_answer(page, deadline, mem, step, before, ignore=re.compile("^Waiting for the machine"))
    if first is None or not first.isdigit():  # an alert instead of progress, or nothing
        first = first or f"no progress shown within {timeout:g} s"
        return Row(title, f"no training: {first}", mb=mem.mb, target_s=STOP_S)
    wait_answer(page, min(deadline, time.monotonic() + 3), mem, lambda s: s["step"] not in (None, first))
    page.close()  # the tab, with its websocket
    closed, limit, low = time.monotonic(), min(30.0, timeout), []
    while pid is not None and (elapsed := time.monotonic() - closed) < limit and len(low) < 2:
        before_cpu = tree_cpu(pid)
        time.sleep(0.25)
        low = [*low, elapsed + 0.25] if (tree_cpu(pid) - before_cpu) / 0.25 < IDLE_CORES else []
    if pid is None:
        return Row(title, "not measured: the server's process is not on this machine", target_s=STOP_S)
    if len(low) < 2:
        return Row(title, f"still busy after {limit:.0f} s (step {first} seen)", mb=mem.mb, target_s=STOP_S)
    return Row(title, f"job stopped after {low[0]:.1f} s", low[0], mem.mb, STOP_S, judge_memory=False)


def case_latency(page, url: str, mem: Peak, timeout: float, spec: str) -> Row:
    start = time.monotonic()
    deadline, title = start + timeout, TITLES["latency"]
    page.goto(f"{url}/build?spec={quote(spec, safe='')}")
    loaded, _ = wait_answer(page, deadline, mem, lambda s: bool(s["metrics"]) and "page", ignore=re.compile(""))
    on_load = page.evaluate(SNAPSHOT)["alerts"]
    link = f"[link: {' '.join(on_load[0].split())[:40]}...] " if on_load else ""
    if loaded != "page":
        return Row(title, f"{link}page did not load: {answered(None, start, None, mem, timeout)[0]}", mb=mem.mb)
    left_ms = lambda: max(1.0, min(15.0, deadline - time.monotonic())) * 1000  # noqa: E731
    if not click_label(page, "Measured latency", left_ms()):
        return Row(title, f"{link}control not found: Measured latency", mb=mem.mb)
    try:
        runs = page.get_by_label("Timed runs (median)", exact=True).first
        runs.fill("50", timeout=left_ms())
        runs.press("Enter")
    except PlaywrightTimeout:
        return Row(title, f"{link}control not found: Timed runs (median)", mb=mem.mb)
    page.wait_for_timeout(300)  # the rerun with 50 runs starts before the toggle's
    before = page.evaluate(SNAPSHOT)["alerts"]
    start = time.monotonic()
    if not click_label(page, "Measure real latency", left_ms()):
        return Row(title, f"{link}control not found: Measure real latency", mb=mem.mb)
    caption = lambda s: next((c for c in s["captions"] if "forward passes" in c), None)  # noqa: E731
    text, at = wait_answer(page, deadline, mem, caption, before)
    outcome, seconds = answered(text, start, at, mem, timeout)
    return Row(title, link + outcome, seconds, mem.mb)


# ``python -m lwviz ARGS`` in a small parent that prints the kernel's peak RSS of it as it ends (this script's own
# size would count in the peak of a process it starts itself: the kernel counts a fork's pages until its exec).
CLI = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "lwviz", *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print("\\nmax RSS", usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_cli(title: str, args: list[str], work: Path, timeout: float, guard_mb: float, startup=None) -> Row:
    """``python -m lwviz ARGS`` in ``work``: exit code and first line of output (a traceback's last), seconds, and
    peak RSS: the kernel's (a short run can end between two samples), or the sampled one of the process tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        child = subprocess.Popen([sys.executable, "-c", CLI, *args], cwd=work, env=env, stdout=out, stderr=err)
        killed = False
        with Peak(child.pid, guard_mb, baseline=0.0) as mem:
            while not (ended := os.wait4(child.pid, os.WNOHANG))[0]:
                if killed := time.monotonic() - start > timeout or mem.over:
                    for p in reversed(tree(child.pid)):
                        p.kill()
                    ended = os.wait4(child.pid, 0)
                    break
                time.sleep(0.05)
            seconds = time.monotonic() - start
        child.returncode = os.waitstatus_to_exitcode(ended[1])  # reaped here
        err.seek(0)
        out.seek(0)
        errors = err.read().decode(errors="replace")
        if peak := re.search(r"\n*max RSS (\d+)\n$", errors):
            errors = errors[: peak.start()]
        mb = max(mem.peak, int(peak[1]) * 1024 if peak else 0) / 2**20
        if killed:
            why = f"killed past +{guard_mb:.0f} MB" if mem.over else f"still running after {timeout:g} s"
            return Row(title, why, None, mb, startup=startup)
        if "Traceback (most recent call last)" in errors:
            errors = f"traceback: {errors.strip().splitlines()[-1]}"
        said = first_line(errors + "\n" + out.read().decode(errors="replace"))
        return Row(title, f"exit {child.returncode}: {said}", seconds, mb, startup=startup)


def cli_cases(timeout: float, guard_mb: float, spec: str, work: Path) -> list[Row]:
    """Each CLI case right after a run of ``lwviz --help`` (the start-up), judged over it: a busy machine slows both."""
    Image.fromarray(skimage.data.chelsea()).save(work / "chelsea.png")
    (work / "a_directory").mkdir(exist_ok=True)
    cases = [
        ("5a cli cost (500 stages)", ["cost", spec]),
        ("5b cli classify a directory", ["classify", "a_directory"]),
        ("5c cli classify /dev/zero", ["classify", "/dev/zero"]),
        ("5d cli gradcam --out missing dir", ["gradcam", "chelsea.png", "--out", "/nonexistent-dir/x.png"]),
    ]
    refs, rows = [], []
    for title, args in cases:
        refs.append(ref := run_cli(STARTUP, ["--help"], work, timeout, guard_mb))
        startup = None if ref.seconds is None else (ref.seconds, ref.mb)  # else judged as they are
        rows.append(run_cli(title, args, work, timeout, guard_mb, startup))
    if any(r.seconds is None for r in refs):
        return [next(r for r in refs if r.seconds is None), *rows]
    median = (statistics.median(getattr(r, k) for r in refs) for k in ("seconds", "mb"))
    return [Row(STARTUP, refs[0].outcome, *median), *rows]


def table(rows: list[Row]) -> str:
    def cell(value: float | None, over: float | None, digits: int) -> str:
        if value is None:
            return "-"
        return f"{value:.{digits}f}" + ("" if over is None else f" ({value - over:+.{digits}f})")

    lines = [f"{'case':<40} {'outcome':<100} {'seconds':>13} {'MB':>13}  verdict"]
    for r in rows:
        outcome = " ".join(r.outcome.split())
        outcome = outcome if len(outcome) <= 100 else outcome[:97] + "..."
        s_over, mb_over = r.startup or (None, None)
        verdict = "" if r.case == STARTUP else r.verdict()
        lines.append(
            f"{r.case:<40} {outcome:<100} {cell(r.seconds, s_over, 2):>13} {cell(r.mb, mb_over, 0):>13}  {verdict}"
        )
    return "\n".join(lines)


def app_rows(args, chosen: list[str], work: Path, big_spec: str, large_spec: str) -> list[Row]:
    """The app cases, each in a fresh browser context against an idle server."""
    executable = chromium_executable()
    if not executable:
        sys.exit("the app cases need Debian's chromium on PATH (apt-get install -y chromium)")
    bomb = zip_bomb(work / "checkpoint.pt") if "zip" in chosen else None
    server, rows = Server(args.url, args.port), []
    runs = {
        "link": lambda page, mem: case_link(page, server.url, mem, args.timeout, big_spec),
        "zip": lambda page, mem: case_zip(page, server.url, mem, args.timeout, bomb),
        "train": lambda page, mem: case_train(page, server.url, server.pid, mem, args.timeout),
        "latency": lambda page, mem: case_latency(page, server.url, mem, args.timeout, large_spec),
    }
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
            for case in chosen:
                print(f"case {case} ...", flush=True)
                row, context = Row(TITLES[case], "", target_s=STOP_S if case == "train" else ANSWER_S), None
                try:
                    prepare(server, browser)
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    page = context.new_page()
                    page.set_default_timeout(args.timeout * 1000)
                    with Peak(server.pid, args.guard) as mem:
                        row = runs[case](page, mem)
                    if not server.alive():
                        row.outcome += " (the server process died)"
                except PlaywrightTimeout as exc:  # the page never came: one case failing must not stop the others
                    row.outcome = f"no answer: {first_line(str(exc))}"
                except Exception as exc:
                    row.outcome = f"benchmark error: {type(exc).__name__}: {first_line(str(exc))}"
                finally:
                    if context:
                        context.close()
                rows.append(row)
            browser.close()
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app to test instead of starting one (memory: only on this machine)")
    parser.add_argument("--port", type=int, help="port for the app server started here (default: a free one)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case (default 60)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    parser.add_argument("--guard", type=float, default=4096.0, help="MB of growth that ends a case (default 4096)")
    args = parser.parse_args()
    chosen = [c.strip() for c in args.cases.split(",") if c.strip()]
    if unknown := set(chosen) - set(CASES):
        parser.error(f"unknown cases {sorted(unknown)}; choose among {','.join(CASES)}")
    began = time.monotonic()
    big_spec, large_spec = spec_strings()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        app_cases = [c for c in CASES[:4] if c in chosen]
        if app_cases:
            rows += app_rows(args, app_cases, work, big_spec, large_spec)
        if "cli" in chosen:
            print("case cli ...", flush=True)
            rows += cli_cases(args.timeout, args.guard, big_spec, work)
    print()
    print(table(rows))
    judged = [r for r in rows if r.case != STARTUP]
    print(
        f"\nDone when: every case answered within {ANSWER_S:.0f} s with < +{GROWTH_MB:.0f} MB, a closed tab's job "
        f"stopped within {STOP_S:.0f} s (CLI: over the start-up, in brackets). "
        f"{sum(r.verdict() == 'PASS' for r in judged)} of {len(judged)} cases pass."
    )
    print(f"Whole run: {time.monotonic() - began:.0f} s, {os.cpu_count()} cores, torch {torch.__version__}.")


if __name__ == "__main__":
    main()
