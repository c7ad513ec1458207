"""Per-op and per-layer latency: what is measured, and what the measurement leaves untouched.

No test asserts a speed: the machine decides those. The figures are checked on a report
with hand-set times, where every number shown follows exactly.
"""

import math
from unittest import mock

import pytest
import torch
from torch import nn

from lwviz.blocks.inverted_residual import InvertedResidual
from lwviz.builder import build
from lwviz.cost import analyze
from lwviz.cost.latency import Latency, LatencyReport, time_layers, time_modules
from lwviz.families import OP_KINDS
from lwviz.perf import num_threads
from lwviz.presets import get_preset
from lwviz.viz.cost_charts import KIND_COLORS, KIND_WORDS
from lwviz.viz.latency_charts import macs_vs_time_figure, ms_per_gmac_figure, time_share_figure

SMALL = 64  # pixels: every family still runs, and a measurement takes a fraction of a second

SPECS = {  # every block family and every op kind, including grouped convs, SE and pools
    "dws": get_preset("mobilenet_v1"),
    "ir": get_preset("mobilenet_v2"),
    "mbconv+se": get_preset("mobilenet_v3_small"),
    "shuffle": get_preset("shufflenet_v2_x0_5"),
    "fire": get_preset("squeezenet1_1"),
    "shufflev1": get_preset("mobilenet_v2").with_(block="shufflev1"),
}


def hooks(model: nn.Module) -> int:
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())


@pytest.mark.parametrize("family", SPECS)
def test_every_op_with_a_module_and_every_layer_measured_once(family):
    spec = SPECS[family].with_(resolution=SMALL)
    table = analyze(spec)
    report = time_layers(spec, runs=1, warmup=0, threads=1)

    # Only residual adds (no MACs) are not module calls of their own; they live in their layer's time.
    expected = [o for o in table.ops if not o.name.endswith(".skip_add")]
    assert [(o.name, o.kind, o.macs) for o in report.ops] == [(o.name, o.kind, o.macs) for o in expected]
    assert sum(o.macs for o in report.ops) == table.macs
    assert [(t.name, t.kind, t.macs) for t in report.layers] == [
        (layer.name, layer.block, layer.macs) for layer in table.layers
    ]
    assert all(0 < t.ms < math.inf for t in report.ops + report.layers)
    assert report.spec == spec and report.runs == 1 and report.seconds > 0


def test_ops_are_timed_inside_their_layer_in_the_same_pass():
    """With one run every time is a single interval, and a layer's interval contains its ops'."""
    report = time_layers(SPECS["mbconv+se"].with_(resolution=SMALL), runs=1, warmup=0, threads=1)
    for layer in report.layers:
        ops = [o.ms for o in report.ops if o.name.startswith(layer.name + ".")]
        assert ops and layer.ms >= sum(ops), layer.name


def test_progress_counts_every_forward_pass_and_ends_at_total():
    calls = []
    time_layers(
        SPECS["ir"].with_(resolution=SMALL),
        runs=3,
        warmup=2,
        threads=1,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_threads_are_set_for_the_measurement_and_restored():
    spec = SPECS["ir"].with_(resolution=SMALL)
    seen = []
    record = lambda *_: seen.append(torch.get_num_threads())  # noqa: E731
    with num_threads(2):
        report = time_layers(spec, runs=1, warmup=0, threads=1, progress=record)
        assert set(seen) == {1} and report.threads == 1
        assert torch.get_num_threads() == 2
    with num_threads(1):  # None keeps what is set (one thread: two would be slow on a busy machine)
        seen.clear()
        assert time_layers(spec, runs=1, warmup=0, progress=record).threads == 1 and set(seen) == {1}


def test_model_is_left_as_it_was():
    model = build(SPECS["mbconv+se"].with_(resolution=SMALL))  # train mode: BN would update its statistics
    before = {k: v.clone() for k, v in model.state_dict().items()}
    time_layers(model, runs=2, threads=1)
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert all(m.training for m in model.modules())
    assert hooks(model) == 0


def test_hooks_threads_and_mode_restored_when_the_model_raises():
    model = build(SPECS["ir"].with_(resolution=SMALL))
    with num_threads(2), mock.patch.object(InvertedResidual, "forward", side_effect=RuntimeError("boom")):
        with pytest.raises(RuntimeError, match="boom"):
            time_layers(model, threads=1)
        assert torch.get_num_threads() == 2
    assert hooks(model) == 0 and all(m.training for m in model.modules())


def test_hooks_threads_and_mode_restored_when_progress_raises():
    model = build(SPECS["ir"].with_(resolution=SMALL))

    def stop(done, total):
        raise KeyboardInterrupt  # the page's stop button

    with num_threads(2):
        with pytest.raises(KeyboardInterrupt):
            time_layers(model, threads=1, progress=stop)
        assert torch.get_num_threads() == 2
    assert hooks(model) == 0 and all(m.training for m in model.modules())


def test_time_modules_leaves_out_modules_that_did_not_run():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.used(x)

    ms = time_modules(Net(), (torch.randn(1, 3, 8, 8),), ["used", "unused", "used"], runs=3)
    assert list(ms) == ["used"] and ms["used"] > 0
    with pytest.raises(AttributeError):
        time_modules(Net(), (torch.randn(1, 3, 8, 8),), ["missing"])


@pytest.mark.parametrize(
    "kwargs, field", [(dict(runs=0), "runs"), (dict(warmup=-1), "warmup"), (dict(threads=0), "threads")]
)
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}: must be at least"):
        time_layers(SPECS["ir"].with_(resolution=SMALL), **kwargs)


