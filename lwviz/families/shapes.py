"""Shape arithmetic shared by every family: output sizes and the channel-rounding rules of the papers."""

from __future__ import annotations

import math


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channels to a multiple of ``divisor``, never more than 10% down (TF/torchvision rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def se_channels(style: str, in_chs: int, mid_chs: int, ratio: float) -> int:
    """Squeeze width: EfficientNet reduces from the block input, MobileNetV3 from the expanded channels (to 8)."""
    if style == "mobilenetv3":
        return make_divisible(int(mid_chs * ratio), 8)
    return max(1, int(in_chs * ratio))


def conv_out(size: int, kernel: int, stride: int, padded: bool = True) -> int:
    pad = (kernel - 1) // 2 if padded else 0
    return (size + 2 * pad - kernel) // stride + 1


def pool_out(size: int, ceil: bool) -> int:
    """3x3 stride-2 max-pool: padded 1 (ShuffleNet) or unpadded with ceil_mode (SqueezeNet)."""
    if ceil:
        out = math.ceil((size - 3) / 2) + 1
        return out - 1 if (out - 1) * 2 >= size else out
    return (size + 2 - 3) // 2 + 1
