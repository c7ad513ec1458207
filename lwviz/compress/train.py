"""Quick, real training on small picture datasets: handwritten digits offline, CIFAR-10 once downloaded.

A classroom needs a trained network in seconds. scikit-learn's 1797 8x8 digits ship with the app:
upsampled to 32x32 RGB so they pass through the same blocks as photos, split once into a fixed
train and test set. CIFAR-10's 32x32 photos (airplanes, cats, trucks, ...) are a real, harder task
that torchvision downloads once. Both become a :class:`Dataset` of normalized tensors, and
:func:`for_dataset` fits any design to one. :func:`train` is plain minibatch AdamW with a cosine
schedule; it reports progress, can be stopped, takes any loss (distillation reuses it), re-estimates
batch norm's statistics for the final weights and measures accuracy on pictures it never trained on.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from http.client import HTTPException
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.datasets import CIFAR10
from torchvision.datasets.utils import check_integrity

from lwviz.builder import Net, build
from lwviz.compress.batchnorm import BATCH_NORMS, recalibrate_batchnorm
from lwviz.perf import num_threads
from lwviz.spec import Head, Spec, Stage, Stem
from lwviz.weights.base import Progress as DownloadProgress
from lwviz.weights.hub import _reason, download

DIGITS_SIZE = 32  # 8x8 upsampled: room for three stride-2 steps down to 4x4 maps
DIGITS_CLASSES = tuple(str(d) for d in range(10))
DIGITS_MEAN = DIGITS_STD = (0.5, 0.5, 0.5)  # ink in [0, 1] -> [-1, 1]
TEST_FRACTION = 0.2
DIGITS_STEPS = 100  # 97-98% held-out accuracy in about 7 s on one core (tests/test_train.py asserts >= 95%)
# The Train page's default: the lab's default design (mobilenet_v2 fitted to 32x32) reached 96.7-97.5% held-out on the
# digits in 55 s of one core (seeds 0 and 1; benchmarks/train_speed.py); the SE network takes 14 s.
PAGE_STEPS = 200
# One intra-op thread: on a 2-core machine that is also running anything else (the browser drawing the live
# charts, the server, other sessions) two threads wait on each other at every one of the thousand small
# parallel ops of a step. 300 steps of mobilenet_v2 at 32x32 on the digits: about 85 s of one core with one
# thread; 2.2 to 6.2 s per step (rather than 0.3) with two threads while other processes kept the cores busy.
TRAIN_THREADS = 1
# Training pictures batch norm's statistics are re-estimated on after the last step (spread over the set, all
# classes): 0.3 s for the SE network, 0.6 s for mobilenet_v2 at 32x32.
BATCHNORM_PICTURES = 1024

# A fixed, class-balanced part of CIFAR-10. A few hundred steps of 64 see about 20,000 pictures: two passes
# over 10,000, which take 123 MB as float32 where all 50,000 would take 614 MB. 2,000 test pictures measure
# accuracy to about 1 point (one standard error).
CIFAR10_TRAIN_PER_CLASS = 1000
CIFAR10_TEST_PER_CLASS = 200
CIFAR10_DOWNLOAD_MB = 170  # cifar-10-python.tar.gz: 170,498,071 bytes
_CIFAR10_LOCK = threading.Lock()  # two sessions asking at once: one download, one unpacking

Progress = Callable[[int, int, float], None]
"""``progress(step, total_steps, loss)`` after every optimizer step."""

Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss(logits, labels, index)`` of a minibatch. ``index`` says which training examples it holds,
so a loss can look up targets computed once per example (a teacher's logits)."""


class DatasetUnavailable(RuntimeError):
    """The dataset is not on this machine (and could not be fetched); the message says how to get it."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Pictures ``[N, C, H, W]`` normalized as ``(pixel - mean) / std`` per channel, with labels ``[N]``.

    ``train_*`` is what a network learns from, ``test_*`` what its accuracy is measured on; the
    two never share a picture.
    """

    name: str
    classes: tuple[str, ...]
    train_x: torch.Tensor = field(repr=False)
    train_y: torch.Tensor = field(repr=False)
    test_x: torch.Tensor = field(repr=False)
    test_y: torch.Tensor = field(repr=False)
    mean: tuple[float, ...]  # per channel, of pixels in [0, 1]
    std: tuple[float, ...]

    @property
    def resolution(self) -> int:
        return self.train_x.shape[-1]

    @property
    def channels(self) -> int:
        return self.train_x.shape[1]

    def picture(self, x: torch.Tensor, scale: int = 4) -> np.ndarray:
        """One input ``[C, H, W]`` back as an ``[H*scale, W*scale, 3]`` uint8 picture, pixels kept square."""
        return picture(x, self.mean, self.std, scale)


Digits = Dataset  # the name from when the digits were the only dataset


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``[N, C, H, W]`` pixels in [0, 1] -> network inputs ``(x - mean) / std`` per channel."""
    return (x - _per_channel(mean)) / _per_channel(std)


def images_to_inputs(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 pictures ``[N, H, W, C]`` (how datasets store them) -> normalized float inputs ``[N, C, H, W]``."""
    return normalize(torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(255), mean, std)


