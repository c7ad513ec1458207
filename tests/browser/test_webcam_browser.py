"""The Webcam page in a real browser: Chromium's camera plays the coffee photo, the page names it live.

The video goes browser -> WebRTC -> the app's frame processor -> back to the browser, so these
tests check both ends: the picture that comes back carries the overlay, and the server-side
predictions shown beside it are the offline Lite0's for that photo.
"""

import itertools
import re
import statistics
import time
from pathlib import Path

import skimage.data
from playwright.sync_api import Error as PlaywrightError

from lwviz.realtime import cover
from lwviz.realtime.overlay import PANEL

from .conftest import CAMERA_SIZE, screenshot

STREAMER = 'iframe[src*="streamlit_webrtc"]'
PANEL_BOX = (0, 0, 325, 115)  # x, y, width, height of the label panel on a 640x480 frame
PLAYING = "v => !!v.srcObject && v.videoWidth > 0 && v.currentTime > 0"
PANEL_DRAWN = """(v, [x, y, w, h]) => {
    const canvas = Object.assign(document.createElement('canvas'), {width: v.videoWidth, height: v.videoHeight});
    const ctx = canvas.getContext('2d');
    ctx.drawImage(v, 0, 0);
    const px = ctx.getImageData(x, y, w, h).data;
    let dark = 0;
    for (let i = 0; i < px.length; i += 4) dark += Math.max(px[i], px[i + 1], px[i + 2]) < 60;
    return dark / (w * h) > 0.6 && [v.videoWidth, v.videoHeight, dark / (w * h)];
}"""


def open_webcam(page, url):
    page.goto(f"{url}/webcam")
    page.wait_for_selector(".st-key-webcam_live")
    start = page.frame_locator(STREAMER).get_by_role("button", name="Start")
    start.wait_for()
    return start


def wait_for_video(page, js: str, arg=None, timeout_s: float = 60):
    """Poll ``js(video, arg)`` on the streamer's returned video until it is truthy, and return it.

    A locator, not a frame handle: it finds the component's iframe again if Streamlit re-mounts it.
    """
    video = page.frame_locator(STREAMER).locator("video")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = video.evaluate(js, arg, timeout=2_000)
        except PlaywrightError:  # no video yet, or the iframe is being replaced
            result = None
        if result:
            return result
        assert time.monotonic() < deadline, f"the video never satisfied {js[:60]}..."
        page.wait_for_timeout(200)


def frame_counts(page, timeout_s: float = 10) -> tuple[int, int]:
    """(classified, received) as the text beside the video says (it is redrawn every second)."""
    deadline = time.monotonic() + timeout_s
    while not (
        match := re.search(
            r"Frames: (\d+) classified of (\d+) received", page.locator(".st-key-webcam_live").inner_text()
        )
    ):
        assert time.monotonic() < deadline, "the frame counts are not shown"
        page.wait_for_timeout(100)
    return int(match[1]), int(match[2])


def dark_share(rgb, box) -> float:
    x, y, w, h = box
    return float((rgb[y : y + h, x : x + w].max(-1) < 60).mean())


