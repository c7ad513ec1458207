"""Quick, real training on a dataset that ships offline: scikit-learn's 8x8 handwritten digits.

A classroom needs a trained network in seconds, without internet: 1797 digits, upsampled to
32x32 RGB so they pass through the same blocks as photos, split once into a fixed train and test
set. :func:`train` is plain minibatch AdamW with a cosine schedule; it reports progress, can be
stopped, and measures accuracy on digits it never trained on.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lwviz.builder import Net, build
from lwviz.spec import Head, Spec, Stage, Stem

DIGITS_SIZE = 32  # 8x8 upsampled: room for three stride-2 steps down to 4x4 maps
DIGITS_CLASSES = tuple(str(d) for d in range(10))
TEST_FRACTION = 0.2
DIGITS_STEPS = 100  # 98% held-out accuracy in 5-10 s on 2 busy cores (tests/test_train.py asserts >= 95%)

Progress = Callable[[int, int, float], None]
"""``progress(step, total_steps, loss)`` after every optimizer step."""


@dataclass(frozen=True)
class Digits:
    """Images ``[N, 3, 32, 32]`` in [-1, 1] (ink bright) and labels ``[N]``, split into train and test."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor


@cache
def digits(size: int = DIGITS_SIZE) -> Digits:
    """The digits as network inputs, with a fixed, class-stratified 80/20 split (the same on every machine)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.from_numpy(data.images).float().div(16.0)[:, None]  # 0..16 ink -> [0, 1], [N, 1, 8, 8]
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
    x = (x.repeat(1, 3, 1, 1) - 0.5) / 0.5
    y = torch.from_numpy(data.target).long()
    rng = np.random.default_rng(0)
    test = np.concatenate([rng.permutation(members)[:round(TEST_FRACTION * len(members))]
                           for members in (np.flatnonzero(data.target == c) for c in range(10))])
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test] = True
    train_idx, test_idx = torch.from_numpy(np.flatnonzero(~is_test)), torch.from_numpy(np.flatnonzero(is_test))
    return Digits(x[train_idx], y[train_idx], x[test_idx], y[test_idx])


def digit_picture(x: torch.Tensor, scale: int = 4) -> np.ndarray:
    """A digits input ``[3, H, W]`` back as an ``[H*scale, W*scale, 3]`` uint8 picture, pixels kept square."""
    rgb = ((x * 0.5 + 0.5).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    return np.ascontiguousarray(rgb.repeat(scale, axis=0).repeat(scale, axis=1))


def digits_se_spec() -> Spec:
    """A small MBConv network with squeeze-and-excitation in every block, for 32x32 digits."""
    return Spec(
        name="digits_se",
        stem=Stem(chs=16, kernel=3, stride=2, act="hswish"),
        stages=(
            Stage("mbconv", repeats=1, kernel=3, stride=1, out_chs=16, expand=2.0, se=0.25, act="hswish"),
            Stage("mbconv", repeats=2, kernel=3, stride=2, out_chs=24, expand=3.0, se=0.25, act="hswish"),
            Stage("mbconv", repeats=2, kernel=5, stride=2, out_chs=40, expand=3.0, se=0.25, act="hswish"),
        ),
        head=Head(chs=128, act="hswish", dropout=0.1),
        resolution=DIGITS_SIZE,
        num_classes=len(DIGITS_CLASSES),
    ).validate()


@dataclass(frozen=True)
class History:
    losses: tuple[float, ...]  # training loss after each step
    test_accuracy: float  # on the held-out digits, after the last step
    steps: int  # steps taken (fewer than asked when stopped)
    seconds: float


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    """Top-1 accuracy of an eval-mode ``model``."""
    with torch.inference_mode():
        correct = sum((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
                      for i in range(0, len(x), batch_size))
    return correct / len(x)


def train(spec: Spec, steps: int = DIGITS_STEPS, progress: Progress | None = None,
          should_stop: Callable[[], bool] | None = None, seed: int = 0, data: Digits | None = None,
          batch_size: int = 64, lr: float = 4e-3) -> tuple[Net, History]:
    """Train a fresh model of ``spec`` on ``data`` (the digits); returns it in eval mode and its history.

    Deterministic for a given seed and thread count. ``should_stop()`` is asked before every step.
    """
    if steps < 1:
        raise ValueError(f"steps: {steps} is outside 1..")
    data = data or digits(spec.resolution)
    if spec.num_classes <= int(data.train_y.max()):
        raise ValueError(f"num_classes: {spec.num_classes} is too few for labels up to {int(data.train_y.max())}")
    with torch.random.fork_rng():  # seeds initialization and dropout without disturbing the caller's RNG
        torch.manual_seed(seed)
        model, losses, seconds = _fit(build(spec), data, steps, batch_size, lr, progress, should_stop)
    accuracy = evaluate(model, data.test_x, data.test_y)
    return model, History(tuple(losses), accuracy, len(losses), seconds)


def _fit(model: Net, data: Digits, steps: int, batch_size: int, lr: float, progress: Progress | None,
         should_stop: Callable[[], bool] | None) -> tuple[Net, list[float], float]:
    """AdamW with a short linear warmup and a cosine decay to zero; the model ends in eval mode."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    losses: list[float] = []
    start = time.perf_counter()
    model.train()
    for step in range(steps):
        if should_stop is not None and should_stop():
            break
        idx = torch.randint(len(data.train_x), (batch_size,))
        loss = F.cross_entropy(model(data.train_x[idx]), data.train_y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if progress is not None:
            progress(step + 1, steps, losses[-1])
    return model.eval(), losses, time.perf_counter() - start
