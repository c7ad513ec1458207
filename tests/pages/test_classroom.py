"""The Class page: the join link and its QR code, the live table and chart of device reports, clearing it, and
reports that must not get in (or break the page)."""

import json
import urllib.parse

import pytest
import segno

from lwviz.export import DeviceModelInfo
from lwviz.networks import DESIGN
from lwviz.ui.device import class_table, device_files, join_url, lan_address, submit_report

from .apptest import open_page

LITE0 = DeviceModelInfo(
    "c1a55c1a55aa",
    "efficientnet_lite0",
    "efficientnet_lite0:pypi",
    "efficientnet_lite0",
    224,
    False,
    4_652_008,
    385_188_000,
    19_532_012,
)
LITE0_INT8 = DeviceModelInfo(
    "c1a55c1a55bb",
    "efficientnet_lite0",
    "efficientnet_lite0:pypi",
    "efficientnet_lite0",
    224,
    True,
    4_652_008,
    385_188_000,
    5_140_801,
)
DESIGN_V2 = DeviceModelInfo(
    "c1a55c1a55cc", "mobilenet_v2, untrained", DESIGN, "mobilenet_v2", 160, False, 3_504_872, 153_880_000, 14_100_000
)


def report(
    model: DeviceModelInfo,
    ms: float,
    fps: float,
    browser: str = "Chrome 131",
    os: str = "Android",
    cores: int = 8,
    backend: str = "wasm",
) -> dict:
    """What the browser component sends."""
    device = {"browser": browser, "os": os, "cores": cores, "backend": backend}
    return {"model_id": model.model_id, "device": device, "model_ms": ms, "fps": fps, "frames": 120}


@pytest.fixture
def exported():
    """The server knows three device files (as ``device_model`` registers them), and the table starts empty."""
    files = device_files()
    for model in (LITE0, LITE0_INT8, DESIGN_V2):
        files.put(("test", model.model_id), model, b"")
    class_table().clear()
    yield
    class_table().clear()


def qr_matrix(svg_uri: str) -> str:
    return urllib.parse.unquote(svg_uri.split(",", 1)[1])


def test_the_join_link_and_its_qr_code_are_shown(exported):
    at = open_page("classroom", lang="zh")
    url = join_url("zh")
    assert url == f"http://{lan_address()}:8501/webcam?mode=device&lang=zh"
    assert any(m.value == f"### {url}" for m in at.markdown)  # the link as text under the code
    (code,) = at.get("html")
    page_html = code.proto.body
    src = page_html.split('src="', 1)[1].split('"', 1)[0]
    expected = segno.make(url, error="m").svg_data_uri(scale=1, border=4, dark="#000", light="#fff", omitsize=True)
    assert src == expected  # the QR code of exactly this link
    assert "viewBox" in qr_matrix(src) and "height:min(56vh, 88vw)" in page_html  # most of a 720-pixel screen
    assert at.code[0].value.startswith("openssl req -x509")  # plain HTTP: how to start with a certificate
    assert "--server.sslCertFile cert.pem" in at.code[0].value
    assert not at.exception


def test_with_a_certificate_the_link_is_https(exported, monkeypatch):
    import streamlit as st

    real = st.get_option
    monkeypatch.setattr(st, "get_option", lambda key: "cert.pem" if key == "server.sslCertFile" else real(key))
    assert join_url("en", host="192.168.1.20") == "https://192.168.1.20:8501/webcam?mode=device&lang=en"
    assert join_url("en", host="fe80::1").startswith("https://[fe80::1]:8501/")


def test_the_lan_address_is_not_the_loopback():
    address = lan_address()
    assert address and not address.startswith("127.")


