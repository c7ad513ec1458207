"""STUN/TURN servers for WebRTC, from one-server-per-line text a teacher can type.

On localhost (and usually within one classroom network) no server is needed: the browser and
the app find each other through their own addresses, so the default is an empty list, which
also keeps the app working with no internet. Across NATs a STUN server finds the public
address; behind strict firewalls a TURN server relays the video.
"""

from __future__ import annotations

import os

ENV_VAR = "LWVIZ_ICE_SERVERS"  # the app's default, e.g. set by the teacher before ``streamlit run``
SCHEMES = ("stun", "stuns", "turn", "turns")
EXAMPLE = "stun:stun.l.google.com:19302\nturn:turn.example.org:3478 USERNAME PASSWORD"


def parse_ice_servers(text: str) -> list[dict]:
    """``stun:host:port`` or ``turn:host:port username credential`` per line -> RTCIceServer dicts.

    Blank lines and ``#`` comments are skipped; ``ValueError`` names the bad line.
    """
    servers = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        url, *auth = line.split()
        scheme, _, rest = url.partition(":")
        if scheme not in SCHEMES or not rest:
            raise ValueError(
                f"ICE servers, line {number}: {url!r} is not a {'/'.join(SCHEMES)}: URL "
                f"such as stun:stun.l.google.com:19302"
            )
        relay = scheme.startswith("turn")
        if len(auth) != (2 if relay else 0):
            needs = "a username and a credential after the URL" if relay else "nothing after the URL"
            raise ValueError(f"ICE servers, line {number}: a {scheme}: server takes {needs}")
        servers.append({"urls": [url], **dict(zip(("username", "credential"), auth))})
    return servers


def default_ice_text() -> str:
    return os.environ.get(ENV_VAR, "")


def rtc_configuration(servers: list[dict]) -> dict:
    """What ``webrtc_streamer(rtc_configuration=...)`` takes; ``None`` there would mean Google's STUN."""
    return {"iceServers": servers}
