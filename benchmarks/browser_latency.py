"""What a person sees: press -> new number and press -> every chart drawn, in a real browser.

Starts the real app (as the browser tests do) and Debian's Chromium through Playwright at the
classroom projector's 1280x720, then presses each control N times, ~1.5 s apart, each press
changing the value, each control in a new session. A script injected into the page measures with
the page's own clock (``performance.now()``: Playwright's round trips are not counted):

- press: the ``timeStamp`` of the keydown / pointerdown that makes the change;
- press -> number: the first DOM change (MutationObserver) after which the headline shows the
  expected new text: a metric's value, the Grad-CAM caption with a new picture ``src``, or the Zoo's
  chart. Expected texts come from lwviz, or from AppTest making the same change;
- press -> charts: the latest of (a) the number shown, (b) the rerun settled: the page has received
  the server's ``script_finished`` message of the last run the press started, no element in the main
  area is stale (``[data-stale="true"]``) and every displayed chart is drawn (no skeleton, an svg),
  (c) the last DOM change inside a displayed Plotly chart (``.js-plotly-plot``, hover layer
  excluded) or Graphviz chart, watched until 0.5 s after (b). Charts below the fold count, charts in
  a hidden tab do not. Streamlit's status widget is not used: it appears only after 500 ms of
  running and then lingers for its 200 ms fade-out.
- where the time went: every server message (the WebSocket ``message`` event, decoded to its
  ForwardMsg type: ``new_session`` starts a run, ``script_finished`` ends it), long tasks (the main
  thread busy > 50 ms at a stretch) and the app server's CPU time. DevTools' ``Network.
  webSocketFrameReceived`` is no better a clock for arrivals: checked here, its timestamps equal the
  page's message events within 0.3 ms even while a script blocks the main thread.

Beside each row: the same changes in Streamlit's AppTest (no browser), each ``.run()`` timed. Also
visits (navigation start -> headline): Build as soon as the fresh server answers, during its start-up
warm-up; then, once the server is idle, the first visit of each page, and a second in a new tab.

Targets: number median <= 150 ms, p90 <= 250 ms; charts p90 <= 400 ms; first visit < 2.5 s, later < 1 s.

    python benchmarks/browser_latency.py [--presses 16] [--gap 1.5] [--controls build-width open-zoo ...]
                                         [--url http://127.0.0.1:8501]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # the browser tests' server and Chromium setup, reused as is

from benchmarks.classroom_load import settle  # noqa: E402
from lwviz.cost import analyze  # noqa: E402 (after the path is set)
from lwviz.cost.one_layer import OneLayer  # noqa: E402
from lwviz.explain.gradcam import layer_names  # noqa: E402
from lwviz.families import FAMILIES  # noqa: E402
from lwviz.plan import resolve  # noqa: E402
from lwviz.presets import get_preset  # noqa: E402
from lwviz.samples import SAMPLE_PHOTOS  # noqa: E402
from lwviz.ui.state import SLIDERS  # noqa: E402
from lwviz.viz.layer_figures import count  # noqa: E402
from tests.browser.conftest import CHROMIUM_FLAGS, chromium_executable, serve_app  # noqa: E402

VIEWPORT = {"width": 1280, "height": 720}
PARK = (5, 715)  # where the mouse rests after a click: the sidebar's foot, over no chart
TARGETS = {"number median": 150, "number p90": 250, "charts p90": 400, "first visit": 2500, "later visit": 1000}
KINDS = {4: "new_session", 6: "script_finished"}  # ForwardMsg fields

INIT = r"""(() => {
  const CHARTS = '[data-testid="stMain"] .js-plotly-plot, [data-testid="stMain"] [data-testid="stGraphVizChart"]';
  const lw = (window.__lw = { armed: false, tasks: [] });
  const text = (el) => (el ? el.textContent.trim() : '');
  lw.metric = (label) => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]'))
      if (text(m.querySelector('[data-testid="stMetricLabel"]')) === label)
        return text(m.querySelector('[data-testid="stMetricValue"]'));
    return '';
  };
  lw.caption = (prefix) => {  // an image's caption and picture: "caption@src"
    for (const c of document.querySelectorAll('[data-testid="stImageCaption"]'))
      if (text(c).startsWith(prefix)) return text(c) + '@' + (c.parentElement.querySelector('img') || {}).src;
    return '';
  };
  lw.plot = (title) => {  // a drawn Plotly chart whose title contains ``title``
    for (const p of document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot'))
      if (p.querySelector('.main-svg') && text(p.querySelector('.gtitle')).includes(title)) return 'drawn';
    return '';
  };
  const kind = (data) => {  // the ForwardMsg's type: the first field after hash (1) and metadata (2)
    if (!(data instanceof ArrayBuffer)) return 0;
    const b = new Uint8Array(data);
    let i = 0;
    const varint = () => {
      let x = 0, s = 0, c;
      do { c = b[i++]; x += (c & 127) * 2 ** s; s += 7; } while (c & 128);
      return x;
    };
    while (i < b.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag & 7;
      if (field > 2) return field;
      const skip = wire === 0 ? (varint(), 0) : wire === 2 ? varint() : wire === 1 ? 8 : 4;
      i += skip;
    }
    return 0;
  };
  const stale = () => document.querySelector('[data-testid="stMain"] [data-stale="true"]') !== null;
  const UNDRAWN = ['stSkeleton', 'stPlotlyChart', 'stGraphVizChart']
    .map((t) => `[data-testid="stMain"] [data-testid="${t}"]`).join(', ');
  const undrawn = () =>  // a displayed chart still loading (a skeleton) or not drawn yet (no svg)
    [...document.querySelectorAll(UNDRAWN)].some(
      (c) => c.getClientRects().length > 0 && (c.dataset.testid === 'stSkeleton' || !c.querySelector('svg')));
  lw.check = () => {
    if (!lw.armed) return;
    const now = performance.now();
    if (lw.shown === null) {
      const h = lw.headline();
      if (h !== lw.before && (lw.expected === '' ? h !== '' : h.split('@')[0] === lw.expected)) {
        lw.shown = now;
        requestAnimationFrame(() => { lw.frame = performance.now(); });
      }
    }
    if (lw.shown !== null && lw.finished !== null && lw.settled === null && !stale() && !undrawn()) lw.settled = now;
  };
  const observer = new MutationObserver((records) => {
    const now = performance.now();
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const chart = el && el.closest(CHARTS);
      if (chart && !el.closest('.hoverlayer')) {
        lw.firstChart ??= now;
        lw.lastChart = now;
        lw.charts.add(chart);
      }
    }
    lw.check();
  });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {  // registered before Streamlit's own handler
        if (!lw.armed) return;
        const k = kind(e.data), now = performance.now();
        lw.msgs.push([now, k]);
        if (k === 4) { lw.finished = null; lw.settled = null; }  // a (new) run started
        if (k === 6) lw.finished = now;
        lw.check();
      });
    }
    send(data) {
      if (lw.armed && lw.press !== null && lw.sent === null) lw.sent = performance.now();
      return super.send(data);
    }
  };
  for (const type of ['keydown', 'pointerdown', 'mousedown'])
    addEventListener(type, (e) => { if (lw.armed && lw.press === null) lw.press = e.timeStamp; }, true);
  try {
    new PerformanceObserver((list) => {
      for (const t of list.getEntries()) lw.tasks.push([t.startTime, t.duration]);
      if (lw.tasks.length > 400) lw.tasks.splice(0, 200);
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {}
  lw.arm = (expected, headline, press = null) => {
    Object.assign(lw, { armed: true, expected, headline, before: headline(), press, armedAt: performance.now() });
    Object.assign(lw, { shown: null, frame: null, finished: null, settled: null, firstChart: null, lastChart: null });
    Object.assign(lw, { sent: null, charts: new Set(), msgs: [] });
    observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  };
  lw.collect = () => {
    observer.disconnect();
    lw.armed = false;
    const press = lw.press ?? lw.armedAt;
    const shown = [...document.querySelectorAll(CHARTS)].filter((c) => c.getClientRects().length > 0);
    const busy = (end) => end === null ? null :
      lw.tasks.reduce((sum, [t, d]) => sum + Math.max(0, Math.min(end, t + d) - Math.max(press, t)), 0);
    const after = (t) => (t === null ? null : t - press);
    const drawn = lw.shown === null || lw.settled === null ? null : Math.max(lw.shown, lw.settled, lw.lastChart ?? 0);
    return { keyed: lw.press !== null, shown: after(lw.shown), frame: after(lw.frame), sent: after(lw.sent),
      finished: after(lw.finished), settled: after(lw.settled), firstChart: after(lw.firstChart), drawn: after(drawn),
      msgs: lw.msgs.map(([t, k]) => [t - press, k]), charts: shown.length,
      redrawn: shown.filter((c) => lw.charts.has(c)).length, busy: busy(lw.shown), busyDrawn: busy(drawn) };
  };
})();
"""
DONE = "() => window.__lw.shown !== null && window.__lw.settled !== null"
VISITS = {
    "Build": ("/build", ("metric", "MACs")),
    "One layer": ("/layer", ("metric", "Separable MACs")),
    "Classify": ("/classify", ("metric", "The network says")),
    "Look inside": ("/explain", ("caption", "Grad-CAM of ")),
    "Zoo": ("/zoo", ("plot", "Accuracy against compute")),
}


@dataclass
class Control:
    name: str
    path: str  # the page the browser opens; AppTest opens the same page with the same query
    # ("metric", label), ("caption", prefix: its image's src must change too), ("plot", words of its title)
    headline: tuple[str, str]
    values: list  # one per press
    expected: list[str] | None  # the headline after each press; None: what AppTest shows after the same change
    prepare: Callable  # (page, i) -> press i (a function), or None when the control is not on the page
    change: Callable  # (AppTest, i) -> what to .run() for change i, or None when the control is not there


def headline_js(headline: tuple[str, str]) -> str:
    return f"() => __lw.{headline[0]}({json.dumps(headline[1])})"


def headline_in(at, headline: tuple[str, str]) -> str:
    kind, arg = headline
    if kind == "metric":
        return next((m.value for m in at.metric if m.label == arg), "")
    if kind == "caption":
        return next((c for image in at.get("image") for c in image.captions if c.startswith(arg)), "")
    return "drawn" if any(arg in chart.proto.spec for chart in at.get("plotly_chart")) else ""


def widget(page, testid: str, label: str):
    labels = page.locator('[data-testid="stWidgetLabel"]').get_by_text(label, exact=True)
    return page.locator(f'[data-testid="{testid}"]').filter(has=labels)


def labelled(elements, label: str):
    return next((e for e in elements if e.label == label), None)


def slider(label: str, keys: list[str], values: list[float]) -> tuple[Callable, Callable]:
    def prepare(page, i):
        thumb = widget(page, "stSlider", label).get_by_role("slider")

        def press():
            thumb.focus()  # again: a rerun can take the focus away
            page.keyboard.press(keys[i])

        return press if thumb.count() else None

    def change(at, i):
        w = labelled(at.slider, label)
        return w and w.set_value(values[i])

    return prepare, change


def selectbox(label: str, options: list[str]) -> tuple[Callable, Callable]:
    """Options named by their shown text, or its start before " · " (the Layer box adds map sizes)."""

    def prepare(page, i):
        box = widget(page, "stSelectbox", label)
        if not box.count():
            return None
        box.click()
        option = page.get_by_role("option", name=re.compile(rf"^{re.escape(options[i])}( · .*)?$")).first
        if not option.count():  # a long list draws only the options on screen: filter it
            page.keyboard.type(options[i])
        option.wait_for()
        return option.click

    def change(at, i):
        w = labelled(at.selectbox, label)
        shown = [] if w is None else [o.split(" · ")[0] for o in w.options]
        return w.select_index(shown.index(options[i])) if options[i] in shown else None

    return prepare, change


def stepper(label: str) -> tuple[Callable, Callable]:
    def prepare(page, i):
        step = widget(page, "stNumberInput", label).get_by_test_id("stNumberInputStepUp")
        return step.click if step.count() else None

    def change(at, i):
        w = labelled(at.number_input, label)
        return w and w.increment()

    return prepare, change


def build_knob(name: str, knob: str, values: list, widget_pair: tuple[Callable, Callable]) -> Control:
    """A Build control on mobilenet_v2; expected: lwviz's MACs for the design with ``knob`` set."""
    spec = get_preset("mobilenet_v2")
    expected = [f"{analyze(spec.with_(**{knob: v})).macs / 1e6:.1f} M" for v in values]
    return Control(name, "/build?spec=mobilenet_v2", ("metric", "MACs"), values, expected, *widget_pair)


def build_width(n: int) -> Control:
    lo, hi, step = SLIDERS["width"]
    widths, keys, w, direction = [], [], 1.0, 1
    for _ in range(n):  # rightwards from 1.0, turning back at the end of the range: a new value every press
        if not lo <= round(w + direction * step, 2) <= hi:
            direction = -direction
        w = round(w + direction * step, 2)
        widths.append(w)
        keys.append("ArrowRight" if direction > 0 else "ArrowLeft")
    return build_knob("build-width", "width", widths, slider("Width multiplier α", keys, widths))


def build_block(n: int) -> Control:
    blocks = [("dws", "ir")[i % 2] for i in range(n)]
    return build_knob("build-block", "block", blocks, selectbox("Block type", [FAMILIES[b].label for b in blocks]))


def build_kernel(n: int) -> Control:
    kernels = [(5, 3)[i % 2] for i in range(n)]
    return build_knob("build-kernel", "kernel", kernels, selectbox("Kernel size", [str(k) for k in kernels]))


def layer_stepper(n: int) -> Control:
    channels = [512 + i + 1 for i in range(n)]  # "+" every time from the paper's 512: a new value every press
    expected = [count(OneLayer(512, c, 3, 14, 14).separable_macs) for c in channels]
    metric = ("metric", "Separable MACs")
    return Control("layer-stepper", "/layer", metric, channels, expected, *stepper("Output channels N"))


def classify_photo(n: int) -> Control:
    names = list(SAMPLE_PHOTOS)
    photos = [names[(i + 1) % len(names)] for i in range(n)]  # the next sample photo every time
    metric = ("metric", "The network says")
    return Control("classify-photo", "/classify", metric, photos, None, *selectbox("Photo", photos))


def explain_layer(n: int) -> Control:
    # Lite0's layers in order, each once before any repeats (the page opens on "head"): the explainer
    # remembers maps it made, so a repeated layer would measure that memory, not Grad-CAM
    cycle = [name for name in layer_names(resolve(get_preset("efficientnet_lite0"))) if name != "head"]
    layers = [cycle[i % len(cycle)] for i in range(n)]
    expected = [f"Grad-CAM of {layer}" for layer in layers]
    return Control(
        "explain-layer", "/explain", ("caption", "Grad-CAM of "), layers, expected, *selectbox("Layer", layers)
    )


def page_open(title: str) -> Callable[[int], Control]:
    """A later visit: from Home to the page by its sidebar link, as a teacher moves around during a lesson (Home is
    visited between presses, not measured). The page's first visit on the server is measured by ``visits``."""
    path, headline = VISITS[title]
    if headline[0] == "caption":  # a revisit shows the same picture: watch a metric of the page instead
        headline = ("metric", "Explaining")

    def prepare(page, i):
        nav = page.get_by_test_id("stSidebarNav")
        if not nav.get_by_text(title, exact=True).count():
            return None
        if urlsplit(page.url).path.rstrip("/"):
            nav.get_by_text("Home", exact=True).click()
            page.wait_for_function(f"() => !location.pathname.replace(/\\/$/, '') && !({headline_js(headline)})()")
            page.wait_for_timeout(800)
        return nav.get_by_text(title, exact=True).click

    def change(at, i):
        at.switch_page("pages/home.py").run()
        return at.switch_page(f"pages{path}.py")

    def control(n: int) -> Control:
        return Control(f"open-{path.strip('/')}", "/", headline, [title] * n, None, prepare, change)

    control.__name__ = f"open_{path.strip('/')}"
    return control


CONTROLS = {
    f.__name__.replace("_", "-"): f
    for f in (
        build_width,
        build_block,
        build_kernel,
        layer_stepper,
        classify_photo,
        explain_layer,
        *(page_open(title) for title in VISITS),
    )
}


class FullCollections:
    """Milliseconds spent in full (generation 2) garbage collections, as a ``gc.callbacks`` entry."""

    def __init__(self):
        self.ms, self.start = 0.0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self.start = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self.start) * 1e3


