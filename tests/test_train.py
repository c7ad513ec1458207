import numpy as np
import pytest
import torch

from lwviz.compress.train import (DIGITS_CLASSES, DIGITS_STEPS, digit_picture, digits, digits_se_spec, evaluate,
                                  train)
from lwviz.cost.latency import num_threads
from lwviz.explain import has_se


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
