import pytest
import torch
from torch import nn
from torchvision.models import get_model, get_model_weights

from lwviz.cost import analyze
from lwviz.cost.tracer import trace
from lwviz.presets import PRESETS
from lwviz.viz.zoo_charts import latency_figure, macs_figure, place_labels
from lwviz.zoo import (
    PUBLISHED_TOP1,
    REFERENCES,
    ZooEntry,
    forward_ms,
    latency_column,
    latency_lessons,
    mac_inversions,
    measure_zoo,
    pareto_front,
    zoo_entries,
    zoo_frame,
)


@pytest.fixture(scope="module")
def entries():
    return {e.name: e for e in zoo_entries()}


def test_every_preset_then_the_two_references(entries):
    presets = [n for name in PRESETS for n in (name, *(["mobileone_s0_reparam"] if name == "mobileone_s0" else []))]
    assert list(entries) == [*presets, "resnet18", "vgg16"]
    assert [e.name for e in entries.values() if e.reference] == list(REFERENCES)


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_rows_are_the_analytic_costs_and_the_matching_weights_top1(entries, name):
    entry, table, preset = entries[name], analyze(PRESETS[name].spec), PRESETS[name]
    assert (entry.params, entry.macs) == (table.params, table.macs)
    if name in PUBLISHED_TOP1:
        assert (entry.top1, entry.top1_source) == (PUBLISHED_TOP1[name].percent, PUBLISHED_TOP1[name].source)
    else:  # the accuracy of weights whose architecture is exactly this preset
        weights = get_model_weights(preset.torchvision).IMAGENET1K_V1
        assert weights.meta["num_params"] == entry.params
        assert entry.top1 == weights.meta["_metrics"]["ImageNet-1K"]["acc@1"]
        assert entry.top1_source == f"torchvision {type(weights).__name__}.IMAGENET1K_V1"


def test_published_figures_with_their_sources(entries):
    assert (entries["efficientnet_lite0"].top1, entries["mobilenet_v1"].top1) == (75.1, 70.6)
    assert "tensorflow/tpu" in entries["efficientnet_lite0"].top1_source
    assert "Howard et al. 2017" in entries["mobilenet_v1"].top1_source


def test_mobileone_is_two_points_with_one_top1(entries):
    """The training form and the folded one: the same weights' accuracy, their own parameters and MACs."""
    trained, folded = entries["mobileone_s0"], entries["mobileone_s0_reparam"]
    assert (
        (trained.top1, trained.top1_source)
        == (folded.top1, folded.top1_source)
        == (
            71.4,
            PUBLISHED_TOP1["mobileone_s0"].source,
        )
    )
    assert (trained.params, trained.macs) == (5_293_272, 1_051_935_232)
    assert (folded.params, folded.macs) == (2_078_504, 275_110_400)  # the paper's 2.1M and 275M
    assert trained.family == folded.family == "MobileOne"
    model = folded.build()
    assert sum(p.numel() for p in model.parameters()) == folded.params and model.spec.reparam
    # by MACs, the training form is dominated by its own inference form: the Pareto front keeps only the folded one
    front = pareto_front([(e.macs, e.top1) for e in (trained, folded)])
    assert front == [1]


def test_the_reparameterization_lesson():
    trained, folded = _entry("net", 1_000_000_000), _entry("net_reparam", 250_000_000)
    latency = {"net": {1: 20.0}, "net_reparam": {1: 8.0}}
    lessons = latency_lessons([trained, folded], latency, 1)
    assert (
        "**Count the network that runs.** net as trained has 1000M MACs and takes 20.0 ms; folded into one conv "
        "per layer (net_reparam) it computes the same outputs with 250M MACs in 8.0 ms. Ranked by its training "
        "form's MACs, it would look 4.0× heavier than it is."
    ) in lessons


