"""Server-wide state of the on-device mode: the device files made so far, and the class's table of device reports.

Thirty students opening the Webcam page's on-device mode with the same network must cost one export:
each file is made once per (network, weights, resolution, int8) and kept for every session (a few
files, the least recently asked for dropped first). Making one is heavy work, so it waits for its turn
in the app's job queue (:func:`lwviz.ui.jobs.turn`) like training or compressing; a session asking for
a file another is making waits for that one instead of making its own.

Reports from devices come in through :func:`submit_report` and land in the one :func:`class_table`,
which the Class page shows. A report naming a file this server never made is refused
(:func:`model_info`).
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import weakref
from collections import OrderedDict

import streamlit as st
from torch import nn

from lwviz.device_reports import ClassTable
from lwviz.export import DeviceModelInfo, ExportError, describe, device_onnx, model_id
from lwviz.i18n import N_
from lwviz.networks import DESIGN, Network
from lwviz.ui.jobs import turn
from lwviz.ui.language import _
from lwviz.weights import SOURCES

log = logging.getLogger(__name__)

MAX_FILES = 8  # device files kept in memory (Lite0 is 18.6 MB in float, 5.1 MB in int8)
MAX_KNOWN = 256  # files whose reports are still accepted after the file itself was dropped


class DeviceFiles:
    """Device files by key, bounded, with one lock per key so a file is made once however many ask at once."""

    def __init__(self, max_files: int = MAX_FILES, max_known: int = MAX_KNOWN):
        self.max_files, self.max_known = max_files, max_known
        self._lock = threading.Lock()
        self._files: OrderedDict[tuple, tuple[DeviceModelInfo, bytes]] = OrderedDict()  # least recently used first
        self._known: OrderedDict[str, DeviceModelInfo] = OrderedDict()
        self._making: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple) -> tuple[DeviceModelInfo, bytes] | None:
        with self._lock:
            found = self._files.get(key)
            if found is not None:
                self._files.move_to_end(key)
            return found

    def put(self, key: tuple, info: DeviceModelInfo, data: bytes) -> None:
        with self._lock:
            self._files[key] = info, data
            while len(self._files) > self.max_files:
                self._files.popitem(last=False)
            self._known[info.model_id] = info
            self._known.move_to_end(info.model_id)
            while len(self._known) > self.max_known:
                self._known.popitem(last=False)

    def info(self, model_id: str) -> DeviceModelInfo | None:
        with self._lock:
            return self._known.get(model_id)

    def making(self, key: tuple) -> threading.Lock:
        """The lock held while the file of ``key`` is made."""
        with self._lock:
            return self._making.setdefault(key, threading.Lock())

    def made(self, key: tuple) -> None:
        with self._lock:
            self._making.pop(key, None)


@st.cache_resource(show_spinner=False)
def device_files() -> DeviceFiles:
    return DeviceFiles()


_digests: weakref.WeakKeyDictionary[nn.Module, str] = weakref.WeakKeyDictionary()
_digests_lock = threading.Lock()


def weights_digest(model: nn.Module) -> str:
    """A hash of a model's weights, computed once per model object (models here are never trained further:
    ``lwviz.networks.Network``). Two sessions that uploaded the same checkpoint share one file."""
    with _digests_lock:
        if (known := _digests.get(model)) is not None:
            return known
    digest = hashlib.blake2b(digest_size=16)
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    with _digests_lock:
        _digests[model] = digest.hexdigest()
    return _digests[model]


def weights_key(net: Network) -> str:
    """What distinguishes ``net``'s weights: a weight source by its name, the design (random weights, seed 0)
    by its spec, a network loaded or trained here (own checkpoint, trained, digits) by a hash of its weights."""
    if net.key in SOURCES:
        return net.key
    spec = net.model.spec.to_string()
    if net.key == DESIGN:
        return f"{DESIGN}:{spec}"
    return f"{net.key}:{spec}:{weights_digest(net.model)}"


def device_model(network: Network, resolution: int, int8: bool) -> tuple[DeviceModelInfo, bytes]:
    """The file a device runs for ``network`` at ``resolution`` pixels (int8 or float), with its record.

    Made once per server; meanwhile the session waits for its turn in the job queue. When int8
    quantization fails, the float file is returned (``info.int8`` says so). Raises
    :class:`lwviz.export.ExportError` when the network cannot be exported at all.
    """
    files = device_files()
    key = (weights_key(network), int(resolution), bool(int8))
    if (found := files.get(key)) is not None:
        return found
    with turn(N_("making a network's file for devices")):  # others see it in their queue: a catalog message
        with files.making(key):
            if (found := files.get(key)) is None:  # another session may have made it while this one waited
                found = _make(files, network, key)
            files.made(key)
    return found


def _make(files: DeviceFiles, network: Network, key: tuple) -> tuple[DeviceModelInfo, bytes]:
    _weights, resolution, int8 = key
    precision = "int8" if int8 else "float32"
    text = _(
        "Making the file devices run: {network} at {resolution}×{resolution} pixels, {precision}…",
        network=network.label,
        resolution=resolution,
        precision=precision,
    )
    with st.spinner(text):
        try:
            data = device_onnx(
                network.model,
                preprocess=network.preprocess,
                categories=network.categories,
                resolution=resolution,
                int8=int8,
            )
        except ExportError as exc:
            if not int8:
                raise
            log.warning("int8 file for %s failed, devices get float32: %s", network.label, exc)
            fallback = (key[0], resolution, False)
            found = files.get(fallback) or _make(files, network, fallback)
            files.put(key, *found)
            return found
    info = describe(
        data,
        network.model,
        model_id=model_id(*key),
        label=network.label,
        network=network.key,
        resolution=resolution,
        int8=int8,
    )
    files.put(key, info, data)
    return info, data


def model_info(model_id: str) -> DeviceModelInfo | None:
    """The record of a file this server made, or None: a report naming anything else is refused."""
    return device_files().info(model_id)


@st.cache_resource(show_spinner=False)
def class_table() -> ClassTable:
    """The one table of the class's device reports, shared by every session."""
    return ClassTable(model_info)


