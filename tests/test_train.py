from dataclasses import replace
from unittest import mock
from urllib.error import URLError

import numpy as np
import pytest
import torch

from lwviz.builder import build
from lwviz.compress import train as train_module
from lwviz.compress.train import (BATCHNORM_PICTURES, DIGITS_CLASSES, DIGITS_STEPS, TRAIN_THREADS, Dataset, DatasetUnavailable, Digits,
                                  cifar10, cifar10_missing, cross_entropy, datasets_dir, digit_picture, digits,
                                  digits_se_spec, evaluate, for_dataset, from_arrays, images_to_inputs, per_class,
                                  spread, train)
from lwviz.perf import num_threads
from lwviz.explain import has_se
from lwviz.presets import get_preset


def test_digits_split_is_fixed_stratified_and_disjoint():
    data = digits()
    assert data.train_x.shape == (1438, 3, 32, 32) and data.test_x.shape == (359, 3, 32, 32)
    assert data.train_x.min() >= -1 and data.train_x.max() <= 1
    test_counts = torch.bincount(data.test_y, minlength=10)
    assert test_counts.min() >= 35 and test_counts.max() <= 37  # 20% of each class's ~180 digits
    train_rows = {row.numpy().tobytes() for row in data.train_x.flatten(1)}
    assert not any(row.numpy().tobytes() in train_rows for row in data.test_x.flatten(1))
    assert digits() is data  # loaded once


def test_the_se_network_learns_the_digits():
    """The page's promise: DIGITS_STEPS steps reach at least 95% on digits never trained on."""
    calls = []
    with num_threads(1):  # the same run on every machine, and unhurt by other processes on a busy one
        model, history = train(digits_se_spec(), progress=lambda step, total, loss: calls.append((step, total)))
    assert history.test_accuracy >= 0.95, history.test_accuracy
    assert history.steps == DIGITS_STEPS == len(history.losses) and calls[-1] == (DIGITS_STEPS, DIGITS_STEPS)
    assert np.mean(history.losses[-10:]) < np.mean(history.losses[:10]) / 5
    assert not model.training and has_se(model) and model.spec.num_classes == len(DIGITS_CLASSES)
    assert evaluate(model, digits().test_x, digits().test_y) == history.test_accuracy


def test_a_short_run_ends_with_batchnorm_statistics_of_its_final_weights():
    """50 steps: the running averages still describe early weights; re-estimated, the network answers well."""
    model, history = train(digits_se_spec(), steps=50)
    assert history.test_accuracy >= 0.85, history.test_accuracy  # 10% with the running averages as trained
    pictures = digits().train_x[spread(1438, BATCHNORM_PICTURES)]
    seen = []  # what the first batch norm normalizes: the stem convolution's output, in batches of 64
    model.stem.conv.conv.register_forward_hook(lambda _m, _a, out: seen.append(out))
    with torch.inference_mode():
        for batch in pictures.split(64):
            model(batch)
    bn = model.stem.conv.bn
    assert torch.allclose(bn.running_mean, torch.stack([s.mean((0, 2, 3)) for s in seen]).mean(0), atol=1e-5)
    assert torch.allclose(bn.running_var, torch.stack([s.var((0, 2, 3)) for s in seen]).mean(0), rtol=1e-4)


def test_same_seed_same_run_and_stopping_early():
    a = train(digits_se_spec(), steps=3, seed=1)[1]
    b = train(digits_se_spec(), steps=3, seed=1)[1]
    assert a.losses == b.losses and a.test_accuracy == b.test_accuracy
    assert train(digits_se_spec(), steps=3, seed=2)[1].losses != a.losses
    asked = []
    _, stopped = train(digits_se_spec(), steps=50, should_stop=lambda: len(asked) == 2 or asked.append(1))
    assert stopped.steps == 2 and len(stopped.losses) == 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="steps: 0 is outside 1.."):
        train(digits_se_spec(), steps=0)
    with pytest.raises(ValueError, match="num_classes: 5 is too few for labels up to 9"):
        train(digits_se_spec().with_(num_classes=5), steps=1)


def test_digit_picture_shows_the_input():
    x = digits().test_x[0]
    picture = digit_picture(x, scale=4)
    assert picture.shape == (128, 128, 3) and picture.dtype == np.uint8
    assert np.array_equal(picture[::4, ::4, 0], ((x[0] * 0.5 + 0.5) * 255).round().byte().numpy())


# ----- datasets beyond the digits ---------------------------------------------------------

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
    data = from_arrays("toy", ["a", "b", "c"], (train_images, train_labels), (test_images, test_labels),
                       train_per_class=5, test_per_class=2)
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
    assert data.mean == data.std == (0.5, 0.5, 0.5) and Digits is Dataset
    assert np.array_equal(data.picture(data.test_x[3]), digit_picture(data.test_x[3]))


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty TORCH_HOME and no network: CIFAR-10's download fails as it does offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    offline = mock.Mock(side_effect=URLError("[Errno -3] Temporary failure in name resolution"))
    monkeypatch.setattr(train_module, "download", offline)
    return tmp_path / "torch"


