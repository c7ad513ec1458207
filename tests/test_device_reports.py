"""Device reports are untrusted input: what passes, what is dropped (and logged), and the table's bounds."""

import io
import logging
import threading
import time
from types import SimpleNamespace

import pytest
import torch

from lwviz.cost import analyze
from lwviz.device_reports import (
    MAX_NAME,
    BadReport,
    ClassTable,
    Device,
    parse_report,
    session_key,
)
from lwviz.export import DeviceModelInfo, ExportError, metadata, model_id
from lwviz.i18n import translator
from lwviz.presets import get_preset
from lwviz.weights import LITE0 as LITE0_SOURCE

LITE0 = DeviceModelInfo(
    "0123456789ab",
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
    "ba9876543210",
    "efficientnet_lite0",
    "efficientnet_lite0:pypi",
    "efficientnet_lite0",
    224,
    True,
    4_652_008,
    385_188_000,
    5_140_801,
)
KNOWN = {m.model_id: m for m in (LITE0, LITE0_INT8)}
SESSION = "6f1c2b9e-3d4a-4f6e-9a51-0c2d7e8f9a10"


def report(**changes) -> dict:
    """A report as the browser component sends it, with ``changes`` applied (``device_x`` for the device's x)."""
    raw = {
        "model_id": LITE0.model_id,
        "device": {"browser": "Chrome 131", "os": "Android", "cores": 8, "backend": "wasm"},
        "model_ms": 23.4,
        "fps": 28.5,
        "frames": 412,
    }
    for key, value in changes.items():
        target, key = (raw["device"], key[7:]) if key.startswith("device_") else (raw, key)
        if value is DELETE:
            del target[key]
        else:
            target[key] = value
    return raw


DELETE = object()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def table(clock):
    return ClassTable(KNOWN.get, clock=clock)


def test_a_good_report_becomes_a_row(table, clock):
    assert table.submit(SESSION, report())
    (row,) = table.rows()
    assert row.model is LITE0 and row.model_ms == 23.4 and row.fps == 28.5 and row.frames == 412
    assert row.device == Device("Chrome 131", "Android", 8, "wasm")
    assert row.device.label() == "Chrome 131 / Android / 8 cores / wasm"
    assert row.first_seen == row.last_seen == clock.now and row.reports == 1
    assert row.session == session_key(SESSION) and SESSION not in repr(row)  # only a hash of the session id


def test_the_device_label_is_translated():
    assert Device("Safari 18", "iOS", 6, "webgpu").label(translator("en")) == "Safari 18 / iOS / 6 cores / webgpu"


