"""Knowledge distillation (Hinton, Vinyals & Dean, 2015): a small student learns from a big teacher's answers.

A trained teacher knows more than the labels say: that this 7 looks a bit like a 1 and not at all
like a 0. Softened by a temperature, its class probabilities carry that knowledge, and a student
trained to match them (as well as the labels) can learn more from the same pictures, given enough steps.

The teacher is only ever run in eval mode without gradients, once over the training pictures
(they are not augmented, so its answers never change); the student trains in
:func:`lwviz.train.loop.train`'s loop with a distillation loss, so progress, stopping, the
schedule and the seeding are the same as without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lwviz.builder import Net
from lwviz.data import DIGITS_CLASSES, DIGITS_SIZE, Dataset, digits
from lwviz.spec import Head, Spec, Stage, Stem
from lwviz.train.loop import History, Loss, TrainingProgress, evaluate, train

TEMPERATURE = 2.0  # softens the teacher's answers enough to show which wrong classes it finds close
ALPHA = 0.5  # weight of the teacher's soft targets; the rest goes to the labels
TEACHER_STEPS = 150
# Distillation needs patience (Beyer et al., 2022). On the digits (359 held out: one is 0.28 points), a half-width
# digits_se student was 0.3-2.8 points worse distilled after 100 steps and 0-0.6 points better after 300;
# digits_se itself -0.6..+0.3 after 100 and -0.6..+1.7 after 300 (T=2, alpha=0.5, seeds 0-2). With T=4,
# alpha=0.9 the half-width student lost 8-18 points after 100 steps.
DISTILL_STEPS = 300


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    temperature: float = TEMPERATURE,
    alpha: float = ALPHA,
) -> torch.Tensor:
    """``alpha * T² * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * CE(student, labels)``.

    The KL divergence is summed over classes and averaged over the batch ("batchmean", the true KL
    per example). Why T²: the soft targets' gradient with respect to the student's logits is
    ``(p_student - p_teacher) / T``, and for large T the difference itself shrinks as ``1 / T``, so
    the gradient shrinks as ``1 / T²``. Multiplying by T² keeps the teacher's share of the gradient
    the same at any temperature, so ``alpha`` means the same thing whichever T is chosen.
    """
    _check(temperature, alpha)
    soft = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=1),
        F.log_softmax(teacher_logits / temperature, dim=1),
        reduction="batchmean",
        log_target=True,
    )
    return alpha * temperature**2 * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def _check(temperature: float, alpha: float) -> None:
    if temperature <= 0:
        raise ValueError(f"temperature: {temperature} must be above 0")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha: {alpha} is outside 0..1")


def teacher_logits(teacher: nn.Module, data: Dataset, batch_size: int = 512) -> torch.Tensor:
    """The teacher's logits ``[N, classes]`` for every training picture; the teacher is only read.

    It must already be in eval mode: in train mode its batch norms would update their statistics
    and its dropout would make its answers random.
    """
    if teacher.training:
        raise ValueError("teacher: must be in eval mode (call .eval() on it first)")
    with torch.no_grad():  # not inference_mode: these logits become targets in the student's autograd graph
        logits = torch.cat([teacher(data.train_x[i : i + batch_size]) for i in range(0, len(data.train_x), batch_size)])
    if logits.shape != (len(data.train_x), len(data.classes)):
        raise ValueError(
            f"teacher: answers with shape {tuple(logits.shape[1:])} per picture, {data.name} needs "
            f"({len(data.classes)},) (one logit per class)"
        )
    return logits


def distilling(teacher: nn.Module, data: Dataset, temperature: float = TEMPERATURE, alpha: float = ALPHA) -> Loss:
    """A :data:`~lwviz.train.loop.Loss` that distills ``teacher`` into the model being trained on ``data``."""
    _check(temperature, alpha)  # before the teacher's pass, not at the first step
    targets = teacher_logits(teacher, data)

    def loss(logits: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return distillation_loss(logits, targets[index], labels, temperature, alpha)

    return loss


def distill(
    student_spec: Spec,
    teacher: nn.Module,
    steps: int = DISTILL_STEPS,
    temperature: float = TEMPERATURE,
    alpha: float = ALPHA,
    seed: int = 0,
    data: Dataset | None = None,
    progress: TrainingProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[Net, History]:
    """Train a fresh student of ``student_spec`` on ``data`` (default: the digits) from ``teacher``'s answers.

    ``teacher`` is any eval-mode module reading ``data``'s inputs; it is never modified. With the
    same seed the student starts from the same weights and sees the same minibatches as
    ``train(student_spec, ...)``: only the loss differs (and ``alpha=0`` gives exactly that run).
    """
    data = data if data is not None else digits(student_spec.resolution)
    return train(
        student_spec, steps, progress, should_stop, seed, data, loss=distilling(teacher, data, temperature, alpha)
    )


def digits_teacher_spec() -> Spec:
    """A plain standard-convolution CNN for 32x32 digits: the kind of network lightweight designs replace.

    4x the parameters and 3.7x the MACs of :func:`~lwviz.train.loop.digits_se_spec` (163k, 5.5M),
    yet quicker to train on a CPU, where dense 3x3 convolutions run best: ``TEACHER_STEPS`` steps
    take it past 98% on the held-out digits (tests/test_distill.py; time in docs/BENCHMARKS.md).
    """
    return Spec(
        name="digits_teacher",
        stem=Stem(chs=24, kernel=3, stride=2, act="relu"),
        stages=(
            Stage("conv", repeats=1, kernel=3, stride=1, out_chs=24, act="relu"),
            Stage("conv", repeats=2, kernel=3, stride=2, out_chs=48, act="relu"),
            Stage("conv", repeats=2, kernel=3, stride=2, out_chs=96, act="relu"),
        ),
        head=Head(chs=0, act="relu", dropout=0.2),
        resolution=DIGITS_SIZE,
        num_classes=len(DIGITS_CLASSES),
    ).validate()


@dataclass(frozen=True, eq=False)
class Comparison:
    """One student trained twice from the same start on the same minibatches: from the labels, and distilled."""

    plain: History
    distilled: History
    teacher_accuracy: float  # the teacher's, on the same held-out pictures
    student: Net  # the distilled one (eval mode), for the Compress page's table

    @property
    def gain(self) -> float:
        """Held-out accuracy distillation added (negative: it cost)."""
        return self.distilled.test_accuracy - self.plain.test_accuracy


def compare(
    student_spec: Spec,
    teacher: nn.Module,
    steps: int = DISTILL_STEPS,
    temperature: float = TEMPERATURE,
    alpha: float = ALPHA,
    seed: int = 0,
    data: Dataset | None = None,
    progress: TrainingProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Comparison:
    """The student's accuracy without and with distillation: same steps, same seed, same pictures.

    ``progress(step, 2 * steps, loss)`` counts both runs; a stop ends the run under way, and the
    distilled run then takes no steps.
    """
    data = data if data is not None else digits(student_spec.resolution)
    loss = distilling(teacher, data, temperature, alpha)  # checks the teacher before any training

    def counting_from(done: int) -> TrainingProgress | None:
        return None if progress is None else lambda step, total, value: progress(done + step, 2 * total, value)

    _, plain = train(student_spec, steps, counting_from(0), should_stop, seed, data)
    student, distilled = train(student_spec, steps, counting_from(plain.steps), should_stop, seed, data, loss=loss)
    return Comparison(plain, distilled, evaluate(teacher, data.test_x, data.test_y), student)
