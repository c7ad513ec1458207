"""STUN/TURN servers for WebRTC, from one-server-per-line text a teacher can type.

On localhost (and usually within one classroom network) no server is needed: the browser and
the app find each other through their own addresses, so the default is an empty list, which
also keeps the app working with no internet. Across NATs a STUN server finds the public
address; behind strict firewalls a TURN server relays the video.
"""

from __future__ import annotations

import os

from lwviz.errors import Refusal
from lwviz.i18n import N_, Phrase

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
            raise Refusal(
                N_("ICE servers, line {number}: {url} is not a {schemes}: URL such as stun:stun.l.google.com:19302"),
                number=number,
                url=repr(url),
                schemes="/".join(SCHEMES),
            )
        relay = scheme.startswith("turn")
        if len(auth) != (2 if relay else 0):
            needs = N_("a username and a credential after the URL") if relay else N_("nothing after the URL")
            raise Refusal(
                N_("ICE servers, line {number}: a {scheme}: server takes {needs}"),
                number=number,
                scheme=scheme,
                needs=Phrase(needs),
            )
        servers.append({"urls": [url], **dict(zip(("username", "credential"), auth))})
    return servers


def default_ice_text() -> str:
    return os.environ.get(ENV_VAR, "")


def rtc_configuration(servers: list[dict]) -> dict:
    """What ``webrtc_streamer(rtc_configuration=...)`` takes; ``None`` there would mean Google's STUN."""
    return {"iceServers": servers}
