"""One picture -> the top-k classes with probabilities, and how long the network took."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from lwviz.images import ImageInput, load_image
from lwviz.weights.base import WeightSource
from lwviz.weights.preprocess import Preprocess


@dataclass(frozen=True)
class Prediction:
    label: str
    prob: float
    index: int


@dataclass(frozen=True)
class Classification:
    predictions: tuple[Prediction, ...]  # most probable first
    latency_ms: float  # the forward pass alone: no decoding, resizing or softmax

    @property
    def top(self) -> Prediction:
        return self.predictions[0]

    def to_list(self) -> list[dict[str, float | str]]:
        return [{"label": p.label, "prob": p.prob} for p in self.predictions]


def classify(
    model: nn.Module, image: ImageInput, preprocess: Preprocess, categories: tuple[str, ...] | list[str], topk: int = 5
) -> Classification:
    """Classify ``image`` (anything ``load_image`` takes) with an eval-mode ``model``.

    ``ImageError`` for an unusable picture; ``ValueError`` for a model in training mode (batch
    norm would normalise by this one image's statistics) or a ``topk`` outside 1..classes.
    """
    if model.training:
        raise ValueError("model: it is in training mode; classify an eval() copy")
    if not 1 <= topk <= len(categories):
        raise ValueError(f"topk: {topk} is outside 1..{len(categories)}")
    x = preprocess(load_image(image))
    with torch.inference_mode():
        start = time.perf_counter()
        logits = model(x)
        latency_ms = (time.perf_counter() - start) * 1e3
        if logits.shape[-1] != len(categories):
            raise ValueError(f"categories: the model has {logits.shape[-1]} outputs but {len(categories)} class names")
        probs, indices = logits.float().softmax(-1)[0].topk(topk)
    return Classification(
        tuple(Prediction(categories[i], p, i) for p, i in zip(probs.tolist(), indices.tolist())), latency_ms
    )


def classify_with(
    source: WeightSource, image: ImageInput, topk: int = 5, model: nn.Module | None = None
) -> Classification:
    """Classify with ``source``'s preprocessing and class names; ``model`` is its loaded network (loaded if None)."""
    return classify(model if model is not None else source.load(), image, source.preprocess, source.categories, topk)