def test_cifar10_offline_says_what_is_missing_and_how_to_get_it(torch_home):
    folder = torch_home / "hub" / "datasets" / "cifar-10-batches-py"
    assert datasets_dir() == torch_home / "hub" / "datasets"
    assert cifar10_missing() == (
        f"CIFAR-10 is not on this machine: {folder} is missing. Download it once with internet (170 MB, by choosing "
        "CIFAR-10 in the app or calling lwviz.compress.train.cifar10()), or copy that folder from a machine that "
        "has it (set TORCH_HOME to use a cache elsewhere).")
    with pytest.raises(DatasetUnavailable) as failure:
        cifar10()
    assert str(failure.value) == (f"{cifar10_missing()} Downloading it failed: "
                                  "[Errno -3] Temporary failure in name resolution.")
    (url, archive, _), _ = train_module.download.call_args
    assert url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert archive == torch_home / "hub" / "datasets" / "cifar-10-python.tar.gz" and not archive.exists()


def test_a_damaged_cifar10_download_is_deleted(torch_home):
    def damaged(url, dst, progress):
        dst.parent.mkdir(parents=True)
        dst.write_bytes(b"not the archive")
        progress(15, 15)

    train_module.download.side_effect = damaged
    seen = []
    with pytest.raises(DatasetUnavailable, match=r"is missing\. .* The download was damaged \(wrong MD5\); try again"):
        cifar10(progress=lambda done, total: seen.append((done, total)))
    assert seen == [(15, 15)] and not any((torch_home / "hub" / "datasets").iterdir())


# ----- fitting designs and the loss hook --------------------------------------------------

FITTED = ("mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2_x1_0", "mobilenet_v1",
          "squeezenet1_1", "mnasnet1_0")


@pytest.mark.parametrize("name", FITTED)
def test_for_dataset_changes_resolution_and_classes_only(name):
    spec = get_preset(name)
    fitted = for_dataset(spec, digits())
    assert (fitted.resolution, fitted.num_classes) == (32, 10) and fitted.validate() is fitted
    assert fitted.with_(resolution=spec.resolution, num_classes=spec.num_classes) == spec
    assert build(fitted)(digits().test_x[:2]).shape == (2, 10)


def test_for_dataset_refuses_other_channels():
    gray = from_arrays("gray", "ab", (np.zeros((2, 8, 8, 1), np.uint8), np.array([0, 1])),
                       (np.zeros((2, 8, 8, 1), np.uint8), np.array([0, 1])))
    with pytest.raises(ValueError, match="in_chs: the design reads 3-channel pictures, gray has 1"):
        for_dataset(get_preset("mobilenet_v2"), gray)


@pytest.mark.parametrize("name", ("mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2_x1_0"))
def test_lab_designs_train_at_32x32(name):
    model, history = train(for_dataset(get_preset(name), digits()), steps=2, batch_size=16)
    assert history.steps == 2 and all(np.isfinite(history.losses)) and not model.training


def test_a_design_must_be_fitted_to_the_dataset():
    with pytest.raises(ValueError, match=r"resolution: the design reads 64x64 pictures, digits has 32x32 \(fit it "
                                         r"with for_dataset\)"):
        train(digits_se_spec().with_(resolution=64), steps=1, data=digits())


def test_the_loss_hook_sees_each_minibatch_and_decides_what_is_learned():
    data, seen = digits(), []

    def everything_is_a_zero(logits, labels, index):
        seen.append((index, labels))
        return cross_entropy(logits, torch.zeros_like(labels), index)

    plain = train(digits_se_spec(), steps=3, seed=4)[1]
    assert train(digits_se_spec(), steps=3, seed=4, loss=cross_entropy)[1].losses == plain.losses
    _, zeros = train(digits_se_spec(), steps=10, seed=4, loss=everything_is_a_zero)
    assert len(seen) == 10 and all(len(index) == 64 and torch.equal(labels, data.train_y[index])
                                   for index, labels in seen)
    assert zeros.test_accuracy == 36 / 359 and int((data.test_y == 0).sum()) == 36  # it answers 0, always


def test_training_runs_on_its_own_thread_count_and_gives_the_callers_back():
    during, few = [], replace(digits(), test_x=digits().test_x[:8], test_y=digits().test_y[:8])
    with num_threads(2):
        train(digits_se_spec(), steps=2, data=few, progress=lambda *_: during.append(torch.get_num_threads()))
        assert torch.get_num_threads() == 2
        train(digits_se_spec(), steps=1, data=few, threads=None, batch_size=8,
              progress=lambda *_: during.append(torch.get_num_threads()))
    assert during == [TRAIN_THREADS, TRAIN_THREADS, 2] and TRAIN_THREADS == 1
