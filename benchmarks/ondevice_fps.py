"""How fast does a student's own browser run the network, and what does it cost the teacher's laptop?

The Webcam page's on-device mode (``/webcam?mode=device``) in Debian's headless Chromium, as in the
browser tests, with the camera playing the coffee photo at 640x480, 30 FPS. On this machine the
"device" shares its 2 cores with the app server, so the figures are a floor for a real laptop or phone.
For each network it opens the page in a fresh browser context (an empty model cache, as a student's first
visit), waits for the first labels, lets it warm up, then reads the component's own counters for the
measuring window: frames classified per second, median milliseconds of each step of a frame (crop and
resize, read pixels, to tensor, network, top 3), camera frames skipped. Over the same window: the app
server's CPU (what one on-device student costs the laptop once the file is downloaded) and the browser's.
The bytes a student downloads are counted from the browser's network events (on the wire, after gzip).

Beside it, in the same run and with the same camera, Lite0 in the server mode (live WebRTC video
classified on the laptop), measured as ``webcam_fps.py`` does.

Targets: the faster of Lite0 float and int8 on-device >= 10 FPS, mobilenet_v3_small >= 20 FPS, server
CPU per on-device student <= 0.02 cores after the download.

    python benchmarks/ondevice_fps.py [--seconds 20] [--warmup 5] [--resolution 224] [--no-server-mode]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import skimage.data

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the browser tests' server and Chromium setup, reused as is
sys.path.insert(0, str(ROOT / "benchmarks"))  # the server mode, measured as webcam_fps.py does

from webcam_fps import Case, descendants_cpu, process_cpu, run_case  # noqa: E402 (after the path is set)

from lwviz.presets import get_preset  # noqa: E402 (after the path is set)
from lwviz.realtime import cover, write_y4m  # noqa: E402 (after the path is set)
from lwviz.ui.ondevice import STATIC, build_info  # noqa: E402 (after the path is set)
from tests.browser.conftest import CHROMIUM_FLAGS, chromium_executable, serve_app  # noqa: E402 (after the path is set)

CAMERA = (640, 480, 30)  # width, height, FPS
COMPONENT = 'iframe[title*="ondevice"]'
STEPS = ("resize", "pixels", "tensor", "model", "draw")
STATS = """() => { const s = window.lwvizOndevice.stats, m = window.lwvizOndevice.state.model;
    return {frames: s.frames, skipped: s.skipped, ...s.medians(),
            backend: m && m.backend, threads: m && m.threads}; }"""


@dataclass(frozen=True)
class DeviceCase:
    name: str
    spec: str  # the design in the URL
    network: str | None  # the design's option in the Network box (None: the default, Lite0)
    int8: bool = False


MODEL_ID = "() => window.lwvizOndevice.state.model && window.lwvizOndevice.state.model.id"
LOADED = """() => { const f = document.querySelector('iframe[title*="ondevice"]'), w = f && f.contentWindow;
    const s = w && w.lwvizOndevice && w.lwvizOndevice.state;
    return s && s.model && s.model.id === s.args.model_id && w.lwvizOndevice.stats.frames > 0; }"""


def settle(page) -> None:
    """Wait until the page's run is over and the component runs the network that run asked for."""
    page.wait_for_timeout(500)  # the rerun a control starts
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')""", polling=200, timeout=300_000
    )
    page.wait_for_function(LOADED, polling=100, timeout=300_000)


def cases() -> list[DeviceCase]:
    design = f"Your design ({get_preset('mobilenet_v3_small').name}): untrained, random weights"
    return [
        DeviceCase("mobilenet_v3_small (random weights)", "mobilenet_v3_small", design),
        DeviceCase("efficientnet_lite0 float32", "mobilenet_v2", None),
        DeviceCase("efficientnet_lite0 int8", "mobilenet_v2", None, int8=True),
    ]