def server_side(control: Control) -> tuple[list[float], list[str], list[float]] | None:
    """The same changes in AppTest: ms per ``.run()``, the headline shown after each, ms of full GC in each."""
    from tests.pages.apptest import open_page

    url = urlsplit(control.path)
    at = open_page(url.path.strip("/") or "home", **dict(parse_qsl(url.query)))
    times, shown, gc_ms, collections = [], [], [], FullCollections()
    gc.callbacks.append(collections)
    try:
        for i in range(len(control.values)):
            runnable, before = control.change(at, i), collections.ms
            if runnable is None:
                return None
            start = time.perf_counter()
            runnable.run()
            times.append((time.perf_counter() - start) * 1e3)
            gc_ms.append(collections.ms - before)
            shown.append(headline_in(at, control.headline))
    finally:
        gc.callbacks.remove(collections)
    return times, shown, gc_ms


def new_context(browser, extra: str = ""):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INIT + extra)
    context.set_default_timeout(60_000)
    return context


def cpu_ms(pid: int | None) -> float | None:
    """CPU time the process has used so far, all threads."""
    return None if pid is None else sum(psutil.Process(pid).cpu_times()[:2]) * 1e3


def browser_side(browser, url: str, control: Control, expected: list[str], gap: float, pid) -> list[dict] | None:
    """Press ``control`` once per expected text, ``gap`` s apart, in a new session; what the page recorded,
    and the app server's CPU time (``pid``) from just before the press until the charts were drawn + 0.5 s."""
    from playwright.sync_api import TimeoutError as Timeout

    context = new_context(browser)
    page, js = context.new_page(), headline_js(control.headline)
    try:
        page.goto(url + control.path)
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)
        if control.headline[0] != "plot":  # the Zoo's starts from Home, without one
            with contextlib.suppress(Timeout):
                page.wait_for_function(f"() => ({js})() !== ''", timeout=120_000)
        page.wait_for_timeout(2000)  # the first run's charts
        presses, next_at = [], time.monotonic()
        for i, text in enumerate(expected):
            press = control.prepare(page, i)
            if press is None:
                return None
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at = time.monotonic() + gap
            page.evaluate(f"expected => __lw.arm(expected, {js})", text)
            cpu = cpu_ms(pid)
            press()
            page.mouse.move(*PARK)
            with contextlib.suppress(Timeout):
                page.wait_for_function(DONE, polling=50, timeout=30_000)
            page.wait_for_timeout(500)  # late chart drawing
            presses.append({**page.evaluate("__lw.collect()"), "cpu": None if cpu is None else cpu_ms(pid) - cpu})
            if presses[-1]["shown"] is None:
                page.keyboard.press("Escape")  # a dropdown left open
        return presses
    finally:
        context.close()


