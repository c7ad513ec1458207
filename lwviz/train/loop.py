"""Quick, real training of any design on a :class:`~lwviz.data.Dataset`, on the CPU, in seconds to a minute.

:func:`for_dataset` fits a design to a dataset's pictures and classes. :func:`train` is plain
minibatch AdamW with a cosine schedule; it reports progress, can be stopped, takes any loss
(distillation reuses it), re-estimates batch norm's statistics for the final weights and measures
accuracy on pictures it never trained on. How long it takes and how well it learns are in
docs/BENCHMARKS.md (training on the digits).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from lwviz.builder import Net, build
from lwviz.data import DIGITS_CLASSES, DIGITS_SIZE, Dataset, digits
from lwviz.perf import num_threads
from lwviz.spec import Head, Spec, Stage, Stem
from lwviz.train.batchnorm import BATCH_NORMS, recalibrate_batchnorm

DIGITS_STEPS = 100  # enough for the SE network to pass 95% on the held-out digits (tests/test_train.py)
# The Train page's default: enough for the lab's default design (mobilenet_v2 fitted to 32x32) to learn the digits
# as well as the SE network does in DIGITS_STEPS (benchmarks/train_speed.py).
PAGE_STEPS = 200
# One intra-op thread: on a 2-core machine that is also running anything else (the browser drawing the live
# charts, the server, other sessions) two threads wait on each other at every one of the thousand small
# parallel ops of a step, and were no faster, often much slower (docs/BENCHMARKS.md, training on the digits).
TRAIN_THREADS = 1
# Training pictures batch norm's statistics are re-estimated on after the last step (spread over the set, all
# classes): a small part of a run's time.
BATCHNORM_PICTURES = 1024

TrainingProgress = Callable[[int, int, float], None]
"""``progress(step, total_steps, loss)`` after every optimizer step."""

Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss(logits, labels, index)`` of a minibatch. ``index`` says which training examples it holds,
so a loss can look up targets computed once per example (a teacher's logits)."""


def for_dataset(spec: Spec, data: Dataset) -> Spec:
    """``spec`` fitted to ``data``: its pictures' resolution and its number of classes, nothing else; validated."""
    if spec.in_chs != data.channels:
        raise ValueError(f"in_chs: the design reads {spec.in_chs}-channel pictures, {data.name} has {data.channels}")
    return spec.with_(resolution=data.resolution, num_classes=len(data.classes)).validate()


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
    test_accuracy: float  # on the held-out pictures, after the last step
    steps: int  # steps taken (fewer than asked when stopped)
    seconds: float


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """The default :data:`Loss`: plain cross-entropy against the labels."""
    return F.cross_entropy(logits, labels)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    """Top-1 accuracy of an eval-mode ``model``."""
    with torch.inference_mode():
        correct = sum(
            (model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum().item()
            for i in range(0, len(x), batch_size)
        )
    return correct / len(x)


def train(
    spec: Spec,
    steps: int = DIGITS_STEPS,
    progress: TrainingProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    seed: int = 0,
    data: Dataset | None = None,
    batch_size: int = 64,
    lr: float = 4e-3,
    loss: Loss = cross_entropy,
    threads: int | None = TRAIN_THREADS,
) -> tuple[Net, History]:
    """Train a fresh model of ``spec`` on ``data`` (default: the digits); returns it in eval mode and its history.

    Deterministic for a given seed and thread count (``threads``; None keeps the caller's): the same
    seed gives the same initialization and the same minibatches whatever the loss.
    ``should_stop()`` is asked before every step.

    Batch norm's running statistics are then measured again with the final weights
    (:func:`~lwviz.train.batchnorm.recalibrate_batchnorm`, on ``BATCHNORM_PICTURES`` training
    pictures): in a run of a few dozen steps they lag far behind the weights, and the network
    answered at chance in eval mode without this. In a long run they barely change.
    """
    if steps < 1:
        raise ValueError(f"steps: {steps} is outside 1..")
    data = data if data is not None else digits(spec.resolution)
    if spec.resolution != data.resolution:
        raise ValueError(
            f"resolution: the design reads {spec.resolution}x{spec.resolution} pictures, {data.name} has "
            f"{data.resolution}x{data.resolution} (fit it with for_dataset)"
        )
    if spec.num_classes <= int(data.train_y.max()):
        raise ValueError(f"num_classes: {spec.num_classes} is too few for labels up to {int(data.train_y.max())}")
    # fork_rng seeds initialization and dropout without disturbing the caller's RNG
    with num_threads(threads), torch.random.fork_rng():
        torch.manual_seed(seed)
        model, losses, seconds = fit(build(spec), data, steps, batch_size, lr, progress, should_stop, loss)
        if losses and any(isinstance(m, BATCH_NORMS) for m in model.modules()):
            start = time.perf_counter()
            model = recalibrate_batchnorm(model, data.train_x[spread(len(data.train_x), BATCHNORM_PICTURES)])
            seconds += time.perf_counter() - start
        accuracy = evaluate(model, data.test_x, data.test_y)
    return model, History(tuple(losses), accuracy, len(losses), seconds)


def warmup_cosine(step: int, warmup: int, steps: int) -> float:
    """The learning-rate factor at ``step``: a linear rise over ``warmup`` steps, then a cosine decay to zero."""
    return min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))


def fit(
    model: nn.Module,
    data: Dataset,
    steps: int,
    batch_size: int = 64,
    lr: float = 4e-3,
    progress: TrainingProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    loss_fn: Loss = cross_entropy,
) -> tuple[nn.Module, list[float], float]:
    """``model`` trained in place with AdamW, a short linear warmup and a cosine decay to zero; it ends in eval mode.

    Returns it, the loss after each step and the seconds taken. Seeding and threads are the caller's.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, partial(warmup_cosine, warmup=max(1, steps // 20), steps=steps)
    )
    losses: list[float] = []
    start = time.perf_counter()
    model.train()
    for step in range(steps):
        if should_stop is not None and should_stop():
            break
        idx = torch.randint(len(data.train_x), (batch_size,))
        loss = loss_fn(model(data.train_x[idx]), data.train_y[idx], idx)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if progress is not None:
            progress(step + 1, steps, losses[-1])
    return model.eval(), losses, time.perf_counter() - start


def spread(n: int, count: int) -> torch.Tensor:
    """Indices of ``count`` of ``n`` examples spread evenly over them (all classes, whatever their order);
    all if fewer."""
    return torch.linspace(0, n - 1, min(count, n)).long()
