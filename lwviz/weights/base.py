"""The one interface every weight source implements, and the error for weights that are not here."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping

import torch

from lwviz.builder import Net, build
from lwviz.errors import PhrasedError
from lwviz.spec import Spec
from lwviz.weights.preprocess import Preprocess

DownloadProgress = Callable[[int, "int | None"], None]
"""``progress(done_bytes, total_bytes)`` during a download; ``total_bytes`` is None when the server does not say."""


class WeightsUnavailable(PhrasedError, RuntimeError):
    """The weights are not on this machine (and could not be fetched); the message says how to get them."""


class WeightSource(ABC):
    """Where a model's weights come from, and how that model wants its images and names its classes.

    Subclasses say where the tensors are (``missing``, ``state_dict_for``); building the model,
    loading and switching to eval mode happen here, the same way for every source.
    """

    name: str  # unique key, e.g. "mobilenet_v2:torchvision"
    label: str  # for people, e.g. "MobileNetV2, torchvision IMAGENET1K_V2"
    spec: Spec
    preprocess: Preprocess
    categories: tuple[str, ...]
    top1: float | None  # published ImageNet-1K top-1 accuracy in percent, if known

    @abstractmethod
    def missing(self) -> str | None:
        """Why the weights cannot be loaded without a network (what is missing, how to get it, as a
        :class:`~lwviz.i18n.Phrase`), or None."""

    @abstractmethod
    def state_dict_for(self, model: Net, progress: DownloadProgress | None = None) -> Mapping[str, torch.Tensor]:
        """Tensors keyed like ``model.state_dict()``; may download (reporting ``progress``)."""

    def is_available(self) -> bool:
        """Whether ``load`` works offline. Never touches the network."""
        return self.missing() is None

    def load(self, progress: DownloadProgress | None = None) -> Net:
        """A fresh model of ``spec`` with these weights, in eval mode."""
        model = build(self.spec)
        model.load_state_dict(self.state_dict_for(model, progress))
        return model.eval()