def visits(browser, url: str, path: str, headline: tuple[str, str]) -> list[dict]:
    """``path`` opened in a new browser (cold cache), then in a new tab of it: two new sessions."""
    from playwright.sync_api import TimeoutError as Timeout

    context, seen = new_context(browser, f"window.__lw.arm('', {headline_js(headline)}, 0);"), []
    try:
        for _ in range(2):
            page = context.new_page()
            page.goto(url + path, wait_until="commit")
            with contextlib.suppress(Timeout):
                page.wait_for_function(DONE, polling=100, timeout=180_000)
            page.wait_for_timeout(500)
            seen.append(page.evaluate("__lw.collect()"))
            page.close()
        return seen
    finally:
        context.close()


COLUMNS = ("sent", "started", "finished", "number", "frame", "1st chart", "charts", "busy->num", "busy->cht",
           "messages", "server cpu")  # fmt: skip


def split(p: dict) -> dict[str, float | None]:
    """One press, ms after it: what the page sent, received, showed and drew; its busy main thread; server CPU."""
    started = next((t for t, k in p["msgs"] if KINDS.get(k) == "new_session"), None)
    finished = ([None] + [t for t, k in p["msgs"] if KINDS.get(k) == "script_finished"])[-1]
    values = (p["sent"], started, finished, p["shown"], p["frame"], p["firstChart"], p["drawn"], p["busy"],
              p["busyDrawn"], len(p["msgs"]), p.get("cpu"))  # fmt: skip
    return dict(zip(COLUMNS, values))


