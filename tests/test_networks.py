"""The one resolver of a page's network choice (``lwviz.networks``), without Streamlit."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
import torch

from lwviz.builder import Net, build
from lwviz.data import DIGITS_CLASSES, digits
from lwviz.i18n import translator
from lwviz.networks import (
    DESIGN,
    DIGITS,
    DOWNLOADABLE,
    OWN,
    READY,
    TRAINED,
    choice_label,
    choices,
    design_preprocess,
    network_label,
    resolve,
    untrained_model,
)
from lwviz.presets import get_preset
from lwviz.weights import (
    LITE0,
    SOURCES,
    CheckpointError,
    WeightsUnavailable,
    class_names_for,
    get_source,
    imagenet_categories,
)
from lwviz.weights.preprocess import IMAGENET_MEAN, IMAGENET_STD, Preprocess

SMALL = get_preset("mobilenet_v3_small").with_(width=0.25, resolution=96, num_classes=10)


def same_weights(a: Net, b: Net) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_a_ten_class_design_is_untrained_with_class_names_and_its_own_resolution():
    net = resolve(DESIGN, SMALL)
    assert net.key == DESIGN and net.label == "mobilenet_v3_small, untrained" and not net.trained
    assert net.categories == tuple(f"class {i}" for i in range(10)) == class_names_for(SMALL.num_classes)
    assert net.categories[0] == "class 0" and net.categories[-1] == "class 9"
    assert net.preprocess == Preprocess(
        crop=96, resize=110, mean=IMAGENET_MEAN, std=IMAGENET_STD, interpolation="bilinear"
    )  # 96 / 110 keeps torchvision's 224 / 256
    assert net.resolution == 96 and net.data is None and net.top1 is None
    assert net.model.spec == SMALL and not net.model.training
    assert same_weights(net.model, resolve(DESIGN, SMALL).model)  # seed 0: the same network every time


def test_a_thousand_class_design_gets_imagenet_names_and_the_standard_preprocessing():
    spec = get_preset("mobilenet_v2")
    assert class_names_for(spec.num_classes) == imagenet_categories()
    assert design_preprocess(spec) == Preprocess()  # 224 / 256, as torchvision evaluates


def test_the_design_comes_from_the_given_builder():
    built = []

    def build_design(spec):
        built.append(spec)
        return untrained_model(spec)

    net = resolve(DESIGN, SMALL, build_design=build_design, load=fail)
    assert built == [SMALL] and net.model.spec == SMALL


def fail(name):
    raise AssertionError(f"{name} should not be loaded")


def test_pretrained_weights_come_from_the_given_loader_with_their_own_preprocessing():
    model = untrained_model(LITE0.spec)
    loaded = []

    def load(name):
        loaded.append(name)
        return model

    net = resolve(LITE0.name, SMALL, load=load, build_design=fail)
    assert loaded == [LITE0.name] and net.model is model
    assert net.key == LITE0.name and net.label == "efficientnet_lite0" and net.trained
    assert net.preprocess == LITE0.preprocess and net.preprocess.mean == (0.5, 0.5, 0.5) and net.resolution == 224
    assert net.categories == imagenet_categories() and net.top1 == LITE0.top1 and net.data is None


def test_torchvision_weights_keep_torchvision_s_preprocessing():
    source = get_source("mobilenet_v3_large:torchvision")
    net = resolve(source.name, SMALL, load=untrained_for)
    assert net.preprocess == source.preprocess and net.label == "mobilenet_v3_large" and net.top1 == source.top1


def untrained_for(name):
    return untrained_model(get_source(name).spec)


@pytest.mark.usefixtures("offline_hub")
def test_missing_weights_raise_what_is_missing():
    with pytest.raises(WeightsUnavailable, match="is missing from"):
        resolve("mobilenet_v2:torchvision", SMALL)


def state_dict_bytes(model: Net) -> bytes:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def test_your_checkpoint_for_the_design():
    torch.manual_seed(1)
    saved = build(SMALL)
    net = resolve(OWN, SMALL, checkpoint=state_dict_bytes(saved), checkpoint_name="mine.pt", build_design=fail)
    assert net.key == OWN and net.label == "mobilenet_v3_small, weights from mine.pt" and net.trained
    assert network_label(net, translator("zh")) == "mobilenet_v3_small，权重来自 mine.pt"
    assert net.categories == tuple(f"class {i}" for i in range(10)) and net.preprocess == design_preprocess(SMALL)
    assert same_weights(net.model, saved) and not net.model.training


def test_a_checkpoint_is_needed_and_must_fit():
    with pytest.raises(ValueError, match="checkpoint"):
        resolve(OWN, SMALL)
    with pytest.raises(CheckpointError, match="does not fit mobilenet_v3_small"):
        resolve(OWN, SMALL, checkpoint=state_dict_bytes(build(SMALL.with_(num_classes=5))))


@dataclass(frozen=True, eq=False)
class Learned:
    """What the Train page leaves behind, reduced to what resolving reads."""

    model: Net
    data: object
    label: str = "digits_se trained on digits (100 steps, 97.0% on held-out pictures)"

    def camera_preprocess(self) -> Preprocess:
        return Preprocess(crop=32, resize=32, mean=(0.5,) * 3, std=(-0.5,) * 3)


@pytest.mark.parametrize("choice", [TRAINED, DIGITS])
def test_a_network_trained_here_reads_its_own_pictures(choice):
    data = digits()
    learned = Learned(build(get_preset("mobilenet_v3_small").with_(resolution=32, num_classes=10)).eval(), data)
    net = resolve(choice, SMALL, trained=learned, load=fail, build_design=fail)
    assert net.key == choice and net.model is learned.model and net.trained
    assert net.data is data and net.categories == DIGITS_CLASSES == tuple("0123456789")
    assert net.label == "mobilenet_v3_small (digits)"
    assert net.preprocess == learned.camera_preprocess() and net.resolution == 32
    with pytest.raises(ValueError, match="trained"):
        resolve(choice, SMALL)


def test_an_unknown_choice_is_refused():
    with pytest.raises(ValueError, match="unknown source 'nonsense'"):
        resolve("nonsense", SMALL)


@pytest.mark.usefixtures("offline_hub")
def test_choices_follow_the_page_s_order_with_lite0_first():
    downloadable = [s.name for s in sorted(SOURCES.values(), key=lambda s: -(s.top1 or 0.0)) if s is not LITE0]
    assert choices((READY, DOWNLOADABLE, OWN)) == [LITE0.name, *downloadable, OWN]
    assert choices((READY, TRAINED, DESIGN)) == [LITE0.name, DESIGN]  # nothing trained yet
    assert choices((TRAINED, READY), has_trained=True) == [TRAINED, LITE0.name]
    assert choices((READY, DESIGN), exclude=(LITE0.name,)) == [DESIGN]


def test_ready_weights_are_offered_lite0_first_then_the_most_accurate(monkeypatch):
    import lwviz.networks

    found = [get_source(n) for n in ("efficientnet_b0:torchvision", LITE0.name, "squeezenet1_1:torchvision")]
    monkeypatch.setattr(lwviz.networks, "available_sources", lambda: found)
    assert choices((READY,)) == [LITE0.name, "efficientnet_b0:torchvision", "squeezenet1_1:torchvision"]


@pytest.mark.usefixtures("offline_hub")
def test_what_the_picker_says():
    learned = Learned(None, None)
    assert choice_label(DESIGN, SMALL) == "Your design (mobilenet_v3_small): untrained, random weights"
    assert choice_label(OWN, SMALL) == "mobilenet_v3_small with your checkpoint"
    assert choice_label(TRAINED, SMALL, learned) == f"Trained here: {learned.label}"
    assert choice_label(DIGITS, SMALL) == "Small SE network trained on digits (here, in seconds)"
    assert choice_label(LITE0.name, SMALL) == LITE0.label
    missing = get_source("mobilenet_v2:torchvision")
    assert choice_label(missing.name, SMALL) == f"{missing.label} (download needed)"