def test_live_video_comes_back_annotated_and_names_the_coffee(app_url, camera_page):
    page = camera_page
    open_webcam(page, app_url).click()
    wait_for_video(page, PLAYING)

    # The picture that comes back is the camera's, at its size, with the dark label panel drawn on it:
    # over 60% of the panel area turns dark, where the camera's (mirrored) photo has no dark pixels.
    # Until the first frame is classified, streamlit-webrtc sends the camera frames back as they are.
    camera = cover(skimage.data.coffee(), *CAMERA_SIZE)[:, ::-1]
    assert dark_share(camera, PANEL_BOX) < 0.05 and max(PANEL) < 60
    width, height, share = wait_for_video(page, PANEL_DRAWN, list(PANEL_BOX))
    assert (width, height) == CAMERA_SIZE and share > 0.6

    # The server's predictions, refreshed beside the video at least once a second.
    page.wait_for_function("""() => [...document.querySelectorAll('.st-key-webcam_live h2')]
                                     .some(h => h.innerText.startsWith('espresso: '))""")
    # The counters are zeroed at Start (the press, before any video). On a loaded machine the rerun that sees
    # the press can come after the first frames, so the counts may start over once: they must then count again.
    deadline = time.monotonic() + 10
    while (first := frame_counts(page))[0] == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert first[0] > 0, first
    page.wait_for_function(
        """first => {
        const m = document.querySelector('.st-key-webcam_live').innerText.match(/Frames: (\\d+) classified/);
        return m && Number(m[1]) > first; }""",
        arg=first[0],
        timeout=5_000,
    )  # refreshed about every second
    classified, received = frame_counts(page)
    assert classified > first[0] > 0 and received >= classified, (first, (classified, received))
    headings = page.locator(".st-key-webcam_live h2, .st-key-webcam_live h3").all_inner_texts()
    assert headings[0].startswith("espresso: ") and len(headings) == 3
    assert page.locator('[data-testid="stException"]').count() == 0
    print("screenshot:", screenshot(page, "webcam_live"))

    # Another session on the same server sees none of this stream.
    other = page.context.browser.new_context().new_page()
    try:
        open_webcam(other, app_url)
        assert frame_counts(other) == (0, 0)
        assert "Waiting for the first frame" in other.locator(".st-key-webcam_live").inner_text()
    finally:
        other.context.close()


def _proc_status(pid: int) -> dict[str, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {"threads": int(fields["Threads"]), "rss_mb": int(fields["VmRSS"].split()[0]) // 1024}


def test_ten_starts_and_stops_leave_no_threads_or_memory_behind(app_server, camera_page):
    page = camera_page
    start = open_webcam(page, app_server.url)
    stop = page.frame_locator(STREAMER).get_by_role("button", name="Stop")

    def start_and_stop() -> dict[str, int]:
        start.click()
        wait_for_video(page, PLAYING)
        stop.click()
        start.wait_for()
        return settled()

    def settled() -> dict[str, int]:
        """The server's numbers once its thread count has held still for 1.5 s (streams wind down)."""
        last, since, deadline = None, time.monotonic(), time.monotonic() + 20
        while time.monotonic() < deadline:
            now = _proc_status(app_server.pid)
            if last is None or now["threads"] != last["threads"]:
                since = time.monotonic()
            elif time.monotonic() - since >= 1.5:
                return now
            last = now
            time.sleep(0.25)
        return last

    # Resident memory wanders by ~30 MB from one stream to the next (freed memory is kept for
    # reuse), so the test fits a robust line through all ten (Theil-Sen: the median of the
    # pairwise slopes) instead of comparing two noisy points. Leaking one stream's model copy,
    # decoder, encoder and frames would add well over 10 MB per stream; before the frame path had
    # its own thread, glibc's per-thread arenas added about 19 MB per stream.
    status = [start_and_stop() for _ in range(10)]
    seen = f"server threads and resident MB after each stream: {[(s['threads'], s['rss_mb']) for s in status]}"
    print(seen)
    # A stream that kept a thread would leave one more after each of the ten; a pool that grows by a worker
    # the first time two of its tasks overlap leaves one, once: the count must not climb.
    steady = statistics.median(s["threads"] for s in status)
    deadline = time.monotonic() + 20  # a stopped stream's threads end within seconds, or never
    while _proc_status(app_server.pid)["threads"] > steady and time.monotonic() < deadline:
        time.sleep(0.25)
    assert _proc_status(app_server.pid)["threads"] <= steady, seen
    rss = [s["rss_mb"] for s in status]
    slope = statistics.median((rss[j] - rss[i]) / (j - i) for i, j in itertools.combinations(range(len(rss)), 2))
    assert slope < 8, f"resident memory grows {slope:.1f} MB per stream; {seen}"
