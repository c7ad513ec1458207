import math

import pytest
import torch
import torch.nn.functional as F

from lwviz.compress.distill import (
    TEACHER_STEPS,
    compare,
    digits_teacher_spec,
    distill,
    distillation_loss,
    teacher_logits,
)
from lwviz.cost import analyze
from lwviz.data import digits
from lwviz.perf import num_threads
from lwviz.train.loop import digits_se_spec, evaluate, train

STUDENT = digits_se_spec()


@pytest.fixture(scope="module")
def teacher():
    """The standard-conv digits teacher, trained once for this module as the Train page trains it."""
    with num_threads(1):
        return train(digits_teacher_spec(), TEACHER_STEPS)


def test_loss_matches_a_hand_computation():
    # T = 2 halves the logits: the student's rows become [ln 2, 0, 0] and [0, 0, 0], softmax [1/2, 1/4, 1/4] and
    # [1/3, 1/3, 1/3]; the teacher's become [0, 0, 0] and [ln 3, 0, 0], softmax [1/3, 1/3, 1/3] and [3/5, 1/5, 1/5].
    student = torch.tensor([[2 * math.log(2), 0, 0], [0, 0, 0]], dtype=torch.float64)
    teacher = torch.tensor([[0, 0, 0], [2 * math.log(3), 0, 0]], dtype=torch.float64)
    labels = torch.tensor([0, 2])
    kl = (
        math.log((1 / 3) / (1 / 2)) / 3
        + 2 * math.log((1 / 3) / (1 / 4)) / 3  # sum of p_t * log(p_t / p_s)
        + 3 / 5 * math.log((3 / 5) / (1 / 3))
        + 2 * 1 / 5 * math.log((1 / 5) / (1 / 3))
    ) / 2  # batch mean
    ce = (-math.log(2 / 3) - math.log(1 / 3)) / 2  # at T = 1 the student's softmax is [2/3, 1/6, 1/6] and uniform
    expected = 0.5 * 2**2 * kl + 0.5 * ce
    assert expected == pytest.approx(0.5809944, abs=1e-6)
    assert distillation_loss(student, teacher, labels, temperature=2.0, alpha=0.5).item() == pytest.approx(
        expected, abs=1e-6
    )


def test_alpha_zero_is_plain_cross_entropy_and_alpha_one_is_t_squared_kl():
    student, teacher, labels = torch.randn(8, 10), torch.randn(8, 10), torch.randint(10, (8,))
    assert torch.equal(distillation_loss(student, teacher, labels, 3.0, alpha=0.0), F.cross_entropy(student, labels))
    for t in (1.0, 2.0, 5.0):
        p_teacher, log_p_student = F.softmax(teacher / t, 1), F.log_softmax(student / t, 1)
        kl = (p_teacher * (p_teacher.log() - log_p_student)).sum(1).mean()
        assert distillation_loss(student, teacher, labels, t, alpha=1.0).item() == pytest.approx(
            t**2 * kl.item(), rel=1e-5
        )


def test_t_squared_keeps_the_gradient_at_high_temperature():
    """Hinton et al.: at high T the soft-target gradient becomes logit matching, (z_s - z_t) / classes per example,
    whatever T: the T² factor undoes the 1/T² the softening costs."""
    student = torch.randn(4, 5, dtype=torch.float64)
    teacher = torch.randn(4, 5, dtype=torch.float64)
    student, teacher = student - student.mean(1, keepdim=True), teacher - teacher.mean(1, keepdim=True)
    matching = (student - teacher) / 5 / 4  # per class of 5, averaged over the batch of 4
    for t in (100.0, 1000.0):
        logits = student.clone().requires_grad_(True)
        distillation_loss(logits, teacher, torch.zeros(4, dtype=torch.long), t, alpha=1.0).backward()
        assert torch.allclose(logits.grad, matching, atol=2 / t * matching.abs().max().item())


def test_bad_temperature_or_alpha():
    x, y = torch.zeros(1, 3), torch.zeros(1, dtype=torch.long)
    with pytest.raises(ValueError, match="temperature: 0.0 must be above 0"):
        distillation_loss(x, x, y, temperature=0.0)
    with pytest.raises(ValueError, match=r"alpha: 1.5 is outside 0..1"):
        distillation_loss(x, x, y, alpha=1.5)


def test_the_teacher_is_bigger_than_the_student_and_learns_the_digits(teacher):
    model, history = teacher
    assert history.test_accuracy >= 0.98, history.test_accuracy
    assert history.steps == TEACHER_STEPS and not model.training
    teacher_cost, student_cost = analyze(digits_teacher_spec()), analyze(STUDENT)
    assert teacher_cost.params > 3 * student_cost.params and teacher_cost.macs > 3 * student_cost.macs
    kinds = {op.kind for op in teacher_cost.ops}
    assert "standard" in kinds and "depthwise" not in kinds


def test_distilling_leaves_the_teacher_untouched(teacher):
    model = teacher[0]
    before = {name: value.clone() for name, value in model.state_dict().items()}
    assert all(p.grad is None for p in model.parameters())  # training hands back a model without gradients
    modes = [m.training for m in model.modules()]
    distill(STUDENT, model, steps=3)
    assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())  # and distilling puts none into the teacher
    assert [m.training for m in model.modules()] == modes
    model.train()
    try:
        with pytest.raises(ValueError, match=r"teacher: must be in eval mode \(call .eval\(\) on it first\)"):
            distill(STUDENT, model, steps=1)
        assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())
    finally:
        model.eval()


def test_a_teacher_with_other_classes_is_refused(teacher):
    wrong = train(digits_teacher_spec().with_(num_classes=12), steps=1)[0]
    with pytest.raises(ValueError, match=r"teacher: answers with shape \(12,\) per picture, digits needs \(10,\)"):
        teacher_logits(wrong, digits())


def test_same_seed_same_student_and_alpha_zero_is_plain_training(teacher):
    model = teacher[0]
    a = distill(STUDENT, model, steps=3, seed=1)[1]
    b = distill(STUDENT, model, steps=3, seed=1)[1]
    assert a.losses == b.losses and a.test_accuracy == b.test_accuracy
    assert distill(STUDENT, model, steps=3, seed=2)[1].losses != a.losses
    assert distill(STUDENT, model, steps=3, seed=1, alpha=0.0)[1].losses == train(STUDENT, steps=3, seed=1)[1].losses


def test_a_short_distillation_learns_the_digits(teacher):
    """100 distilled steps of the small SE network reach at least 95% on held-out digits (96.9-98.3% measured
    with seeds 0-2)."""
    with num_threads(1):
        model, history = distill(STUDENT, teacher[0], steps=100)
    assert history.test_accuracy >= 0.95, history.test_accuracy
    assert history.steps == 100 and not model.training
    assert evaluate(model, digits().test_x, digits().test_y) == history.test_accuracy


def test_compare_runs_the_student_twice_from_the_same_start(teacher):
    model = teacher[0]
    calls = []
    comparison = compare(
        STUDENT, model, steps=4, seed=3, progress=lambda step, total, loss: calls.append((step, total))
    )
    assert calls == [(step, 8) for step in range(1, 9)]
    assert comparison.plain.losses == train(STUDENT, steps=4, seed=3)[1].losses
    assert comparison.distilled.losses == distill(STUDENT, model, steps=4, seed=3)[1].losses
    assert comparison.teacher_accuracy == teacher[1].test_accuracy
    assert comparison.gain == comparison.distilled.test_accuracy - comparison.plain.test_accuracy