def run_device_case(
    browser, url: str, server_pid: int, case: DeviceCase, resolution: int, warmup: float, seconds: float
):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    downloads: dict[str, int] = {}  # bytes on the wire per URL path

    def count(request) -> None:
        try:
            downloads[urlsplit(request.url).path] = request.sizes()["responseBodySize"]
        except Exception:  # a request the browser cancelled has no sizes
            pass

    context.on("requestfinished", count)
    page = context.new_page()
    page.set_default_timeout(300_000)
    try:
        started = time.monotonic()
        page.goto(f"{url}/webcam?mode=device&spec={case.spec}")
        component = page.frame_locator(COMPONENT)
        settle(page)  # one control at a time, each once the page runs what the last one chose
        if case.network:
            page.locator('[data-testid="stSelectbox"]', has_text="Network").click()
            page.get_by_role("option", name=case.network).click()
            settle(page)
        if resolution != 224:
            slider = page.get_by_role("slider")
            slider.focus()
            for _ in range(RESOLUTION_STEPS[resolution]):
                slider.press("ArrowLeft")
            settle(page)
        if case.int8:
            page.locator('[data-testid="stCheckbox"]', has_text="int8").click()
            settle(page)
        page.get_by_text(f"at {resolution}×{resolution} pixels, {'int8' if case.int8 else 'float32'}").wait_for()
        settle(page)
        first_labels = time.monotonic() - started
        time.sleep(warmup)
        first, t0 = component.locator("body").evaluate(STATS), time.monotonic()
        model_id = component.locator("body").evaluate(MODEL_ID)
        server0, browser0 = process_cpu(server_pid), descendants_cpu(os.getpid(), server_pid)
        time.sleep(seconds)
        last, t1 = component.locator("body").evaluate(STATS), time.monotonic()
        server1, browser1 = process_cpu(server_pid), descendants_cpu(os.getpid(), server_pid)
        top = component.locator(".labels h2").inner_text()
        if component.locator("body").evaluate(MODEL_ID) != model_id:
            raise RuntimeError(f"{case.name}: the network changed during the measuring window")
        model_path = urlsplit(
            component.locator("body").evaluate("() => window.lwvizOndevice.state.args.model_url")
        ).path
    finally:
        context.close()
    elapsed = t1 - t0
    frames = last["frames"] - first["frames"]
    return {
        "case": case.name,
        "fps": frames / elapsed,
        "skipped": (last["skipped"] - first["skipped"]) / elapsed,
        "steps": {s: last[s] for s in STEPS},
        "backend": f"{last['backend']}, {last['threads']} thread" + ("s" if last["threads"] != 1 else ""),
        "server": (server1 - server0) / elapsed,
        "browser": (browser1 - browser0) / elapsed,
        "model_bytes": downloads.get(model_path, 0),  # this network's file, not one shown before it
        "runtime_bytes": sum(n for path, n in downloads.items() if "/component/" in path),
        "first_labels": first_labels,
        "top": top,
    }


RESOLUTION_STEPS = {224: 0, 192: 1, 160: 2, 128: 3, 96: 4}  # ArrowLeft presses on the page's resolution slider

# Threads: WebAssembly threads need SharedArrayBuffer, which browsers give only to a cross-origin-isolated
# page (COOP and COEP headers); Streamlit sends neither. This serves the component's onnxruntime-web and
# one model file with those headers, and times the network alone with 1 and 2 threads.
THREADS_PAGE = """<!doctype html><script type="module">
const ort = await import("./ort.wasm.bundle.min.mjs");
ort.env.wasm.wasmPaths = {wasm: new URL("ort-wasm-simd-threaded.wasm", location.href).href};
const bytes = await (await fetch("model.onnx")).arrayBuffer(), out = {isolated: self.crossOriginIsolated};
for (const threads of [1, 2]) {
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(bytes, {executionProviders: ["wasm"]});
  const r = Number(new URLSearchParams(location.search).get("r"));
  const feed = {image: new ort.Tensor("float32", new Float32Array(3 * r * r).fill(0.5), [1, 3, r, r])};
  for (let i = 0; i < 5; i++) await session.run(feed);
  const times = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await session.run(feed);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  out[threads] = times[15];
  await session.release();
}
window.result = out;
</script>"""


def threads_experiment(browser, model: bytes, resolution: int) -> dict:
    """Median ms of the network alone in onnxruntime-web with 1 and 2 threads, on a cross-origin-isolated page."""
    import http.server
    import threading

    files = {"index.html": THREADS_PAGE.encode(), "model.onnx": model}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            name = urlsplit(self.path).path.lstrip("/") or "index.html"
            if name not in files and not (STATIC / name).is_file():
                self.send_error(404)
                return
            body = files.get(name) or (STATIC / name).read_bytes()
            self.send_response(200)
            kind = {".html": "text/html", ".mjs": "text/javascript", ".wasm": "application/wasm"}
            self.send_header("Content-Type", kind.get(Path(name).suffix, "application/octet-stream"))
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html?r={resolution}")
        page.wait_for_function("() => window.result", timeout=300_000)
        return page.evaluate("() => window.result")
    finally:
        page.close()
        server.shutdown()


