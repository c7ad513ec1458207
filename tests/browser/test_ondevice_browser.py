"""The Webcam page's on-device mode in a real browser: Chromium's camera plays the coffee photo, and
onnxruntime-web in the page names it, while the app server only handed out the model file.

Also checked here: the shipped component files are the ones its build recorded, the device's speed
reports reach the teacher's Class page, and a browser without WebAssembly SIMD or without a camera
gets a message and buttons to the modes where the laptop runs the network.
"""

from __future__ import annotations

import hashlib
import json
import re
import time

import psutil
import pytest

from lwviz.ui.ondevice import STATIC

from .conftest import screenshot

COMPONENT = 'iframe[title*="ondevice"]'
STATS = """() => { const s = window.lwvizOndevice.stats, now = performance.now();
    return {frames: s.frames, skipped: s.skipped, fps: s.fps(now), ...s.medians(),
            backend: window.lwvizOndevice.state.model && window.lwvizOndevice.state.model.backend,
            seq: window.lwvizOndevice.state.seq}; }"""


def test_the_shipped_files_are_the_ones_built():
    """What ``frontend/ondevice`` built, byte for byte (a damaged or half-committed .wasm fails here, not in class)."""
    build = json.loads((STATIC / "build.json").read_text())
    shipped = {p.name for p in STATIC.iterdir()} - {"build.json"}
    assert shipped == set(build["files"])
    for name, record in build["files"].items():
        data = (STATIC / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (record["bytes"], record["sha256"]), name
    assert {"index.html", "ondevice.js", "ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"} <= shipped


def open_device_mode(page, url: str, query: str = ""):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{url}/webcam?mode=device{query}")
    component = page.frame_locator(COMPONENT)
    component.locator("body").wait_for()
    return component


def top_labels(component, timeout_s: float = 180) -> list[str]:
    """The top-3 headings once the first frame is classified (the first visit exports the file and downloads it)."""
    component.locator(".labels h2").wait_for(timeout=timeout_s * 1000)
    return component.locator(".labels h2, .labels h3").all_inner_texts()


def server_cores(pid: int, seconds: float) -> float:
    """The app server's CPU use over ``seconds``, in cores (all its threads)."""
    process = psutil.Process(pid)
    before, t0 = process.cpu_times(), time.monotonic()
    time.sleep(seconds)
    after, t1 = process.cpu_times(), time.monotonic()
    return (after.user + after.system - before.user - before.system) / (t1 - t0)


def test_device_mode_names_the_coffee_on_device_while_the_server_idles(app_server, camera_page):
    page = camera_page
    component = open_device_mode(page, app_server.url)
    labels = top_labels(component)
    assert labels[0].startswith("espresso: ") and len(labels) == 3, labels
    assert "On-device mode is on" in page.locator('[data-testid="stAlert"]').first.inner_text()
    assert component.locator(".backend").inner_text() in ("CPU (WebAssembly)", "GPU (WebGPU)")

    # Frames keep coming, one at a time, on this browser's CPU.
    first = component.locator("body").evaluate(STATS)
    page.wait_for_timeout(3000)
    stats = component.locator("body").evaluate(STATS)
    assert stats["frames"] > first["frames"] + 5 and stats["fps"] > 2 and stats["model"] > 0, stats
    assert re.match(r"\d+ ms$", component.locator(".model-ms").inner_text())
    assert re.match(r"[\d.]+ FPS$", component.locator(".fps").inner_text())

    # The server hands out the file and takes a small report a second: it stays near idle meanwhile.
    cores = server_cores(app_server.pid, 10)
    print(f"server CPU while one device classifies: {cores:.3f} cores; device: {stats}")
    assert cores < 0.1, cores
    assert component.locator("body").evaluate(STATS)["seq"] >= 5  # reports went out about once a second
    assert page.locator('[data-testid="stException"]').count() == 0
    page.locator(COMPONENT).scroll_into_view_if_needed()  # the app scrolls inside its own container
    print("screenshot:", screenshot(page, "webcam_ondevice"))

    # The reports reached the teacher: the Class page counts this device (the table itself is a canvas).
    teacher = page.context.new_page()
    try:
        teacher.goto(f"{app_server.url}/classroom")
        teacher.get_by_text(re.compile(r"^[1-9]\d* devices, [1-9]\d* device and network pairs\.$")).wait_for()
        assert teacher.get_by_text("No device has reported yet").count() == 0
    finally:
        teacher.close()


NO_SIMD = "WebAssembly.validate = () => false;"
NO_CAMERA = """navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));"""


@pytest.mark.parametrize(
    "script, says, buttons, choose, lands_on",
    [
        (
            NO_SIMD,
            "lacks WebAssembly SIMD",
            ["Use live video on the laptop", "Use a snapshot", "Use an upload"],
            "Use live video on the laptop",
            "Live video is on",
        ),
        (NO_CAMERA, "No camera was found on this device", ["Use an upload"], "Use an upload", "Upload is on"),
    ],
    ids=["no-simd", "no-camera"],
)
def test_a_device_that_cannot_run_it_gets_a_message_and_a_way_out(
    app_url, browser, script, says, buttons, choose, lands_on
):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(script)  # runs in the component's iframe too
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        component = open_device_mode(page, app_url)
        component.locator(".problem").wait_for()
        assert says in component.locator(".problem .message").inner_text()
        assert component.locator(".problem button").all_inner_texts() == buttons
        page.locator(COMPONENT).scroll_into_view_if_needed()
        print("screenshot:", screenshot(page, f"webcam_ondevice_problem_{len(buttons)}"))
        component.get_by_role("button", name=choose).click()
        page.get_by_text(lands_on).wait_for()
        assert "mode=device" not in page.url
    finally:
        context.close()