# ----- a report with hand-set times: the arithmetic and the figures -----------------------

OPS = (
    Latency("stages.0.0.conv_dw", "depthwise", 1_000_000, 0.5),  # 500 ms per GMAC
    Latency("stages.0.0.conv_pw", "pointwise", 8_000_000, 0.75),  # 93.75
    Latency("stages.0.1.conv_pw", "pointwise", 1_000_000, 0.25),  # 250
    Latency("classifier.pool", "elementwise", 0, 0.5),
)
REPORT = LatencyReport(
    get_preset("mobilenet_v2"),
    OPS,
    (Latency("stages.0.0", "ir", 9_000_000, 1.5), Latency("stages.0.1", "ir", 1_000_000, 0.75)),
    threads=1,
    runs=5,
    seconds=0.1,
)


def test_report_sums_shares_and_rates():
    kinds = REPORT.by_kind()
    assert list(kinds) == ["depthwise", "pointwise", "elementwise"]  # OP_KINDS order, present kinds only
    assert (kinds["pointwise"].macs, kinds["pointwise"].ms) == (9_000_000, 1.0)
    assert REPORT.shares() == {
        "macs": {"depthwise": 0.1, "pointwise": 0.9, "elementwise": 0.0},
        "time": {"depthwise": 0.25, "pointwise": 0.5, "elementwise": 0.25},
    }
    assert REPORT.ms == 2.25
    assert REPORT.average().ms_per_gmac == pytest.approx(150.0)  # 1.5 ms over 10M MACs; the pool has no MACs
    assert [o.ms_per_gmac for o in OPS] == pytest.approx([500.0, 93.75, 250.0, None])
    frame = REPORT.to_frame()
    assert list(frame["op"]) == [o.name for o in OPS] and frame["ms per GMAC"].isna().tolist()[-1]


def test_time_share_figure_puts_mac_share_beside_time_share_in_the_cost_colors():
    fig = time_share_figure(REPORT)
    kinds = ["depthwise", "pointwise", "elementwise"]
    assert [t.name for t in fig.data] == [KIND_WORDS[k] for k in kinds]
    for kind, trace in zip(kinds, fig.data):
        assert [list(level) for level in trace.x] == [[trace.name] * 2, ["MACs", "time"]]
        assert list(trace.y) == [REPORT.shares()["macs"][kind], REPORT.shares()["time"][kind]]
        assert trace.marker.color == KIND_COLORS[kind]
    assert [list(t.text) for t in fig.data] == [["10%", "25%"], ["90%", "50%"], ["0%", "25%"]]
    assert "mobilenet_v2" in fig.layout.title.subtitle.text and "1 thread," in fig.layout.title.subtitle.text


def test_ms_per_gmac_figure_has_one_bar_per_kind_with_macs_and_the_average():
    fig = ms_per_gmac_figure(REPORT)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [(t.name, t.y[0]) for t in bars] == [
        ("depthwise conv", pytest.approx(500.0)),
        ("pointwise conv", pytest.approx(1.0 / 9e6 * 1e9)),
        ("network average", pytest.approx(150.0)),
    ]
    assert [t.marker.color for t in bars[:2]] == [KIND_COLORS["depthwise"], KIND_COLORS["pointwise"]]


def test_macs_vs_time_figure_plots_every_op_with_macs_and_the_proportional_line():
    fig = macs_vs_time_figure(REPORT)
    points = {t.name: list(zip(t.x, t.y)) for t in fig.data if t.mode == "markers"}
    assert points == {
        "depthwise conv": [(1_000_000, 0.5)],
        "pointwise conv": [(8_000_000, 0.75), (1_000_000, 0.25)],
    }
    (line,) = [t for t in fig.data if t.mode == "lines"]
    assert list(line.x) == [1_000_000, 8_000_000] and list(line.y) == pytest.approx([0.15, 1.2])
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "log"
    assert list(fig.layout.yaxis.ticktext) == ["0.1", "0.2", "0.5", "1"]  # 1-2-5 around 0.25..0.75 ms
    assert {KIND_WORDS[k] for k in OP_KINDS} >= set(points)


def test_timing_ends_when_its_time_is_up_and_says_how_many_passes_it_made():
    spec = get_preset("mobilenet_v3_small").with_(resolution=64)
    calls = []
    report = time_layers(spec, runs=50, max_seconds=0.0, progress=lambda done, total: calls.append((done, total)))
    assert (report.runs, report.asked) == (1, 50)
    assert calls == [(1, 51), (2, 51)]  # the warm-up pass and one timed pass
    assert time_layers(spec, runs=2).runs == 2
