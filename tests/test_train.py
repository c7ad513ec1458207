"""Quick training: the digits learned to the stated accuracy, seeded, stoppable, any loss, any fitted design."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from lwviz.builder import build
from lwviz.data import DIGITS_CLASSES, digits, from_arrays
from lwviz.explain import has_se
from lwviz.hooks import forward_hooks
from lwviz.perf import num_threads
from lwviz.presets import get_preset
from lwviz.train.loop import (
    BATCHNORM_PICTURES,
    DIGITS_STEPS,
    TRAIN_THREADS,
    cross_entropy,
    digits_se_spec,
    evaluate,
    for_dataset,
    spread,
    train,
)


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
    with forward_hooks(post=[(model.stem.conv.conv, lambda _m, _a, out: seen.append(out))]), torch.inference_mode():
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


# ----- fitting designs and the loss hook --------------------------------------------------

FITTED = (
    "mobilenet_v2",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "shufflenet_v2_x1_0",
    "mobilenet_v1",
    "squeezenet1_1",
    "mnasnet1_0",
)


@pytest.mark.parametrize("name", FITTED)
def test_for_dataset_changes_resolution_and_classes_only(name):
    spec = get_preset(name)
    fitted = for_dataset(spec, digits())
    assert (fitted.resolution, fitted.num_classes) == (32, 10) and fitted.validate() is fitted
    assert fitted.with_(resolution=spec.resolution, num_classes=spec.num_classes) == spec
    assert build(fitted)(digits().test_x[:2]).shape == (2, 10)


def test_for_dataset_refuses_other_channels():
    gray = from_arrays(
        "gray",
        "ab",
        (np.zeros((2, 8, 8, 1), np.uint8), np.array([0, 1])),
        (np.zeros((2, 8, 8, 1), np.uint8), np.array([0, 1])),
    )
    with pytest.raises(ValueError, match="in_chs: the design reads 3-channel pictures, gray has 1"):
        for_dataset(get_preset("mobilenet_v2"), gray)


@pytest.mark.parametrize("name", ("mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2_x1_0"))
def test_lab_designs_train_at_32x32(name):
    model, history = train(for_dataset(get_preset(name), digits()), steps=2, batch_size=16)
    assert history.steps == 2 and all(np.isfinite(history.losses)) and not model.training


def test_a_design_must_be_fitted_to_the_dataset():
    with pytest.raises(
        ValueError,
        match=r"resolution: the design reads 64x64 pictures, digits has 32x32 \(fit it "
        r"with for_dataset\)",
    ):
        train(digits_se_spec().with_(resolution=64), steps=1, data=digits())


def test_the_loss_hook_sees_each_minibatch_and_decides_what_is_learned():
    data, seen = digits(), []

    def everything_is_a_zero(logits, labels, index):
        seen.append((index, labels))
        return cross_entropy(logits, torch.zeros_like(labels), index)

    plain = train(digits_se_spec(), steps=3, seed=4)[1]
    assert train(digits_se_spec(), steps=3, seed=4, loss=cross_entropy)[1].losses == plain.losses
    _, zeros = train(digits_se_spec(), steps=10, seed=4, loss=everything_is_a_zero)
    assert len(seen) == 10 and all(
        len(index) == 64 and torch.equal(labels, data.train_y[index]) for index, labels in seen
    )
    assert zeros.test_accuracy == 36 / 359 and int((data.test_y == 0).sum()) == 36  # it answers 0, always


def test_training_runs_on_its_own_thread_count_and_gives_the_callers_back():
    during, few = [], replace(digits(), test_x=digits().test_x[:8], test_y=digits().test_y[:8])
    with num_threads(2):
        train(digits_se_spec(), steps=2, data=few, progress=lambda *_: during.append(torch.get_num_threads()))
        assert torch.get_num_threads() == 2
        train(
            digits_se_spec(),
            steps=1,
            data=few,
            threads=None,
            batch_size=8,
            progress=lambda *_: during.append(torch.get_num_threads()),
        )
    assert during == [TRAIN_THREADS, TRAIN_THREADS, 2] and TRAIN_THREADS == 1