def test_a_newer_report_replaces_the_older_per_device_and_network(table, clock):
    assert table.submit(SESSION, report(model_ms=30.0))
    clock.now += 1.0
    assert table.submit(SESSION, report(model_ms=20.0, fps=31.0))
    clock.now += 1.0
    assert table.submit(SESSION, report(model_id=LITE0_INT8.model_id, model_ms=12.5))
    clock.now += 1.0
    assert table.submit("another-device", report(model_ms=80.0))
    rows = table.rows()  # the most recently seen first
    assert [(r.model.model_id, r.model_ms) for r in rows] == [
        (LITE0.model_id, 80.0),
        (LITE0_INT8.model_id, 12.5),
        (LITE0.model_id, 20.0),
    ]
    assert rows[2].reports == 2 and rows[2].first_seen == 1000.0 and rows[2].last_seen == 1001.0
    assert rows[2].fps == 31.0


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "changes, why",
    [
        (dict(model_ms=NAN), "model_ms: nan is not a finite number"),
        (dict(model_ms=INF), "model_ms: inf is not a finite number"),
        (dict(model_ms=-5.0), "model_ms: -5 is outside (0, 60000]"),
        (dict(model_ms=0), "model_ms: 0 is outside (0, 60000]"),
        (dict(model_ms=1e308), "model_ms: 1e+308 is outside (0, 60000]"),
        (dict(model_ms=10**400), "model_ms: "),  # a JSON integer of 400 digits
        (dict(model_ms="12"), "model_ms: expected a number, got str"),
        (dict(model_ms=True), "model_ms: expected a number, got bool"),
        (dict(model_ms=DELETE), "model_ms: expected a number, got NoneType"),
        (dict(fps=-1), "fps: -1 is outside [0, 240]"),
        (dict(fps=1000.0), "fps: 1000 is outside [0, 240]"),
        (dict(frames=-3), "frames: -3 is outside [0, 1e+09]"),
        (dict(frames=2.5), "frames: 2.5 is not a whole number"),
        (dict(device_cores=0), "device.cores: 0 is outside [1, 1024]"),
        (dict(device_cores=4096), "device.cores: 4096 is outside [1, 1024]"),
        (dict(device_cores=NAN), "device.cores: nan is not a finite number"),
        (dict(device_backend="webgl"), "device.backend: expected one of wasm, webgpu"),
        (dict(device_browser="x" * 10_000), f"device.browser: 10000 characters, more than {MAX_NAME}"),
        (dict(device_os="Linux\n<script>"), "device.os: contains control characters"),
        (dict(device_os=""), "device.os: empty"),
        (dict(device_browser=["Chrome"]), "device.browser: expected a string, got list"),
        (dict(device=DELETE), "device: expected an object, got NoneType"),
        (dict(device="Chrome"), "device: expected an object, got str"),
        (dict(model_id="feedfacecafe"), "model_id: 'feedfacecafe' is not a network this server exported"),
        (dict(model_id="a" * 5000), "model_id: 5000 characters, more than 32"),
        (dict(model_id=12), "model_id: expected a string, got int"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_bad_report_is_dropped_with_one_log_line(table, changes, why, caplog):
    with caplog.at_level(logging.WARNING, logger="lwviz.device_reports"):
        assert not table.submit(SESSION, report(**changes))
    assert not table.rows() and table.dropped == 1
    (line,) = caplog.records
    assert line.getMessage().startswith(f"device report dropped: {why}")
    with pytest.raises(BadReport):
        parse_report(report(**changes), KNOWN.get)


@pytest.mark.parametrize(
    "session, raw",
    [
        (None, report()),
        ("", report()),
        ("s" * 65, report()),
        (SESSION, None),
        (SESSION, "model_ms=3"),
        (SESSION, [report()]),
    ],
    ids=["no-session", "empty-session", "long-session", "none", "string", "list"],
)
def test_what_is_not_a_report_at_all_is_dropped_too(table, session, raw, caplog):
    with caplog.at_level(logging.WARNING, logger="lwviz.device_reports"):
        assert not table.submit(session, raw)
    assert not table.rows() and len(caplog.records) == 1


def test_extra_keys_are_ignored_and_integers_may_come_as_floats(table):
    assert table.submit(SESSION, report(device_cores=8.0, frames=12.0, extra={"nested": [1, 2]}))
    (row,) = table.rows()
    assert row.device.cores == 8 and isinstance(row.device.cores, int) and row.frames == 12


def test_a_lookup_that_raises_is_a_drop_not_a_crash(clock, caplog):
    def broken(model_id):
        raise RuntimeError("registry unavailable")

    table = ClassTable(broken, clock=clock)
    with caplog.at_level(logging.WARNING, logger="lwviz.device_reports"):
        assert not table.submit(SESSION, report())
    assert "RuntimeError: registry unavailable" in caplog.records[0].getMessage()


def test_a_flood_keeps_three_a_second_and_logs_once(table, clock, caplog):
    with caplog.at_level(logging.WARNING, logger="lwviz.device_reports"):
        taken = [table.submit(SESSION, report(frames=i)) for i in range(100)]  # 100 in the same second
    assert taken == [True] * 3 + [False] * 97
    assert table.dropped == 97 and len(caplog.records) == 1
    assert caplog.records[0].getMessage() == (
        "device report dropped: more than 3 reports in one second from one session"
    )
    (row,) = table.rows()
    assert row.frames == 2 and row.reports == 3
    assert table.submit("another-device", report())  # other sessions are not held back by one flooding
    clock.now += 1.0  # a second later the flooding session may report again
    assert table.submit(SESSION, report(frames=500))
    assert table.rows()[0].frames == 500


def test_bad_reports_count_against_the_rate_too(table):
    assert [table.submit(SESSION, report(model_ms=NAN)) for _ in range(3)] == [False] * 3
    assert not table.submit(SESSION, report())  # the fourth in one second, good or not
    assert table.dropped == 4


def test_the_table_keeps_at_most_max_rows_dropping_the_least_recently_seen(clock):
    table = ClassTable(KNOWN.get, max_rows=5, clock=clock)
    for i in range(8):
        clock.now += 0.1
        assert table.submit(f"device-{i}", report(frames=i))
    assert len(table) == 5 and [r.frames for r in table.rows()] == [7, 6, 5, 4, 3]
    clock.now += 0.1
    assert table.submit("device-3", report(frames=33))  # seen again: now the most recent
    clock.now += 0.1
    assert table.submit("device-9", report(frames=9))
    assert [r.frames for r in table.rows()] == [9, 33, 7, 6, 5]


def test_clear_empties_the_table(table):
    assert table.submit(SESSION, report())
    assert not table.submit(SESSION, report(fps=-1))
    table.clear()
    assert table.rows() == [] and len(table) == 0 and table.dropped == 0


def test_many_threads_at_once_lose_nothing(clock):
    table = ClassTable(KNOWN.get, max_rows=200, per_second=1000, clock=clock)

    def device(i: int) -> None:
        for frames in range(50):
            table.submit(f"device-{i}", report(frames=frames))

    threads = [threading.Thread(target=device, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = table.rows()
    assert len(rows) == 30 and all(r.reports == 50 and r.frames == 49 for r in rows)


# ----- the server-wide store of device files (lwviz.ui.device) ------------------------------------------------------


@pytest.fixture
def store(monkeypatch):
    """A fresh store of device files, and ``device_onnx`` counting its calls (a small fake file, unless real)."""
    import lwviz.ui.device as device

    files = device.DeviceFiles(max_files=3)
    monkeypatch.setattr(device, "device_files", lambda: files)
    calls = []
    real = device.device_onnx

    def counting(model, **kwargs):
        calls.append(kwargs)
        if kwargs.get("int8") and getattr(counting, "fail_int8", False):
            raise ExportError("int8 quantization failed: unsupported op")
        if getattr(counting, "real", False):
            return real(model, **kwargs)
        time.sleep(0.05)  # long enough for the other threads to arrive while it is made
        return f"file {len(calls)}".encode()

    monkeypatch.setattr(device, "device_onnx", counting)
    return SimpleNamespace(files=files, calls=calls, export=counting, device=device)


def lite0_network():
    from lwviz.networks import resolve

    return resolve(LITE0_SOURCE.name, get_preset("mobilenet_v2"))


def test_a_real_device_file_and_its_record(store):
    store.export.real = True
    net = lite0_network()
    info, data = store.device.device_model(net, 96, False)
    table = analyze(net.model.spec.with_(resolution=96))
    assert info.bytes == len(data) and info.resolution == 96 and not info.int8
    assert (info.params, info.macs) == (table.params, table.macs)
    assert (
        info.label == "efficientnet_lite0" and info.network == LITE0_SOURCE.name and info.name == "efficientnet_lite0"
    )
    assert info.model_id == model_id(LITE0_SOURCE.name, 96, False) and len(info.model_id) == 12
    assert metadata(data)["resolution"] == "96"
    assert store.device.model_info(info.model_id) == info and store.device.model_info("nope") is None


def test_thirty_students_cost_one_export(store):
    net = lite0_network()
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(store.device.device_model(net, 224, True))) for _ in range(30)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.calls) == 1 and len(results) == 30
    assert all(r[1] is results[0][1] and r[0] == results[0][0] for r in results)  # the same bytes: no copies
    store.device.device_model(net, 224, True)
    assert len(store.calls) == 1
    store.device.device_model(net, 160, True)  # another resolution, another file
    store.device.device_model(net, 224, False)  # float, another file
    assert [(c["resolution"], c["int8"]) for c in store.calls] == [(224, True), (160, True), (224, False)]


def test_the_key_tells_weights_apart(store):
    from lwviz.networks import DESIGN, OWN, resolve, untrained_model

    device = store.device
    v2, v3 = get_preset("mobilenet_v2"), get_preset("mobilenet_v3_small")
    design = resolve(DESIGN, v2, build_design=untrained_model)
    assert device.weights_key(design) == f"design:{v2.to_string()}"
    assert device.weights_key(resolve(DESIGN, v3, build_design=untrained_model)) == f"design:{v3.to_string()}"
    assert device.weights_key(lite0_network()) == LITE0_SOURCE.name
    buffer = io.BytesIO()
    torch.save(untrained_model(v3).state_dict(), buffer)
    mine = resolve(OWN, v3, checkpoint=buffer.getvalue())
    again = resolve(OWN, v3, checkpoint=buffer.getvalue())  # another upload of the same file: another object
    assert mine.model is not again.model and device.weights_key(mine) == device.weights_key(again)
    assert device.weights_key(mine).startswith(f"own:{v3.to_string()}:")
    other = resolve(OWN, v3, checkpoint=buffer.getvalue())
    with torch.no_grad():
        other.model.classifier.fc.bias.add_(1.0)  # weights that differ in one layer's bias
    assert device.weights_key(other) != device.weights_key(mine)


def test_when_int8_fails_devices_get_float(store, caplog):
    store.export.fail_int8 = True
    net = lite0_network()
    with caplog.at_level(logging.WARNING, logger="lwviz.ui.device"):
        info, data = store.device.device_model(net, 224, True)
    assert not info.int8 and data == b"file 2"
    assert "int8 file for efficientnet_lite0 failed, devices get float32" in caplog.text
    assert store.device.device_model(net, 224, False) == (info, data)  # the same float file
    assert store.device.device_model(net, 224, True) == (info, data) and len(store.calls) == 2  # not tried again


def test_files_are_bounded_but_their_reports_stay_welcome(store):
    net = lite0_network()
    infos = [store.device.device_model(net, r, False)[0] for r in (96, 128, 160, 192)]
    assert store.files.get((LITE0_SOURCE.name, 96, False)) is None  # the oldest of four dropped (max_files=3)
    assert store.device.model_info(infos[0].model_id) == infos[0]  # a device still running it may report
    table = ClassTable(store.device.model_info)
    assert table.submit(SESSION, report(model_id=infos[0].model_id))
    assert not table.submit("other", report(model_id="0" * 12))