def test_reports_appear_in_the_table_and_the_chart(exported):
    at = open_page("classroom")
    assert "No device has reported yet" in at.info[0].value
    assert submit_report("phone-1", report(LITE0, 41.5, 18.0))
    assert submit_report("phone-1", report(LITE0_INT8, 19.25, 30.0))
    assert submit_report("laptop-2", report(DESIGN_V2, 12.0, 55.5, "Firefox 133", "Windows", 16, "webgpu"))
    at.run()
    assert not at.exception and not at.info
    table = at.dataframe[0].value
    assert list(table.columns) == ["Device", "Network", "MACs", "Model ms (median)", "FPS", "Last seen"]
    assert table.to_dict("records")[0] == {
        "Device": "Firefox 133 / Windows / 16 cores / webgpu",
        "Network": "mobilenet_v2, untrained, 160 px, float32",
        "MACs": "154M",
        "Model ms (median)": 12.0,
        "FPS": 55.5,
        "Last seen": "0 s ago",
    }
    assert list(table["Network"][1:]) == [
        "efficientnet_lite0, 224 px, int8",
        "efficientnet_lite0, 224 px, float32",
    ]
    assert list(table["Model ms (median)"]) == [12.0, 19.2, 41.5]  # rounded to 0.1 ms (19.25 -> 19.2)
    assert any(c.value.startswith("2 devices, 3 device and network pairs.") for c in at.caption)
    (chart,) = at.get("plotly_chart")
    fig = json.loads(chart.proto.spec)
    points = {t["name"]: list(zip(t["x"], t["y"])) for t in fig["data"]}
    assert points == {
        "mobilenet_v2, untrained, 160 px, float32": [(153.88, 12.0)],
        "efficientnet_lite0, 224 px, int8": [(385.188, 19.25)],
        "efficientnet_lite0, 224 px, float32": [(385.188, 41.5)],
    }
    assert fig["layout"]["title"]["text"].startswith("FLOPs are not latency")
    assert [t["marker"]["symbol"] for t in fig["data"]] == ["circle", "diamond", "circle"]  # int8: diamonds


def test_clear_empties_the_table(exported):
    assert submit_report("phone-1", report(LITE0, 41.5, 18.0))
    at = open_page("classroom")
    assert len(at.dataframe[0].value) == 1
    at.button(key="classroom_clear").click().run()
    assert not at.exception and not at.dataframe and not at.get("plotly_chart")
    assert "No device has reported yet" in at.info[0].value
    assert class_table().rows() == []


BAD = [
    ("nan", report(LITE0, float("nan"), 20.0)),
    ("negative", report(LITE0, -3.0, 20.0)),
    ("huge", report(LITE0, 1e12, 20.0)),
    ("huge-int", report(LITE0, 10**400, 20.0)),
    ("fps", report(LITE0, 20.0, 1e9)),
    ("unknown", {**report(LITE0, 20.0, 20.0), "model_id": "not-exported"}),
    ("long-browser", report(LITE0, 20.0, 20.0, browser="A" * 100_000)),
    ("long-os", report(LITE0, 20.0, 20.0, os="<b>" * 1000)),
    ("cores", report(LITE0, 20.0, 20.0, cores=10**6)),
    ("backend", report(LITE0, 20.0, 20.0, backend="webgl")),
    ("not-a-dict", "model_ms=20"),
    ("none", None),
]


def test_bad_reports_are_dropped_and_the_page_still_renders(exported, caplog):
    good = report(LITE0, 41.5, 18.0)
    assert submit_report("phone-1", good)
    for i, (_name, raw) in enumerate(BAD):
        assert not submit_report(f"attacker-{i}", raw), _name
    assert not submit_report("x" * 100_000, good)  # an oversized session id
    flood = [submit_report("flooder", report(LITE0_INT8, 10.0 + i, 30.0)) for i in range(100)]
    assert flood == [True] * 3 + [False] * 97  # 100 in one second: three kept
    at = open_page("classroom")
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert len(table) == 2  # the good report and the flooder's latest
    assert set(table["Model ms (median)"]) == {41.5, 12.0}
    assert all(len(device) < 60 for device in table["Device"])
    dropped = [r for r in caplog.records if r.getMessage().startswith("device report dropped")]
    assert len(dropped) == len(BAD) + 1 + 1  # one line each, and one for the whole flood