def test_published_figures_of_the_families_after_2019(entries):
    assert [entries[n].top1 for n in ("mobilenetv4_conv_small", "mobilenetv4_conv_medium", "ghostnet_100")] == [
        73.8,
        79.9,
        73.9,
    ]
    assert entries["mobilenetv4_conv_medium"].resolution == 256  # timed at the input size of its top-1
    assert {entries[n].family for n in ("mobilenetv4_conv_small", "ghostnet_100")} == {"MobileNet", "GhostNet"}


def test_references_are_priced_by_the_tracer_and_match_torchvision(entries):
    resnet = entries["resnet18"]
    ops = trace(get_model("resnet18", weights=None))
    assert (resnet.params, resnet.macs) == (sum(o.params for o in ops), sum(o.macs for o in ops))
    for name in REFERENCES:
        meta = get_model_weights(name).IMAGENET1K_V1.meta
        assert entries[name].params == meta["num_params"]
        assert round(entries[name].macs / 1e9, 3) == meta["_ops"]  # torchvision rounds GMACs to 3 places
        assert entries[name].top1 == meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert (entries["resnet18"].top1, entries["vgg16"].top1) == (69.758, 71.592)


def test_builders_make_fresh_random_models_of_the_priced_size(entries):
    model = entries["mobilenet_v3_small"].build()
    assert model is not entries["mobilenet_v3_small"].build()
    assert sum(p.numel() for p in model.parameters()) == entries["mobilenet_v3_small"].params


def test_pareto_front_on_a_hand_example():
    # (cost, accuracy): 1 is beaten by 0 (cheaper, as accurate); 3 by 2 (same cost, less accurate);
    # 5 equals 4 (equal points do not dominate each other); 6 is the most accurate.
    points = [(1, 60), (2, 60), (3, 70), (3, 65), (4, 75), (4, 75), (9, 80), (10, 79)]
    assert pareto_front(points) == [0, 2, 4, 5, 6]
    assert pareto_front([]) == []
    assert pareto_front([(5, 50)]) == [0]


def test_latency_is_a_positive_median_and_threads_and_mode_are_restored():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    before = torch.get_num_threads()
    calls = []
    ms = forward_ms(model, threads=1, runs=3, progress=lambda done, total: calls.append((done, total)), resolution=32)
    assert ms > 0 and torch.get_num_threads() == before and model.training
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]  # one warm-up, three timed passes
    with pytest.raises(ValueError, match="runs"):
        forward_ms(model, runs=0, resolution=32)
    with pytest.raises(ValueError, match="threads"):
        forward_ms(model, threads=0, resolution=32)
    assert torch.get_num_threads() == before


def test_latency_accepts_a_builder():
    assert forward_ms(lambda: nn.Conv2d(3, 8, 1), runs=1, resolution=16) > 0


def _entry(name: str, macs: int, params: int = 1_000_000, top1: float = 70.0) -> ZooEntry:
    return ZooEntry(name, "MobileNet", "", params, macs, top1, "", reference=False, build=lambda: nn.Identity())


def test_measure_zoo_times_every_network_at_every_thread_count():
    tiny = [
        ZooEntry(f"net{i}", "MobileNet", "", 1, 1, 70.0, "", False, build=lambda: nn.Conv2d(3, 4, 3)) for i in range(3)
    ]
    seen = []
    timings = measure_zoo(tiny, runs=1, threads=(1, 2), progress=lambda fraction, name: seen.append((fraction, name)))
    assert sorted(timings) == ["net0", "net1", "net2"]
    assert all(sorted(t) == [1, 2] and min(t.values()) > 0 for t in timings.values())
    # before each network, then after each of its 2 passes (a warm-up and a timed one) at 1 and at 2 threads
    expected = [(i / 3 + step / 12, f"net{i}") for i in range(3) for step in (0, 1, 2, 3, 4)] + [(1.0, "")]
    assert [name for _, name in seen] == [name for _, name in expected]
    assert [f for f, _ in seen] == pytest.approx([f for f, _ in expected])


