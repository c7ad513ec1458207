"""How a weight source expects its images: resize, center crop, normalize."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocess:
    crop: int = 224
    resize: int = 256  # shorter side before the center crop
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __call__(self, image: Image.Image | np.ndarray) -> torch.Tensor:
        """An RGB PIL image or HxWx3 uint8 array -> normalized ``[1, 3, crop, crop]`` float tensor."""
        x = F.to_image(image)
        x = F.center_crop(F.resize(x, self.resize, antialias=True), self.crop)
        x = F.to_dtype(x, torch.float32, scale=True)
        return F.normalize(x, self.mean, self.std)[None]


LITE0_PREPROCESS = Preprocess(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
TORCHVISION_PREPROCESS = Preprocess()