def stats(values: list) -> tuple[float, float]:
    got = [v for v in values if v is not None]
    return (statistics.median(got), float(np.percentile(got, 90))) if got else (float("nan"), float("nan"))


def ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


LEGEND = """
Where the time went, median ms after the press. sent: the rerun request left the page; started / finished:
the run's first / last server message reached the page's main thread; frame: the first animation frame
after the number; 1st chart: the first change inside a chart; busy->num / busy->cht: long tasks (main thread
busy > 50 ms at a stretch) from the press to the number / the charts; server cpu: the app server's CPU time
(all threads) from the press until 0.5 s after the charts."""


def report(controls, results, server, visits, notes, args, loads, began) -> None:
    print(
        f"Chromium {VIEWPORT['width']}x{VIEWPORT['height']}, {args.presses} presses per control, {args.gap} s apart; "
        f"{len(os.sched_getaffinity(0))} cores, load average {loads[0]:.2f} before, {loads[1]:.2f} after\n"
    )
    print(
        f"{'control':15} {'N':>3} {'press->number med/p90':>22} {'press->charts med/p90':>22} {'server med':>11}  "
        "number (<=150/<=250)  charts (p90<=400)"
    )
    for c in controls:
        presses = results.get(c.name)
        srv = f"{statistics.median(server[c.name]):8.0f} ms" if c.name in server else "not found"
        if not presses:
            print(f"{c.name:15} {'':>3} {'not found':>22} {'not found':>22} {srv:>11}")
            continue
        (n_med, n_p90), (c_med, c_p90) = stats([x["shown"] for x in presses]), stats([x["drawn"] for x in presses])
        number_ok = n_med <= TARGETS["number median"] and n_p90 <= TARGETS["number p90"]
        missed = sum(x["shown"] is None for x in presses)
        print(
            f"{c.name:15} {len(presses):3} {n_med:11.0f} / {n_p90:4.0f} ms {c_med:11.0f} / {c_p90:4.0f} ms {srv:>11}  "
            f"{verdict(number_ok):20}  {verdict(c_p90 <= TARGETS['charts p90'])}"
            + (f"  ({missed} presses never showed it)" if missed else "")
        )

    print(LEGEND)
    cols = COLUMNS
    print(f"{'control':15}" + "".join(f"{k:>11}" for k in cols) + "  charts redrawn")
    for c in (c for c in controls if results.get(c.name)):
        splits = [split(x) for x in results[c.name]]
        redrawn = [f"{x['redrawn']}/{x['charts']}" for x in results[c.name]]
        medians = "".join(f"{stats([s[k] for s in splits])[0]:11.0f}" for k in cols)
        print(f"{c.name:15}{medians}  {max(set(redrawn), key=redrawn.count)}")

    print(
        "\nPer press in order, ms: press->number, press->charts, the server's run (AppTest); the slowest number's split"
    )
    for c in (c for c in controls if results.get(c.name)):
        splits = [split(x) for x in results[c.name]]
        print(f"  {c.name:15} number  " + " ".join(ms(s["number"]) for s in splits))
        print(f"  {'':15} charts  " + " ".join(ms(s["charts"]) for s in splits))
        print(f"  {'':15} server  " + " ".join(ms(t) for t in server.get(c.name, [])))
        slow = max(splits, key=lambda s: float("inf") if s["number"] is None else s["number"])
        print(f"  {'':15} slowest " + ", ".join(f"{k} {ms(slow[k])}" for k in cols))

    seen, early, warm = visits
    print(
        "\nVisits, navigation start -> headline / every chart drawn. First: the page's first visit on the server, in a"
        "\nnew browser (target < 2.5 s). Later: from Home by the sidebar link, the open-<page> row's median above"
        "\n(target < 1 s). New tab: a second session in that browser, for reference (Streamlit's frontend starts"
        "\nanew). In brackets, first / new tab: the page's first request sent, the run's last message received."
    )
    if early["shown"] is not None:
        print(
            f"  During the start-up warm-up (Build opened as soon as the server answered): {early['shown'] / 1e3:.2f} s"
            f" / {(early['drawn'] or float('nan')) / 1e3:.2f} s; the warm-up ended {warm or float('nan'):.1f} s"
            " after the server answered. Then:"
        )
    for name, pair in seen.items():
        if any(v["shown"] is None for v in pair):
            print(f"  {name:12} headline not found")
            continue
        path = VISITS[name][0].strip("/")
        later = [split(x)["number"] for x in results.get(f"open-{path}", [])]
        later_ms = stats([v for v in later if v is not None])[0] if later else None
        ok = pair[0]["shown"] < TARGETS["first visit"] and later_ms is not None and later_ms < TARGETS["later visit"]
        shown = [f"{v['shown'] / 1e3:5.2f} s / {(v['drawn'] or float('nan')) / 1e3:5.2f} s" for v in pair]
        sent, finished = (" / ".join(ms(split(v)[k]) for v in pair) for k in ("sent", "finished"))
        print(
            f"  {name:12} first {shown[0]}   later {ms(later_ms):>5} ms   new tab {shown[1]}   {verdict(ok)}"
            f"   (sent {sent}, finished {finished} ms)"
        )
    for note in notes:
        print("note:", note)
    print(f"\ntotal run time {time.monotonic() - began:.0f} s")


