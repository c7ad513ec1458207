"""Which network a page runs: one record for it, and one function that resolves a page's choice into it. No UI code.

The Classify, Webcam, Look inside and Compress pages all offer a choice of network: pretrained
weights (a name in ``lwviz.weights.SOURCES``), the Build page's design with random weights or with a
user's checkpoint, a network trained in this session. Each choice resolves here, the same way on
every page, into a :class:`Network`: the model with the preprocessing, class names and words that
go with it. Where the models come from is passed in (``load``, ``build_design``), so the app hands
its server-wide caches and tests hand plain functions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import torch

from lwviz.builder import Net, build
from lwviz.i18n import N_, Translate, english, said
from lwviz.spec import Spec
from lwviz.weights import (
    LITE0,
    CheckpointSource,
    WeightSource,
    available_sources,
    class_names_for,
    get_source,
    sources_for,
)
from lwviz.weights.preprocess import TORCHVISION_PREPROCESS, Preprocess

if TYPE_CHECKING:
    from lwviz.data import Dataset

# Choice keys besides the weight sources' names.
DESIGN = "design"  # the Build page's design, random weights (seed 0)
OWN = "own"  # the Build page's design with weights from the user's checkpoint
TRAINED = "trained"  # the network trained on the Train page in this session
DIGITS = "digits"  # a small SE network the Look inside page trains on handwritten digits, in seconds
# Groups of weight sources a page can offer, expanded by ``choices``.
READY = "ready"  # the weight sources that load offline on this machine
DOWNLOADABLE = "downloadable"  # the others: offered with what they need, and a download button
UNTRAINED = N_("{name}, untrained")  # the label of the design with random weights
DATASET_NAMES = {"digits": N_("digits")}  # a dataset's name in a sentence; CIFAR-10's is a name in every language


class Learned(Protocol):
    """A network trained in this session (the Train page's ``TrainedNet``): what resolving one reads of it."""

    model: Net
    data: Dataset

    @property
    def label(self) -> str: ...

    def camera_preprocess(self) -> Preprocess: ...


@dataclass(frozen=True, eq=False)
class Network:
    """A network ready to run on pictures, with everything a page shows about it.

    ``model`` is in eval mode and may be shared by every session (a server-wide cache): read it,
    never modify it; quantization, pruning, hooks and ablation work on a copy.
    """

    key: str  # the choice it was resolved from: a weight source's name, DESIGN, OWN, TRAINED or DIGITS
    model: Net
    preprocess: Preprocess  # a photo -> this network's input, at its native resolution
    categories: tuple[str, ...]
    label: str  # short, for captions and the webcam's frames: "efficientnet_lite0", "mobilenet_v2, untrained"
    trained: bool  # False: random weights, its answers mean nothing
    data: Dataset | None = None  # the pictures it learned from, for a network trained here; it reads only those
    top1: float | None = None  # published ImageNet top-1 accuracy in percent, for pretrained weights

    @property
    def resolution(self) -> int:
        """The input size in pixels it was trained at (or designed for)."""
        return self.preprocess.crop


def design_preprocess(spec: Spec) -> Preprocess:
    """ImageNet preprocessing at the design's resolution, keeping torchvision's crop-to-resize ratio (224/256)."""
    return TORCHVISION_PREPROCESS.at_resolution(spec.resolution)


def untrained_model(spec: Spec) -> Net:
    """The design with seed-0 random weights, in eval mode: every session and every run sees the same network."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build(spec).eval()


def load_pretrained(name: str) -> Net:
    """A weight source's model, loaded afresh (``WeightsUnavailable`` when its weights are missing or damaged)."""
    return get_source(name).load()


def ready_sources() -> list[WeightSource]:
    """The weight sources that load offline, Lite0 first (it ships with the app, so every laptop has the same
    default), then the most accurate first."""
    return sorted(available_sources(), key=lambda s: s.name != LITE0.name)


def choices(offer: Sequence[str], has_trained: bool = False, exclude: Collection[str] = ()) -> list[str]:
    """The choice keys a page offers, in the order of ``offer``.

    ``offer`` holds choice keys and the groups READY (weight sources here, :func:`ready_sources`) and
    DOWNLOADABLE (the other weight sources); TRAINED is left out unless ``has_trained``.
    """
    ready = [s.name for s in ready_sources()]
    groups = {
        READY: ready,
        DOWNLOADABLE: [s.name for s in sources_for() if s.name not in ready],
        TRAINED: [TRAINED] if has_trained else [],
    }
    keys = [key for item in offer for key in groups.get(item, [item])]
    return [key for key in keys if key not in exclude]


def choice_label(choice: str, design: Spec, trained: Learned | None = None, _: Translate = english) -> str:
    """What the network picker says for ``choice`` (``trained``: the Train page's network, for TRAINED)."""
    if choice == DESIGN:
        return _("Your design ({name}): untrained, random weights", name=design.name)
    if choice == OWN:
        return _("{name} with your checkpoint", name=design.name)
    if choice == TRAINED:
        return _("Trained here: {label}", label=trained.label)
    if choice == DIGITS:
        return _("Small SE network trained on digits (here, in seconds)")
    source = get_source(choice)
    label = said(source.label, _)
    return label if source.is_available() else _("{label} (download needed)", label=label)


def dataset_name(name: str, _: Translate = english) -> str:
    """A dataset's name as a sentence in the language of ``_`` says it (``Dataset.name`` is also a key)."""
    return _(DATASET_NAMES[name]) if name in DATASET_NAMES else name


def network_label(net: Network, _: Translate = english) -> str:
    """``net.label`` for a page in the language of ``_``: its words translated, names kept."""
    if net.key == DESIGN:
        return _(UNTRAINED, name=net.model.spec.name)
    if net.data is not None:  # trained here (TRAINED, DIGITS): as resolve() labels it
        return _("{network} ({dataset})", network=net.model.spec.name, dataset=dataset_name(net.data.name, _))
    return said(net.label, _)  # a name, or your checkpoint's Phrase


def resolve(
    choice: str,
    design: Spec,
    *,
    trained: Learned | None = None,
    checkpoint: bytes | None = None,
    checkpoint_name: str = "checkpoint",
    load: Callable[[str], Net] = load_pretrained,
    build_design: Callable[[Spec], Net] = untrained_model,
) -> Network:
    """The network ``choice`` names.

    ``design`` is the Build page's spec (for DESIGN and OWN); ``trained`` the network trained here (for
    TRAINED and DIGITS); ``checkpoint`` the bytes of the user's state_dict for ``design`` (for OWN).
    ``load(name)`` gives a weight source's model and ``build_design(spec)`` the untrained design: the
    app passes its caches. Raises ``WeightsUnavailable`` (weights missing or damaged), ``CheckpointError``
    (a checkpoint that cannot be used) or ``ValueError`` (an unknown choice, or what it needs not given).
    """
    if choice == DESIGN:
        return Network(
            DESIGN,
            build_design(design),
            design_preprocess(design),
            class_names_for(design.num_classes),
            english(UNTRAINED, name=design.name),
            trained=False,
        )
    if choice == OWN:
        if checkpoint is None:
            raise ValueError("checkpoint: the bytes of a state_dict are needed for your own checkpoint")
        source = CheckpointSource(design, checkpoint, checkpoint_name)
        return Network(
            OWN,
            source.load(),
            design_preprocess(design),
            class_names_for(design.num_classes),
            source.label,
            trained=True,
        )
    if choice in (TRAINED, DIGITS):
        if trained is None:
            raise ValueError(f"trained: {choice} needs the network trained in this session")
        spec = trained.model.spec
        return Network(
            choice,
            trained.model,
            trained.camera_preprocess(),
            trained.data.classes,
            f"{spec.name} ({trained.data.name})",
            trained=True,
            data=trained.data,
        )
    source = get_source(choice)
    return Network(
        choice, load(choice), source.preprocess, source.categories, source.spec.name, trained=True, top1=source.top1
    )
