"""How frames reach the network: live WebRTC video, camera snapshots, or uploaded files.

Live video is best but needs WebRTC on the server and a camera in the browser; browsers give a
page the camera only in a *secure context* (https, or http on localhost). The first mode whose
needs are met is the default, and the reasons the better ones were skipped are shown.

Some failures show only once Start is pressed: the browser and the server never connect (no
route between them without a STUN/TURN server, a firewall, a browser without WebRTC). The
widget then reports *signalling* and never *playing*; :func:`track_start` follows a start across
reruns and :func:`start_problem` says what to do once it has waited too long.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from lwviz.errors import Refusal
from lwviz.i18n import N_, Phrase

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Mode:
    key: str
    label: str  # a catalog message, as is ``how``
    icon: str
    needs_camera: bool  # a secure context
    needs_webrtc: bool  # streamlit-webrtc importable on the server
    how: str  # one line for the page, said when the mode is on


LIVE = Mode(
    "live",
    N_("Live video"),
    ":material/videocam:",
    True,
    True,
    N_("the camera streams to this server, every frame is classified and sent back annotated"),
)
SNAPSHOT = Mode(
    "snapshot",
    N_("Snapshot"),
    ":material/photo_camera:",
    True,
    False,
    N_("take a picture with the camera; it goes through the same frame processor"),
)
UPLOAD = Mode(
    "upload",
    N_("Upload"),
    ":material/upload_file:",
    False,
    False,
    N_("upload a photo or a video; its frames go through the same frame processor"),
)
MODES = (LIVE, SNAPSHOT, UPLOAD)


def camera_blocked(url: str | None) -> Refusal | None:
    """Why a browser at ``url`` will refuse the camera, or None if it allows it (or we cannot tell)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" or host in LOCAL_HOSTS or host.endswith(".localhost"):
        return None
    return Refusal(
        N_(
            "this page was opened over plain HTTP from another machine ({host}); browsers allow the camera only "
            "on localhost or over HTTPS (the README shows how to serve the app over HTTPS)"
        ),
        host=host,
    )


def blocked(mode: Mode, url: str | None, webrtc_error: Refusal | None) -> Refusal | None:
    """Why ``mode`` cannot work here, or None."""
    if mode.needs_webrtc and webrtc_error:
        return webrtc_error
    if mode.needs_camera:
        return camera_blocked(url)
    return None


def default_mode(url: str | None, webrtc_error: Refusal | None) -> tuple[Mode, tuple[Refusal, ...]]:
    """The best mode that works here, and why each better one does not."""
    skipped = []
    for mode in MODES:
        reason = blocked(mode, url, webrtc_error)
        if reason is None:
            return mode, tuple(skipped)
        skipped.append(Refusal(N_("{mode} is off: {reason}."), mode=Phrase(mode.label), reason=reason))
    raise AssertionError("uploads need nothing, so some mode always works")


CONNECT_LIMIT_S = 10.0  # on a LAN video plays within a second or two of Start; through STUN/TURN a few more


@dataclass(frozen=True)
class StartAttempt:
    """A press of Start that has not (yet) given video: when the widget began signalling, and when it stopped."""

    began: float  # seconds on a monotonic clock
    ended: float | None = None  # it stopped without ever playing: the user gave up, or the browser did

    def waited(self, now: float) -> float:
        return (now if self.ended is None else self.ended) - self.began


def track_start(start: StartAttempt | None, signalling: bool, playing: bool, now: float) -> StartAttempt | None:
    """The start after the widget reported ``signalling``/``playing`` at ``now``.

    None once video plays (or before any Start); a new one when signalling begins after the last
    one ended; the same one, ended, when signalling stops without video.
    """
    if playing:
        return None
    if signalling:
        return start if start is not None and start.ended is None else StartAttempt(now)
    if start is not None and start.ended is None:
        return replace(start, ended=now)
    return start


def start_problem(start: StartAttempt | None, now: float, limit_s: float = CONNECT_LIMIT_S) -> Refusal | None:
    """Why live video did not start, once a start has waited ``limit_s`` seconds without it; else None."""
    if start is None or (waited := start.waited(now)) < limit_s:
        return None
    what = (
        Refusal(N_("no video {seconds} s after Start"), seconds=f"{waited:.0f}")
        if start.ended is None
        else Refusal(N_("the last Start waited {seconds} s and stopped without video"), seconds=f"{waited:.0f}")
    )
    return Refusal(
        N_(
            "{live}: {what}. The browser and this server could not connect. From another machine or "
            "network, add a STUN or TURN server under the connection settings; if this browser or network "
            "blocks WebRTC, choose {snapshot} or {upload} above: they need no connection."
        ),
        live=Phrase(LIVE.label),
        what=what,
        snapshot=Phrase(SNAPSHOT.label),
        upload=Phrase(UPLOAD.label),
    )
