"""Small picture datasets to train on: handwritten digits offline, CIFAR-10 once downloaded.

A classroom needs a trained network in seconds. scikit-learn's 1797 8x8 digits ship with the app:
upsampled to 32x32 RGB so they pass through the same blocks as photos, split once into a fixed
train and test set. CIFAR-10's 32x32 photos (airplanes, cats, trucks, ...) are a real, harder task
that is downloaded once. Both become a :class:`Dataset` of normalized tensors, the one thing
:mod:`lwviz.train.loop` trains on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from http.client import HTTPException
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.datasets import CIFAR10
from torchvision.datasets.utils import check_integrity

from lwviz.errors import PhrasedError
from lwviz.i18n import N_, Phrase
from lwviz.weights.base import DownloadProgress
from lwviz.weights.hub import DAMAGED, DOWNLOAD_FAILED, describe_error, download

DIGITS_SIZE = 32  # 8x8 upsampled: room for three stride-2 steps down to 4x4 maps
DIGITS_CLASSES = tuple(str(d) for d in range(10))
DIGITS_MEAN = DIGITS_STD = (0.5, 0.5, 0.5)  # ink in [0, 1] -> [-1, 1]
TEST_FRACTION = 0.2

# A fixed, class-balanced part of CIFAR-10. A few hundred steps of 64 see about 20,000 pictures: two passes
# over 10,000, which take 123 MB as float32 where all 50,000 would take 614 MB. 2,000 test pictures measure
# accuracy to about 1 point (one standard error).
CIFAR10_TRAIN_PER_CLASS = 1000
CIFAR10_TEST_PER_CLASS = 200
CIFAR10_DOWNLOAD_MB = 170  # cifar-10-python.tar.gz: 170,498,071 bytes
_CIFAR10_LOCK = threading.Lock()  # two sessions asking at once: one download, one unpacking


class DatasetUnavailable(PhrasedError, RuntimeError):
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
    return np.sort(
        np.concatenate(
            [
                rng.permutation(members)[: count(len(members))]
                for members in (np.flatnonzero(labels == c) for c in range(labels.max() + 1))
            ]
        )
    )


# ----- handwritten digits (offline) -----------------------------------------------------


def _test_share(n: int) -> int:
    """How many of a class's ``n`` digits are held out for testing."""
    return round(TEST_FRACTION * n)


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
    is_test[per_class(data.target, _test_share)] = True
    train_idx, test_idx = torch.from_numpy(np.flatnonzero(~is_test)), torch.from_numpy(np.flatnonzero(is_test))
    return Dataset(
        "digits", DIGITS_CLASSES, x[train_idx], y[train_idx], x[test_idx], y[test_idx], DIGITS_MEAN, DIGITS_STD
    )


# ----- datasets from arrays (CIFAR-10) ---------------------------------------------------


def from_arrays(
    name: str,
    classes: Sequence[str],
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    train_per_class: int | None = None,
    test_per_class: int | None = None,
) -> Dataset:
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


def cifar10_missing(root: Path | str | None = None) -> Phrase | None:
    """Why CIFAR-10 cannot be loaded without a network (what is missing, how to get it), or None."""
    root = Path(root) if root is not None else datasets_dir()
    folder = root / CIFAR10.base_folder
    files = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list] + [CIFAR10.meta["filename"]]
    if all((folder / name).is_file() for name in files):
        return None
    return Phrase(
        "CIFAR-10 is not on this machine: {folder} is missing. Download it once with internet ({mb} MB, by "
        "choosing CIFAR-10 in the app or calling lwviz.data.cifar10()), or copy that folder from a machine that "
        "has it (set TORCH_HOME to use a cache elsewhere).",
        folder=folder,
        mb=CIFAR10_DOWNLOAD_MB,
    )


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
        raise DatasetUnavailable(DOWNLOAD_FAILED, reason=reason, error=describe_error(exc)) from exc
    if not check_integrity(str(archive), CIFAR10.tgz_md5):
        archive.unlink()
        raise DatasetUnavailable(N_("{reason} The download was damaged (wrong MD5); try again."), reason=reason)


@cache
def _load_cifar10(root: Path) -> Dataset:
    """Unpacks the archive if it is there (then deletes it), checks every file's MD5, keeps the subsets."""
    try:
        train, test = (CIFAR10(str(root), train=split, download=True) for split in (True, False))
    except RuntimeError as exc:  # torchvision's "not found or corrupted"
        raise DatasetUnavailable(DAMAGED, path=root / CIFAR10.base_folder, error=describe_error(exc)) from exc
    (root / CIFAR10.filename).unlink(missing_ok=True)  # unpacked and checked: 170 MB less on a laptop's disk
    return from_arrays(
        "cifar10",
        train.classes,
        (train.data, train.targets),
        (test.data, test.targets),
        CIFAR10_TRAIN_PER_CLASS,
        CIFAR10_TEST_PER_CLASS,
    )
