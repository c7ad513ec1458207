"""Does the Webcam page keep up with a 640x480, 30 FPS camera? Measured through a real browser.

The same setup as the browser tests (the real app server, Debian's Chromium through Playwright),
with the camera playing a clip of the coffee photo panning slowly (so the video codecs work as
hard as with a hand-held camera). For each network it presses Start, lets the stream warm up,
then reads the page's own counters for at least 20 s: processed FPS, the share of camera frames
classified, median model and callback milliseconds, and the median of each step of the frame
path. CPU seconds of the app server's threads and of the browser over the same window show
where the time goes outside the frame callback (WebRTC's VP8 decoding and encoding, the browser).

Targets on a 2-core machine that also runs the browser: mobilenet_v3_small (random weights,
the "your design" path) classifies >= 90% of camera frames; Lite0 >= 15 FPS, and >= 10 FPS with
the Grad-CAM overlay on.

    python benchmarks/webcam_fps.py [--seconds 20] [--warmup 5] [--no-int8]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import skimage.data

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the browser tests' server and Chromium setup, reused as is

from lwviz.presets import get_preset  # noqa: E402 (after the path is set)
from lwviz.realtime import STAGES, panning_clip, write_y4m  # noqa: E402 (after the path is set)
from tests.browser.conftest import CHROMIUM_FLAGS, chromium_executable, serve_app  # noqa: E402 (after the path is set)

CAMERA = (640, 480, 30)  # width, height, FPS
STREAMER = 'iframe[src*="streamlit_webrtc"]'
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Case:
    name: str
    spec: str  # the design in the URL
    network: str | None  # the design's option in the Network box (None: the default, Lite0)
    int8: bool = False
    grad_cam: bool = False  # the Grad-CAM overlay at the page's default refresh (every 5 frames)


def cases(int8: bool) -> list[Case]:
    design = f"Your design ({get_preset('mobilenet_v3_small').name}): untrained, random weights"
    found = [
        Case("mobilenet_v3_small (random weights)", "mobilenet_v3_small", design),
        Case("efficientnet_lite0 (ImageNet weights)", "mobilenet_v2", None),
        Case("efficientnet_lite0 + Grad-CAM overlay", "mobilenet_v2", None, grad_cam=True),
    ]
    if int8:
        found.append(Case("efficientnet_lite0 int8", "mobilenet_v2", None, int8=True))
    return found


def counters(page) -> dict[str, float]:
    text = page.locator(".st-key-webcam_live").inner_text()
    frames = re.search(r"Frames: (\d+) classified of (\d+) received", text)
    callback = re.search(r"Whole callback: ([\d.]+) ms", text)
    stages = dict(re.findall(r"(\w+) ([\d.]+)", text.split("Where the time goes, median ms per frame:")[-1]))
    return {
        "classified": int(frames[1]),
        "received": int(frames[2]),
        "callback": float(callback[1]) if callback else float("nan"),
        **{s: float(stages[s]) for s in STAGES if s in stages},
    }


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def descendants_cpu(root: int, exclude: int) -> float:
    """CPU seconds of every live process below ``root`` except ``exclude`` (the browser's processes)."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(proc.name))
        cpu[int(proc.name)] = (int(fields[11]) + int(fields[12])) / TICK
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid != exclude:
            total += cpu.get(pid, 0.0)
            todo += children.get(pid, [])
    return total


def choose_design(page, label: str) -> None:
    page.locator('[data-testid="stSelectbox"]', has_text="Network").click()
    page.get_by_role("option", name=label).click()
    page.get_by_text("Your design has random weights").wait_for()


def run_case(browser, url: str, server_pid: int, case: Case, warmup: float, seconds: float) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{url}/webcam?spec={case.spec}")
        page.wait_for_selector(".st-key-webcam_live")
        if case.network:
            choose_design(page, case.network)
        if case.int8:
            page.locator('[data-testid="stCheckbox"]', has_text="int8").click()
            page.wait_for_function("() => !document.body.innerText.includes('Calibrating int8')")
            page.wait_for_timeout(1000)
        if case.grad_cam:
            page.locator('[data-testid="stCheckbox"]', has_text="Grad-CAM").click()
            page.get_by_text("Grad-CAM every").wait_for()
        frame = page.frame_locator(STREAMER)
        frame.get_by_role("button", name="Start").click()
        page.wait_for_function("""() => /Frames: [1-9]/.test(
            document.querySelector('.st-key-webcam_live')?.innerText || '')""")
        time.sleep(warmup)
        first, t0 = counters(page), time.monotonic()
        server0, browser0 = process_cpu(server_pid), descendants_cpu(os.getpid(), server_pid)
        time.sleep(seconds)
        last, t1 = counters(page), time.monotonic()
        server1, browser1 = process_cpu(server_pid), descendants_cpu(os.getpid(), server_pid)
        frame.get_by_role("button", name="Stop").click()
    finally:
        context.close()
    elapsed = t1 - t0
    classified, received = last["classified"] - first["classified"], last["received"] - first["received"]
    return {
        "case": case.name,
        "seconds": elapsed,
        "fps": classified / elapsed,
        "camera_fps": received / elapsed,
        "share": classified / received if received else float("nan"),
        "model": last.get("model", float("nan")),
        "callback": last["callback"],
        "stages": {s: last[s] for s in STAGES if s in last},
        "server": (server1 - server0) / elapsed,
        "browser": (browser1 - browser0) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring window per network (>= 20)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--no-int8", dest="int8", action="store_false", help="skip the int8 Lite0 row")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    width, height, fps = CAMERA
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, serve_app() as server, sync_playwright() as p:
        clip = write_y4m(Path(tmp) / "camera.y4m", panning_clip(skimage.data.coffee(), width, height, 2 * fps), fps)
        browser = p.chromium.launch(
            executable_path=chromium_executable(), args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={clip}"]
        )
        results = [
            run_case(browser, server.url, server.pid, case, args.warmup, args.seconds) for case in cases(args.int8)
        ]
        browser.close()
    load_after = os.getloadavg()

    print(
        f"camera {width}x{height} at {fps} FPS (a panning photo), {len(os.sched_getaffinity(0))} cores, "
        f"load average {load_before[0]:.2f} before and {load_after[0]:.2f} after; torch 1 thread in the frame path"
    )
    print(f"\n{'network':40} {'camera FPS':>10} {'processed':>10} {'share':>7} {'model ms':>9} {'callback ms':>12}")
    for r in results:
        print(
            f"{r['case']:40} {r['camera_fps']:10.1f} {r['fps']:10.1f} {r['share']:7.0%} {r['model']:9.1f} "
            f"{r['callback']:12.1f}"
        )
    print("\nwhere the time goes (median ms per classified frame, inside the frame callback):")
    for r in results:
        print(f"  {r['case']:40} " + ", ".join(f"{s} {ms:.1f}" for s, ms in r["stages"].items()))
    print(
        "\nCPU over the window, in cores (1.0 = one core busy): the frame callback (processed FPS x callback ms),"
        "\nthe rest of the app server (WebRTC's VP8 decoding and encoding, Streamlit), and the browser"
    )
    for r in results:
        callback = r["fps"] * r["callback"] / 1e3
        print(
            f"  {r['case']:40} callback {callback:.2f}, rest of server {r['server'] - callback:.2f}, "
            f"browser {r['browser']:.2f}; total {r['server'] + r['browser']:.2f} of {len(os.sched_getaffinity(0))}"
        )
    small = next(r for r in results if r["case"].startswith("mobilenet_v3_small"))
    lite0 = next(r for r in results if r["case"].startswith("efficientnet_lite0 ("))
    print(
        f"\ntarget mobilenet_v3_small >= 90% of camera frames: {small['share']:.0%} "
        f"{'met' if small['share'] >= 0.9 else 'MISSED'}"
    )
    print(f"target efficientnet_lite0 >= 15 FPS: {lite0['fps']:.1f} {'met' if lite0['fps'] >= 15 else 'MISSED'}")
    cam = next(r for r in results if "Grad-CAM" in r["case"])
    print(
        f"target efficientnet_lite0 with the Grad-CAM overlay >= 10 FPS: {cam['fps']:.1f} "
        f"{'met' if cam['fps'] >= 10 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
