"""Class: students join the on-device mode with one scan; every device's measured speed, live, for the teacher."""

import html

import segno
import streamlit as st

from lwviz.device_reports import Row
from lwviz.export import DeviceModelInfo
from lwviz.networks import DESIGN, UNTRAINED
from lwviz.ui.device import class_table, join_url
from lwviz.ui.language import _, plain
from lwviz.ui.presenter import chart
from lwviz.ui.state import current_spec
from lwviz.viz.class_charts import macs_ms_figure, network_words

REFRESH_SECONDS = 2
QR_HEIGHT = "min(56vh, 88vw)"  # most of a 1280x720 projector's page height; a phone's width at most
HTTPS_COMMANDS = """openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=lwviz" -keyout key.pem -out cert.pem
streamlit run app.py --server.sslCertFile cert.pem --server.sslKeyFile key.pem"""


def network_label(model: DeviceModelInfo) -> str:
    """A device file's network in the page's language (a design's "untrained"; names stay as they are)."""
    return _(UNTRAINED, name=model.name) if model.network == DESIGN else model.label


def qr_image(url: str) -> str:
    """``url`` as a QR code: an SVG (it scales to any size without blur) as a data URI, dark on white with the
    quiet zone scanners need. (An inline ``<svg>`` would be removed by ``st.html``'s sanitizer.)"""
    return segno.make(url, error="m").svg_data_uri(scale=1, border=4, dark="#000", light="#fff", omitsize=True)


def seen(row: Row, now: float) -> str:
    return _("{seconds} s ago", seconds=max(0, round(now - row.last_seen)))


def live_table() -> None:
    """Every device that has run a network, refreshed every few seconds; the chart; the clear button."""
    table = class_table()
    rows, now = table.rows(), table.clock()
    if st.button(_("Clear the table"), icon=":material/delete_sweep:", key="classroom_clear", disabled=not rows):
        table.clear()
        rows = []
    if not rows:
        st.info(
            _(
                "No device has reported yet. When a student's device runs a network in the Webcam page's "
                "on-device mode, it appears here within a few seconds."
            ),
            icon=":material/devices:",
        )
        return
    devices = len({row.session for row in rows})
    st.caption(_("{devices} devices, {rows} device and network pairs.", devices=devices, rows=len(rows)))
    st.dataframe(
        [
            {
                _("Device"): row.device.label(_),
                _("Network"): network_words(row.model, _, network_label),
                _("MACs"): f"{row.model.macs / 1e6:.0f}M",
                _("Model ms (median)"): round(row.model_ms, 1),
                _("FPS"): round(row.fps, 1),
                _("Last seen"): seen(row, now),
            }
            for row in rows
        ],
        hide_index=True,
        width="stretch",
    )
    chart(macs_ms_figure(rows, _, network_label), width="stretch")
    st.caption(
        _(
            "Each point is one device running one network: its MACs (counted from the design) against the "
            "milliseconds the device measured. Equal MACs, different times: speed depends on the device, the "
            "runtime and the kind of layers, not on MACs alone."
        )
    )


current_spec()  # inside app.py's frame (language, presenter mode), and the design stays in the URL
url = join_url(st.session_state.lang)
st.title(_("Class"))
code_col, how_col = st.columns([3, 2], vertical_alignment="center")
with code_col:
    alt = html.escape(_("QR code of the link"))
    st.html(
        f'<div style="display:flex;justify-content:center"><img src="{qr_image(url)}" alt="{alt}" '
        f'style="height:{QR_HEIGHT};width:{QR_HEIGHT};image-rendering:pixelated"></div>'
    )
    st.markdown(f"### {plain(url)}")
with how_col:
    st.markdown(
        _(
            "Students scan the code with their phone or open the link on their laptop: the Webcam page opens in "
            "on-device mode, and their own device runs the network on its own camera. No video leaves a device; "
            "this laptop hands out the model file once and collects each device's speed."
        )
    )
    if url.startswith("https://"):
        st.info(
            _(
                "This app is served over HTTPS, so phones may use their camera. With a self-signed certificate "
                "each browser asks once whether to trust it: accept, and the page opens."
            ),
            icon=":material/lock:",
        )
    else:
        st.warning(
            _(
                "Phones and other computers give a page the camera only over HTTPS (this laptop's own browser "
                "also on localhost). Start the app with a certificate, for example a self-signed one (each "
                "browser asks once to accept it):"
            ),
            icon=":material/lock_open:",
        )
        st.code(HTTPS_COMMANDS, language="bash")
    st.caption(
        _(
            "The link uses this laptop's address on the network; devices must be on the same network. A device "
            "that cannot run the network itself offers the laptop's camera modes instead."
        )
    )

st.subheader(_("The class's devices, live"))
st.fragment(live_table, run_every=REFRESH_SECONDS)()
