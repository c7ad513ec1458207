"""Datasets: the digits offline with a fixed split, datasets from arrays, CIFAR-10 offline and damaged."""

from unittest import mock
from urllib.error import URLError

import numpy as np
import pytest
import torch

from lwviz import data as data_module
from lwviz.data import (
    DIGITS_CLASSES,
    Dataset,
    DatasetUnavailable,
    cifar10,
    cifar10_missing,
    datasets_dir,
    digits,
    from_arrays,
    images_to_inputs,
    per_class,
)


def test_digits_split_is_fixed_stratified_and_disjoint():
    data = digits()
    assert data.train_x.shape == (1438, 3, 32, 32) and data.test_x.shape == (359, 3, 32, 32)
    assert data.train_x.min() >= -1 and data.train_x.max() <= 1
    test_counts = torch.bincount(data.test_y, minlength=10)
    assert test_counts.min() >= 35 and test_counts.max() <= 37  # 20% of each class's ~180 digits
    train_rows = {row.numpy().tobytes() for row in data.train_x.flatten(1)}
    assert not any(row.numpy().tobytes() in train_rows for row in data.test_x.flatten(1))
    assert digits() is data  # loaded once


def test_a_digit_input_shows_as_its_picture():
    data = digits()
    x = data.test_x[0]
    picture = data.picture(x, scale=4)
    assert picture.shape == (128, 128, 3) and picture.dtype == np.uint8
    assert np.array_equal(picture[::4, ::4, 0], ((x[0] * 0.5 + 0.5) * 255).round().byte().numpy())


def test_images_become_normalized_channels_first_inputs():
    images = np.array([[[[0, 128, 255], [255, 0, 51]]]], dtype=np.uint8)  # one 1x2 picture, [N, H, W, C]
    x = images_to_inputs(images, mean=(0.5, 0.0, 1.0), std=(0.5, 1.0, 0.2))
    assert x.shape == (1, 3, 1, 2) and x.dtype == torch.float32
    expected = [[[-1.0, 1.0]], [[128 / 255, 0.0]], [[0.0, (51 / 255 - 1.0) / 0.2]]]
    assert torch.allclose(x[0], torch.tensor(expected), atol=1e-6)


def test_a_dataset_from_arrays_keeps_balanced_subsets_normalized_by_the_training_pictures():
    rng = np.random.default_rng(1)
    train_images = rng.integers(0, 256, (30, 4, 4, 3), dtype=np.uint8)
    train_labels = np.repeat([0, 1, 2], [12, 10, 8])
    test_images = rng.integers(0, 256, (9, 4, 4, 3), dtype=np.uint8)
    test_labels = np.array([2, 1, 0] * 3)
    data = from_arrays(
        "toy",
        ["a", "b", "c"],
        (train_images, train_labels),
        (test_images, test_labels),
        train_per_class=5,
        test_per_class=2,
    )
    assert data.name == "toy" and data.classes == ("a", "b", "c") and data.resolution == 4 and data.channels == 3
    assert torch.bincount(data.train_y).tolist() == [5, 5, 5] and torch.bincount(data.test_y).tolist() == [2, 2, 2]
    kept = per_class(train_labels, lambda n: 5)
    assert np.array_equal(kept, np.sort(kept)) and np.array_equal(data.train_y.numpy(), train_labels[kept])
    pixels = train_images[kept].reshape(-1, 3) / 255
    assert np.allclose(data.mean, pixels.mean(0), atol=1e-6) and np.allclose(data.std, pixels.std(0, ddof=1), atol=1e-6)
    flat = data.train_x.permute(0, 2, 3, 1).reshape(-1, 3)
    assert torch.allclose(flat.mean(0), torch.zeros(3), atol=1e-5) and torch.allclose(flat.std(0), torch.ones(3))
    shown = per_class(test_labels, lambda n: 2)
    for x, original in zip(data.test_x, test_images[shown]):  # the pictures come back exactly
        assert np.array_equal(data.picture(x, scale=1), original)
    assert data.picture(data.test_x[0], scale=3).shape == (12, 12, 3)
    with pytest.raises(ValueError, match=r"train labels: must be in 0..2, got 0..3"):
        from_arrays("toy", "abc", (train_images, train_labels + (train_labels == 2)), (test_images, test_labels))
    with pytest.raises(ValueError, match="test: 9 pictures but 8 labels"):
        from_arrays("toy", "abc", (train_images, train_labels), (test_images, test_labels[:8]))


def test_digits_are_a_dataset_like_any_other():
    data = digits()
    assert data.name == "digits" and data.classes == DIGITS_CLASSES and data.resolution == 32
    assert data.mean == data.std == (0.5, 0.5, 0.5) and isinstance(data, Dataset)


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty TORCH_HOME and no network: CIFAR-10's download fails as it does offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    offline = mock.Mock(side_effect=URLError("[Errno -3] Temporary failure in name resolution"))
    monkeypatch.setattr(data_module, "download", offline)
    return tmp_path / "torch"


def test_cifar10_offline_says_what_is_missing_and_how_to_get_it(torch_home):
    folder = torch_home / "hub" / "datasets" / "cifar-10-batches-py"
    assert datasets_dir() == torch_home / "hub" / "datasets"
    assert cifar10_missing() == (
        f"CIFAR-10 is not on this machine: {folder} is missing. Download it once with internet (170 MB, by choosing "
        "CIFAR-10 in the app or calling lwviz.data.cifar10()), or copy that folder from a machine that "
        "has it (set TORCH_HOME to use a cache elsewhere)."
    )
    with pytest.raises(DatasetUnavailable) as failure:
        cifar10()
    assert str(failure.value) == (
        f"{cifar10_missing()} The download failed: [Errno -3] Temporary failure in name resolution."
    )
    (url, archive, _), _ = data_module.download.call_args
    assert url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert archive == torch_home / "hub" / "datasets" / "cifar-10-python.tar.gz" and not archive.exists()


def test_a_damaged_cifar10_download_is_deleted(torch_home):
    def damaged(url, dst, progress):
        dst.parent.mkdir(parents=True)
        dst.write_bytes(b"not the archive")
        progress(15, 15)

    data_module.download.side_effect = damaged
    seen = []
    with pytest.raises(DatasetUnavailable, match=r"is missing\. .* The download was damaged \(wrong MD5\); try again"):
        cifar10(progress=lambda done, total: seen.append((done, total)))
    assert seen == [(15, 15)] and not any((torch_home / "hub" / "datasets").iterdir())