def test_lessons_come_from_the_numbers():
    light, heavy, dense = _entry("light", 100_000_000), _entry("heavy", 400_000_000), _entry("dense", 1_600_000_000)
    latency = {"light": {1: 30.0, 2: 28.0}, "heavy": {1: 20.0, 2: 12.0}, "dense": {1: 40.0, 2: 20.0}}
    assert mac_inversions([light, heavy, dense], {n: t[1] for n, t in latency.items()}) == [(light, heavy)]
    lessons = latency_lessons([light, heavy, dense], latency, 1)
    assert lessons[0].startswith("**MACs are not speed.** light needs 4.0× fewer MACs than heavy (100M vs 400M)")
    assert "30.0 ms against 20.0 ms; 1 pair in this zoo is ordered" in lessons[0]
    assert "dense computes 40.0 GMAC/s, light only 3.3 GMAC/s" in lessons[1]
    assert "speeds up dense 2.00× but light only 1.07×" in lessons[2]


def test_no_inversion_within_noise_and_a_busy_machine_is_named():
    a, b = _entry("a", 100), _entry("b", 200)
    latency = {"a": {1: 10.5, 2: 30.0}, "b": {1: 10.0, 2: 40.0}}  # 5% apart: noise, not a lesson
    lessons = latency_lessons([a, b], latency, 1)
    assert not any("MACs are not speed" in lesson for lesson in lessons)
    assert "More threads were slower for 2 of 2 networks" in lessons[-1]


def test_frame_has_one_row_per_network_and_latency_columns_once_measured(entries):
    frame = zoo_frame(list(entries.values()))
    assert list(frame["network"]) == list(entries) and list(frame["params"]) == [e.params for e in entries.values()]
    assert latency_column(1) not in frame
    measured = zoo_frame([entries["mobilenet_v2"]], {"mobilenet_v2": {1: 12.5, 2: 8.0}})
    assert measured[latency_column(1)].tolist() == [12.5] and measured[latency_column(2)].tolist() == [8.0]
    assert list(measured["design"]) == ["lightweight"] and list(frame["design"])[-1] == "standard conv"


def test_charts_plot_every_network_and_draw_the_front(entries):
    zoo = list(entries.values())
    fig = macs_figure(zoo)
    markers = [t for t in fig.data if t.mode == "markers"]
    assert sorted(n for t in markers for n in t.text) == sorted(entries)
    reference = next(t for t in markers if t.name == "standard conv (reference)")
    assert list(reference.text) == ["resnet18", "vgg16"] and reference.marker.symbol == "diamond"
    front = next(t for t in fig.data if t.mode == "lines")
    expected = pareto_front([(e.macs, e.top1) for e in zoo])
    assert list(front.x) == [zoo[i].macs for i in expected]
    assert fig.layout.xaxis.type == "log" and len(fig.layout.annotations) == len(zoo)
    latency = {e.name: {1: float(i + 1)} for i, e in enumerate(zoo[:4])}
    fig = latency_figure(zoo, latency, 1)
    assert sorted(n for t in fig.data if t.mode == "markers" for n in t.text) == sorted(latency)


def test_labels_avoid_each_other():
    points = [(100, 100), (104, 102), (108, 98), (300, 300)]
    offsets = place_labels(
        points, [5, 5, 5, 5], ["mobilenet_v2", "mnasnet1_0", "shufflenet_v2_x1_5", "vgg16"], (760, 420)
    )
    boxes = [
        (x + dx - len(t) * 3.8, y + dy - 9, x + dx + len(t) * 3.8, y + dy + 9)
        for (x, y), (dx, dy), t in zip(points, offsets, ["mobilenet_v2", "mnasnet1_0", "shufflenet_v2_x1_5", "vgg16"])
    ]
    for i in range(len(boxes)):
        for j in range(i):
            a, b = boxes[i], boxes[j]
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1])
