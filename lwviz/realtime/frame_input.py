"""A camera frame -> the model's input tensor with one resize, into buffers reused every frame.

``Preprocess`` (resize the shorter side, then center-crop) is written for PIL images of any size
and allocates at every step. A camera sends the same size over and over, so the crop box is
computed once per frame size, the crop is a view (no copy), and the only pixel work is one
resize of the cropped region straight to the model's resolution followed by one fused
scale-and-shift into a preallocated tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from lwviz.weights.preprocess import Preprocess

# Shrinking uses area averaging (antialiased, like torchvision's ``antialias=True``); enlarging uses
# the interpolation the weights were trained with (bilinear for any mode OpenCV does not have).
_ENLARGE = {
    "nearest": cv2.INTER_NEAREST,
    "nearest-exact": cv2.INTER_NEAREST_EXACT,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
}


@dataclass(frozen=True)
class CropBox:
    """The square of the frame the model sees, in frame pixels: ``rows`` x ``cols`` slices."""

    top: int
    left: int
    side: int

    @property
    def rows(self) -> slice:
        return slice(self.top, self.top + self.side)

    @property
    def cols(self) -> slice:
        return slice(self.left, self.left + self.side)


def crop_box(height: int, width: int, preprocess: Preprocess) -> CropBox:
    """The center square ``Preprocess`` would crop, measured in the original frame.

    Resizing the shorter side to ``resize`` and cropping ``crop`` keeps ``crop / resize`` of the
    shorter side; cropping that square first and resizing it once gives the same picture.
    """
    side = max(1, min(round(min(height, width) * preprocess.crop / preprocess.resize), height, width))
    return CropBox((height - side) // 2, (width - side) // 2, side)


class FrameInput:
    """``rgb uint8 HxWx3 -> [1, 3, S, S]`` float tensor, normalized as ``preprocess`` says.

    Not thread-safe: the returned tensor is the same buffer every call (the frame processor
    runs one frame at a time).
    """

    def __init__(self, preprocess: Preprocess):
        self.preprocess = preprocess
        size = preprocess.crop
        self._resized = np.empty((size, size, 3), np.uint8)
        # channels-last: the pixels' own HxWxC order, so the copy below is one straight pass
        self.tensor = torch.empty((1, 3, size, size), dtype=torch.float32).to(memory_format=torch.channels_last)
        std = torch.tensor(preprocess.std).view(3, 1, 1)
        # (x / 255 - mean) / std == x * scale + shift, one multiply-add per value
        self._scale = 1.0 / (255.0 * std)
        self._shift = -torch.tensor(preprocess.mean).view(3, 1, 1) / std
        self._box: tuple[tuple[int, int], CropBox] | None = None

    def box(self, height: int, width: int) -> CropBox:
        if self._box is None or self._box[0] != (height, width):
            self._box = ((height, width), crop_box(height, width, self.preprocess))
        return self._box[1]

    def __call__(self, rgb: np.ndarray) -> torch.Tensor:
        box = self.box(*rgb.shape[:2])
        size = self.preprocess.crop
        enlarge = _ENLARGE.get(self.preprocess.interpolation, cv2.INTER_LINEAR)
        cv2.resize(
            rgb[box.rows, box.cols],
            (size, size),
            dst=self._resized,
            interpolation=cv2.INTER_AREA if box.side >= size else enlarge,
        )
        chw = torch.from_numpy(self._resized).permute(2, 0, 1)
        out = self.tensor[0]
        out.copy_(chw)  # uint8 -> float32
        out.mul_(self._scale).add_(self._shift)
        return self.tensor
