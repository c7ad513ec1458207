"""The registry of pretrained weight sources, and which of them work offline right now.

Lite0 comes from an installed package and always works; every preset torchvision also has gets
torchvision's weights, which work once they are in the hub cache; every preset that names a timm model
(MobileNetV4, GhostNet, MobileOne) gets timm's default pretrained weights, which need the timm package and
work once they are in the Hugging Face cache (timm downloads them there on first use). Pages and the CLI
ask for the best source that works offline and carry on with it when the rest are missing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch
from torch import nn

from lwviz.builder import Net
from lwviz.i18n import N_, Phrase
from lwviz.presets import PRESETS, get_preset
from lwviz.registry import add
from lwviz.spec import Spec
from lwviz.weights.base import DownloadProgress, WeightSource, WeightsUnavailable
from lwviz.weights.convert import convert_state_dict
from lwviz.weights.hub import DAMAGED, DOWNLOAD_FAILED, TorchvisionSource, describe_error
from lwviz.weights.offline import LITE0, imagenet_categories
from lwviz.weights.preprocess import Preprocess

# The pretrained weights timm loads for a model name without a tag, as it says in its own model registry; kept here
# so that labels, preprocessing and the cache check work without timm installed (the tests check them against timm).
TIMM_WEIGHTS: dict[str, dict] = {
    "mobilenetv4_conv_small": dict(tag="e2400_r224_in1k", crop_pct=0.875, interpolation="bicubic"),
    "mobilenetv4_conv_medium": dict(tag="e500_r256_in1k", crop_pct=0.95, interpolation="bicubic"),
    "ghostnet_100": dict(tag="in1k", crop_pct=0.875, interpolation="bicubic"),
    "mobileone_s0": dict(tag="apple_in1k", crop_pct=0.875, interpolation="bilinear"),
}
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # what timm looks for in a Hugging Face repository


def convert_timm(reference: nn.Module, model: Net) -> dict[str, torch.Tensor]:
    """A timm model's tensors onto ``model``'s keys: the builder registers its layers in timm's order."""
    return convert_state_dict(reference.state_dict(), model)


@dataclass(frozen=True)
class TimmSource(WeightSource):
    """A preset that timm also has, with timm's default ImageNet weights (downloaded by timm into the Hugging Face
    cache, ``HF_HOME``). timm is needed only here, to load them; the model is ours."""

    preset: str

    @property
    def timm_name(self) -> str:
        return PRESETS[self.preset].timm

    @property
    def tag(self) -> str:
        return TIMM_WEIGHTS[self.timm_name]["tag"]

    @property
    def repo_id(self) -> str:
        return f"timm/{self.timm_name}.{self.tag}"

    @property
    def name(self) -> str:
        return f"{self.preset}:timm"

    @property
    def label(self) -> str:
        return Phrase(
            "{preset}, timm {tag} ImageNet weights (download from the Hugging Face Hub)",
            preset=self.preset,
            tag=self.tag,
        )

    @property
    def spec(self) -> Spec:
        return get_preset(self.preset)

    @cached_property
    def preprocess(self) -> Preprocess:
        """timm's eval transform at the preset's resolution: resize to crop / crop_pct, centre crop."""
        crop, cfg = self.spec.resolution, TIMM_WEIGHTS[self.timm_name]
        return Preprocess(crop=crop, resize=int(crop / cfg["crop_pct"]), interpolation=cfg["interpolation"])

    @property
    def categories(self) -> tuple[str, ...]:
        return imagenet_categories()

    @property
    def top1(self) -> float:
        from lwviz.zoo import PUBLISHED_TOP1  # the published figure of this network (lwviz.zoo imports this package)

        return PUBLISHED_TOP1[self.preset].percent

    def cached_file(self) -> Path | None:
        """The weights file in the Hugging Face cache, if timm has downloaded it; never touches the network."""
        from huggingface_hub import try_to_load_from_cache

        for filename in HF_WEIGHT_FILES:
            found = try_to_load_from_cache(self.repo_id, filename)
            if isinstance(found, str):
                return Path(found)
        return None

    def missing(self) -> str | None:
        if importlib.util.find_spec("timm") is None:
            return Phrase(
                "{preset} weights come from timm, which is not installed: run `pip install timm`.", preset=self.preset
            )
        if self.cached_file() is not None:
            return None
        return Phrase(
            "{preset} weights are not on this machine: timm's {tag} weights ({repo}) are missing "
            "from the Hugging Face cache. Download them once with internet (choose these weights in the app, or run "
            "`lwviz classify IMAGE --model {preset} --download`), or copy that cache from a machine that has "
            "it (set HF_HOME to use a cache elsewhere).",
            preset=self.preset,
            tag=self.tag,
            repo=self.repo_id,
        )

    def reference(self) -> nn.Module:
        """timm's model with its pretrained weights (timm downloads them when they are not cached)."""
        import timm

        return timm.create_model(self.timm_name, pretrained=True)

    def state_dict_for(self, model: Net, progress: DownloadProgress | None = None) -> Mapping[str, torch.Tensor]:
        reason = self.missing()
        if reason is not None and importlib.util.find_spec("timm") is None:
            raise WeightsUnavailable(reason)
        try:
            reference = self.reference()
        except Exception as exc:  # no network, a refused download, a damaged cache: timm raises many kinds
            if reason is None:
                raise WeightsUnavailable(DAMAGED, path=self.cached_file(), error=describe_error(exc)) from exc
            raise WeightsUnavailable(DOWNLOAD_FAILED, reason=reason, error=describe_error(exc)) from exc
        return convert_timm(reference, model)


SOURCES: dict[str, WeightSource] = {}


def register(source: WeightSource) -> WeightSource:
    return add(SOURCES, source.name, source, "weight source")


register(LITE0)
for _name, _preset in PRESETS.items():
    if _preset.torchvision:
        register(TorchvisionSource.for_preset(_name))
    if _preset.timm:
        register(TimmSource(_name))


def get_source(name: str) -> WeightSource:
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(f"weights: unknown source {name!r}; choose one of {', '.join(SOURCES)}") from None


def sources_for(preset: str | None = None) -> list[WeightSource]:
    """Every source (of ``preset``, when given), most accurate first."""
    found = [s for s in SOURCES.values() if preset is None or s.spec.name == preset]
    return sorted(found, key=lambda s: -(s.top1 or 0.0))


def available_sources(preset: str | None = None) -> list[WeightSource]:
    """The sources that load without a network, most accurate first."""
    return [s for s in sources_for(preset) if s.is_available()]


def best_offline_source(preset: str | None = None) -> WeightSource:
    """The most accurate source (of ``preset``) that loads offline; ``WeightsUnavailable`` says what is missing."""
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"preset: unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    candidates = sources_for(preset)
    if not candidates:
        with_weights = sorted({s.spec.name for s in SOURCES.values()})
        raise WeightsUnavailable(
            N_("{preset} has no pretrained weights (it is built from its spec only); presets with weights: {names}."),
            preset=preset,
            names=", ".join(with_weights),
        )
    for source in candidates:
        if source.is_available():
            return source
    raise WeightsUnavailable(candidates[0].missing())