def lite0_file(resolution: int, int8: bool) -> bytes:
    from lwviz.export import device_onnx
    from lwviz.weights import LITE0, get_source

    source = get_source(LITE0.name)
    return device_onnx(
        source.load(), preprocess=source.preprocess, categories=source.categories, resolution=resolution, int8=int8
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring window per network (>= 20)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--resolution", type=int, default=224, choices=sorted(RESOLUTION_STEPS))
    parser.add_argument("--no-server-mode", dest="server_mode", action="store_false", help="skip the server row")
    parser.add_argument("--no-threads", dest="threads", action="store_false", help="skip the threads experiment")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    width, height, fps = CAMERA
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, serve_app() as server, sync_playwright() as p:
        clip = write_y4m(Path(tmp) / "coffee.y4m", [cover(skimage.data.coffee(), width, height)], fps)
        browser = p.chromium.launch(
            executable_path=chromium_executable(), args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={clip}"]
        )
        device = [
            run_device_case(browser, server.url, server.pid, case, args.resolution, args.warmup, args.seconds)
            for case in cases()
        ]
        on_server = (
            run_case(
                browser,
                server.url,
                server.pid,
                Case("efficientnet_lite0 float32, server mode", "mobilenet_v2", None),
                args.warmup,
                args.seconds,
            )
            if args.server_mode
            else None
        )
        threads = (
            {int8: threads_experiment(browser, lite0_file(args.resolution, int8), args.resolution) for int8 in (0, 1)}
            if args.threads
            else {}
        )
        browser.close()
        time.sleep(5)  # streams wind down
        idle0, t0 = process_cpu(server.pid), time.monotonic()
        time.sleep(5)
        idle = (process_cpu(server.pid) - idle0) / (time.monotonic() - t0)
    load_after = os.getloadavg()

    built = build_info()
    print(
        f"camera {width}x{height} at {fps} FPS (the coffee photo), input {args.resolution}x{args.resolution}, "
        f"{len(os.sched_getaffinity(0))} cores shared by browser and server, load average {load_before[0]:.2f} "
        f"before and {load_after[0]:.2f} after; onnxruntime-web {built['onnxruntime-web']}, not cross-origin "
        "isolated (so one WebAssembly thread)"
    )
    print(f"\n{'on this device':40} {'FPS':>6} {'model ms':>9} {'skipped/s':>10} {'backend':>16} {'top-1':>16}")
    for r in device:
        print(
            f"{r['case']:40} {r['fps']:6.1f} {r['steps']['model']:9.1f} {r['skipped']:10.1f} {r['backend']:>16} "
            f"{r['top']:>16}"
        )
    if on_server:
        print(
            f"{on_server['case']:40} {on_server['fps']:6.1f} {on_server['model']:9.1f}   (server: "
            f"{on_server['server']:.2f} cores, browser {on_server['browser']:.2f} cores)"
        )
    print("\nwhere a frame's time goes on the device (median ms):")
    for r in device:
        print(f"  {r['case']:40} " + ", ".join(f"{s} {r['steps'][s]:.1f}" for s in STEPS))
    print(f"\nCPU over the window, in cores (the server with no browser left, afterwards: {idle:.3f}):")
    for r in device:
        print(f"  {r['case']:40} server {r['server']:.3f}, browser {r['browser']:.2f}")
    print(
        "\nwhat a student downloads on a first visit (on the wire), and how long until the chosen network runs"
        "\n(the page opens with Lite0 float32; the controls are set one at a time; int8 includes quantizing it):"
    )
    shipped = sum(f["bytes"] for f in built["files"].values())
    for r in device:
        print(
            f"  {r['case']:40} model {r['model_bytes'] / 2**20:5.1f} MB, runtime {r['runtime_bytes'] / 2**20:5.1f} MB; "
            f"running after {r['first_labels']:.1f} s"
        )
    print(f"  (the component as shipped in the package: {shipped / 2**20:.1f} MB in {STATIC.name}/)")

    if threads:
        print("\nthe network alone, on a page served with cross-origin isolation headers (median ms of 30 runs):")
        for int8, r in threads.items():
            print(
                f"  efficientnet_lite0 {'int8   ' if int8 else 'float32'}  1 thread {r['1']:.1f}, "
                f"2 threads {r['2']:.1f} (isolated: {r['isolated']})"
            )

    lite0 = max((r for r in device if r["case"].startswith("efficientnet_lite0")), key=lambda r: r["fps"])
    small = next(r for r in device if r["case"].startswith("mobilenet_v3_small"))
    worst = max(r["server"] for r in device)
    print(
        f"\ntarget faster Lite0 on-device >= 10 FPS: {lite0['fps']:.1f} ({lite0['case']}) "
        + verdict(lite0["fps"] >= 10)
    )
    print(f"target mobilenet_v3_small on-device >= 20 FPS: {small['fps']:.1f} " + verdict(small["fps"] >= 20))
    print(f"target server CPU per on-device student <= 0.02 cores: {worst:.3f} " + verdict(worst <= 0.02))


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