def server_runs(controls: list[Control], notes: list[str]) -> tuple[dict, dict]:
    """Every control's changes in AppTest: ms per run, and the expected headlines (lwviz's, else AppTest's)."""
    server, expected = {}, {}
    for c in controls:
        expected[c.name] = c.expected
        try:
            got = server_side(c)
        except Exception as exc:  # a page changed under us: its row says so, the others still run
            got = None
            notes.append(f"{c.name}: AppTest failed: {exc!r:.300}")
        if got is None:
            continue
        server[c.name], shown, gc_ms = got
        if any(gc_ms):
            full = ", ".join(f"run {i + 1}: {t:.0f} ms" for i, t in enumerate(gc_ms) if t)
            notes.append(f"{c.name}: full garbage collections inside AppTest runs ({full})")
        expected[c.name] = c.expected or shown
        if c.expected and shown != c.expected:
            notes.append(f"{c.name}: AppTest showed {shown[:3]}..., lwviz gives {c.expected[:3]}...")
        if len(set(expected[c.name])) > 1 and any(a == b for a, b in zip(expected[c.name], expected[c.name][1:])):
            notes.append(f"{c.name}: two presses in a row show the same headline: {expected[c.name]}")
    return server, expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=16, help="presses per control")
    parser.add_argument("--gap", type=float, default=1.5, help="seconds between presses")
    parser.add_argument("--controls", nargs="+", choices=list(CONTROLS), default=list(CONTROLS))
    parser.add_argument("--url", help="a running app instead of starting one (its first visits are then not first)")
    args = parser.parse_args()
    began, load_before, notes = time.monotonic(), os.getloadavg()[0], []
    controls = [CONTROLS[name](args.presses) for name in args.controls]
    server, expected = server_runs(controls, notes)  # first: AppTest cannot run beside Playwright's event loop

    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        app = None if args.url else stack.enter_context(serve_app())
        url, pid = args.url or app.url, app and app.pid
        browser = stack.enter_context(sync_playwright()).chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_FLAGS
        )
        started = time.monotonic()
        early = visits(browser, url, *VISITS["Build"])[0]  # as soon as the server answers: during its warm-up
        settle(pid)
        warm = time.monotonic() - started if pid else None
        seen = {name: visits(browser, url, path, headline) for name, (path, headline) in VISITS.items()}
        results = {}
        for c in (c for c in controls if expected[c.name]):
            print(f"pressing {c.name}...", file=sys.stderr)
            try:
                results[c.name] = browser_side(browser, url, c, expected[c.name], args.gap, pid)
            except Exception as exc:  # a page changed under us: its row says so, the others still run
                notes.append(f"{c.name}: the browser run failed: {exc!r:.300}")
        browser.close()
    report(controls, results, server, (seen, early, warm), notes, args, (load_before, os.getloadavg()[0]), began)


if __name__ == "__main__":
    main()