def picture(x: torch.Tensor, mean: Sequence[float], std: Sequence[float], scale: int = 4) -> np.ndarray:
    """A normalized input ``[C, H, W]`` back as an ``[H*scale, W*scale, 3]`` uint8 picture (gray repeated)."""
    rgb = ((x * _per_channel(std) + _per_channel(mean)).clamp(0, 1) * 255).round().byte()
    rgb = rgb.expand(3, -1, -1).permute(1, 2, 0).numpy()
    return np.ascontiguousarray(rgb.repeat(scale, axis=0).repeat(scale, axis=1))


def _per_channel(values: Sequence[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)[:, None, None]


def per_class(labels: np.ndarray, count: Callable[[int], int]) -> np.ndarray:
    """Sorted indices of ``count(n)`` of each class's ``n`` examples, drawn with a fixed seed (the same everywhere)."""
    rng = np.random.default_rng(0)
    return np.sort(np.concatenate([rng.permutation(members)[:count(len(members))]
                                   for members in (np.flatnonzero(labels == c) for c in range(labels.max() + 1))]))


# ----- handwritten digits (offline) -----------------------------------------------------

@cache
def digits(size: int = DIGITS_SIZE) -> Dataset:
    """The digits as network inputs, with a fixed, class-stratified 80/20 split (the same on every machine)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.from_numpy(data.images).float().div(16.0)[:, None]  # 0..16 ink -> [0, 1], [N, 1, 8, 8]
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
    x = normalize(x.repeat(1, 3, 1, 1), DIGITS_MEAN, DIGITS_STD)
    y = torch.from_numpy(data.target).long()
    is_test = np.zeros(len(y), dtype=bool)
    is_test[per_class(data.target, lambda n: round(TEST_FRACTION * n))] = True
    train_idx, test_idx = torch.from_numpy(np.flatnonzero(~is_test)), torch.from_numpy(np.flatnonzero(is_test))
    return Dataset("digits", DIGITS_CLASSES, x[train_idx], y[train_idx], x[test_idx], y[test_idx],
                   DIGITS_MEAN, DIGITS_STD)


def digit_picture(x: torch.Tensor, scale: int = 4) -> np.ndarray:
    """A digits input ``[3, H, W]`` back as an ``[H*scale, W*scale, 3]`` uint8 picture, pixels kept square."""
    return picture(x, DIGITS_MEAN, DIGITS_STD, scale)


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


# ----- datasets from arrays (CIFAR-10) ---------------------------------------------------

def from_arrays(name: str, classes: Sequence[str], train: tuple[np.ndarray, np.ndarray],
                test: tuple[np.ndarray, np.ndarray], train_per_class: int | None = None,
                test_per_class: int | None = None) -> Dataset:
    """A dataset from uint8 pictures ``[N, H, W, C]`` and integer labels ``[N]``, split as given.

    ``*_per_class`` keep a fixed, class-balanced subset (all when None). Inputs are normalized with
    the kept training pictures' per-channel mean and std, as the test pictures would be in use.
    """
    kept = {}
    for split, (images, labels), count in (("train", train, train_per_class), ("test", test, test_per_class)):
        labels = np.asarray(labels)
        if len(images) != len(labels):
            raise ValueError(f"{split}: {len(images)} pictures but {len(labels)} labels")
        if labels.min() < 0 or labels.max() >= len(classes):
            raise ValueError(f"{split} labels: must be in 0..{len(classes) - 1}, got {labels.min()}..{labels.max()}")
        index = np.arange(len(labels)) if count is None else per_class(labels, partial(min, count))
        kept[split] = images[index], torch.from_numpy(labels[index]).long()
    pixels = torch.from_numpy(kept["train"][0]).float().div(255).flatten(0, -2)  # [N*H*W, C]
    mean, std = tuple(pixels.mean(0).tolist()), tuple(pixels.std(0).tolist())
    (train_x, train_y), (test_x, test_y) = ((images_to_inputs(images, mean, std), y) for images, y in kept.values())
    return Dataset(name, tuple(classes), train_x, train_y, test_x, test_y, mean, std)


def datasets_dir() -> Path:
    """Where downloaded datasets are kept: ``$TORCH_HOME/hub/datasets``, beside the pretrained weights."""
    return Path(torch.hub.get_dir()) / "datasets"


def cifar10_missing(root: Path | str | None = None) -> str | None:
    """Why CIFAR-10 cannot be loaded without a network (what is missing, how to get it), or None."""
    root = Path(root) if root is not None else datasets_dir()
    folder = root / CIFAR10.base_folder
    files = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list] + [CIFAR10.meta["filename"]]
    if all((folder / name).is_file() for name in files):
        return None
    return (f"CIFAR-10 is not on this machine: {folder} is missing. Download it once with internet "
            f"({CIFAR10_DOWNLOAD_MB} MB, by choosing CIFAR-10 in the app or calling "
            f"lwviz.compress.train.cifar10()), or copy that folder from a machine that has it (set TORCH_HOME to "
            f"use a cache elsewhere).")


def cifar10(root: Path | str | None = None, progress: DownloadProgress | None = None) -> Dataset:
    """CIFAR-10's 32x32 photos in 10 classes, downloaded once into ``root`` (default :func:`datasets_dir`).

    Keeps a fixed ``CIFAR10_TRAIN_PER_CLASS`` training and ``CIFAR10_TEST_PER_CLASS`` test pictures
    of each class. The archive comes through our chunked download only so that ``progress(done_bytes,
    total_bytes)`` can follow it; torchvision's ``CIFAR10(download=True)`` then checks and unpacks it.
    Raises :class:`DatasetUnavailable` when the files are missing and cannot be fetched, or are damaged.
    """
    root = (Path(root) if root is not None else datasets_dir()).resolve()
    with _CIFAR10_LOCK:
        if (reason := cifar10_missing(root)) is not None:
            _fetch_cifar10_archive(root / CIFAR10.filename, reason, progress)
        return _load_cifar10(root)


def _fetch_cifar10_archive(archive: Path, reason: str, progress: DownloadProgress | None) -> None:
    if check_integrity(str(archive), CIFAR10.tgz_md5):  # downloaded (or copied) before, not unpacked yet
        return
    try:
        download(CIFAR10.url, archive, progress)
    except (OSError, HTTPException, ValueError) as exc:
        raise DatasetUnavailable(f"{reason} Downloading it failed: {_reason(exc)}.") from exc
    if not check_integrity(str(archive), CIFAR10.tgz_md5):
        archive.unlink()
        raise DatasetUnavailable(f"{reason} The download was damaged (wrong MD5); try again.")


@cache
def _load_cifar10(root: Path) -> Dataset:
    """Unpacks the archive if it is there (then deletes it), checks every file's MD5, keeps the subsets."""
    try:
        train, test = (CIFAR10(str(root), train=split, download=True) for split in (True, False))
    except RuntimeError as exc:  # torchvision's "not found or corrupted"
        raise DatasetUnavailable(f"{root / CIFAR10.base_folder} is damaged ({_reason(exc)}): delete it and "
                                 "download CIFAR-10 again.") from exc
    (root / CIFAR10.filename).unlink(missing_ok=True)  # unpacked and checked: 170 MB less on a laptop's disk
    return from_arrays("cifar10", train.classes, (train.data, train.targets), (test.data, test.targets),
                       CIFAR10_TRAIN_PER_CLASS, CIFAR10_TEST_PER_CLASS)


def for_dataset(spec: Spec, data: Dataset) -> Spec:
    """``spec`` fitted to ``data``: its pictures' resolution and its number of classes, nothing else; validated."""
    if spec.in_chs != data.channels:
        raise ValueError(f"in_chs: the design reads {spec.in_chs}-channel pictures, {data.name} has {data.channels}")
    return spec.with_(resolution=data.resolution, num_classes=len(data.classes)).validate()


# ----- training --------------------------------------------------------------------------

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
        correct = sum((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
                      for i in range(0, len(x), batch_size))
    return correct / len(x)


def train(spec: Spec, steps: int = DIGITS_STEPS, progress: Progress | None = None,
          should_stop: Callable[[], bool] | None = None, seed: int = 0, data: Dataset | None = None,
          batch_size: int = 64, lr: float = 4e-3, loss: Loss = cross_entropy,
          threads: int | None = TRAIN_THREADS) -> tuple[Net, History]:
    """Train a fresh model of ``spec`` on ``data`` (default: the digits); returns it in eval mode and its history.

    Deterministic for a given seed and thread count (``threads``; None keeps the caller's): the same
    seed gives the same initialization and the same minibatches whatever the loss.
    ``should_stop()`` is asked before every step.

    Batch norm's running statistics are then measured again with the final weights
    (:func:`recalibrate_batchnorm`, on ``BATCHNORM_PICTURES`` training pictures): in a run of a few
    dozen steps they lag far behind the weights, and the network answered at chance in eval mode
    (10% on the digits after 50 steps, 93% with them re-estimated). In a long run they barely change.
    """
    if steps < 1:
        raise ValueError(f"steps: {steps} is outside 1..")
    data = data if data is not None else digits(spec.resolution)
    if spec.resolution != data.resolution:
        raise ValueError(f"resolution: the design reads {spec.resolution}x{spec.resolution} pictures, {data.name} has "
                         f"{data.resolution}x{data.resolution} (fit it with for_dataset)")
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


def fit(model: nn.Module, data: Dataset, steps: int, batch_size: int = 64, lr: float = 4e-3,
        progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
        loss_fn: Loss = cross_entropy) -> tuple[nn.Module, list[float], float]:
    """``model`` trained in place with AdamW, a short linear warmup and a cosine decay to zero; it ends in eval mode.

    Returns it, the loss after each step and the seconds taken. Seeding and threads are the caller's.
    """
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
    """Indices of ``count`` of ``n`` examples spread evenly over them (all classes, whatever their order); all if fewer."""
    return torch.linspace(0, n - 1, min(count, n)).long()