def submit_report(session_id: str, raw: object) -> bool:
    """Check what a device sent and add it to the class's table; False (and a log line) when it was dropped."""
    return class_table().submit(session_id, raw)


# ----- the join link ------------------------------------------------------------------------------------------

# Private addresses a UDP socket is "connected" to, to learn which of the laptop's addresses faces the room.
# Connecting a UDP socket sends nothing: the system only picks the route, so this works with no internet.
PRIVATE_PROBES = ("10.255.255.255", "172.31.255.255", "192.168.255.255")
WILDCARDS = ("", "0.0.0.0", "::", "localhost", "127.0.0.1", "::1")


def lan_address() -> str:
    """The laptop's address on the classroom network: the one its route to a private network leaves from,
    else what its host name resolves to, else the host name itself."""
    for probe in PRIVATE_PROBES:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 9))
                address = udp.getsockname()[0]
        except OSError:
            continue
        if not address.startswith("127.") and address != "0.0.0.0":
            return address
    name = socket.gethostname()
    try:
        address = socket.gethostbyname(name)
    except OSError:
        return name
    return name if address.startswith("127.") else address


def join_url(lang: str, host: str | None = None) -> str:
    """The on-device Webcam page on this server, as a student's device opens it: scheme and port from the
    server's configuration (HTTPS when it has a certificate), the address it listens on when one was set,
    else the laptop's address on the network (:func:`lan_address`)."""
    scheme = "https" if st.get_option("server.sslCertFile") else "http"
    port = st.get_option("server.port")
    if host is None:
        configured = st.get_option("server.address")
        host = configured if configured and configured not in WILDCARDS else lan_address()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = f"/{base}/webcam" if base else "/webcam"
    return f"{scheme}://{host}:{port}{path}?mode=device&lang={lang}"
