"""How a weight source expects its images: resize, center crop, normalize."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
from PIL import Image
from torchvision.models import WeightsEnum
from torchvision.transforms import InterpolationMode

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocess:
    crop: int = 224
    resize: int = 256  # shorter side before the center crop
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    interpolation: str = "bilinear"  # an ``InterpolationMode`` value

    @classmethod
    def from_torchvision(cls, weights: WeightsEnum) -> Preprocess:
        """The eval transform torchvision publishes with ``weights`` (sizes and resampling differ per model)."""
        t = weights.transforms()
        return cls(
            crop=t.crop_size[0],
            resize=t.resize_size[0],
            mean=tuple(t.mean),
            std=tuple(t.std),
            interpolation=t.interpolation.value,
        )

    def at_resolution(self, resolution: int) -> Preprocess:
        """The same preprocessing cropping ``resolution`` pixels, keeping the crop-to-resize ratio (224/256)."""
        return replace(self, crop=resolution, resize=round(resolution * self.resize / self.crop))

    def __call__(self, image: Image.Image | np.ndarray) -> torch.Tensor:
        """An RGB PIL image or HxWx3 uint8 array -> normalized ``[1, 3, crop, crop]`` float tensor."""
        x = F.to_image(image)
        x = F.resize(x, self.resize, interpolation=InterpolationMode(self.interpolation), antialias=True)
        x = F.to_dtype(F.center_crop(x, self.crop), torch.float32, scale=True)
        return F.normalize(x, self.mean, self.std)[None]


TORCHVISION_PREPROCESS = Preprocess()
# TF EfficientNet-Lite eval: bicubic resize to crop + 32, center crop, (x - 127) / 128 ~ mean = std = 0.5.
LITE0_PREPROCESS = Preprocess(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), interpolation="bicubic")
