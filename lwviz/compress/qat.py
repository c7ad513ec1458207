"""Quantization-aware training: a trained network fine-tuned with int8 rounding in its forward pass.

Post-training quantization (:func:`~lwviz.compress.quantize.quantize_int8`) rounds a finished
network and hopes it copes. Quantization-aware training lets it learn to: a copy whose every
convolution, activation and weight is rounded to its int8 grid on the way forward (gradients pass
through the rounding as if it were not there) trains for a few more steps on its own pictures,
then becomes the same kind of int8 network. It costs training time and needs the labelled data;
it matters when rounding costs accuracy (narrow layers, hard tasks), and changes little when
post-training int8 already matches float.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.ao.nn.intrinsic import qat as nniqat

from lwviz.builder import Net
from lwviz.compress.quantize import Int8Net, convert_int8, prepare_int8
from lwviz.data import Dataset
from lwviz.perf import num_threads
from lwviz.train.loop import TRAIN_THREADS, TrainingProgress, fit, spread

QAT_STEPS = 60  # a few seconds for the digits SE network (docs/BENCHMARKS.md, training on the digits)
QAT_LR = 2e-4  # a twentieth of training's: fine-tuning a trained network, not teaching it anew
RANGE_PICTURES = 256  # run through once before the first step, so every int8 range starts from real activations


def quantize_aware(
    model: Net,
    data: Dataset,
    steps: int = QAT_STEPS,
    seed: int = 0,
    lr: float = QAT_LR,
    progress: TrainingProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    engine: str | None = None,
) -> Int8Net:
    """An int8 copy of trained, eval-mode ``model`` after ``steps`` of quantization-aware training on ``data``.

    ``model`` is left untouched. Batch norm keeps the statistics training ended with (they are
    frozen): each step then computes exactly what the int8 network will. The int8 ranges start
    from ``RANGE_PICTURES`` training pictures and follow the activations as they learn. Seeded like
    :func:`~lwviz.train.loop.train`; ``progress`` and ``should_stop`` as there (stopped before
    the first step, the result is post-training int8 with those ranges).
    """
    if model.training:
        raise ValueError("model: it is in training mode; quantize an eval() model")
    if steps < 1:
        raise ValueError(f"steps: {steps} is outside 1..")
    example = data.train_x[:1]
    with num_threads(TRAIN_THREADS), torch.random.fork_rng():
        torch.manual_seed(seed)
        learner = prepare_int8(model, example, engine, qat=True)
        learner.apply(nniqat.freeze_bn_stats)
        with torch.no_grad():
            learner(data.train_x[spread(len(data.train_x), RANGE_PICTURES)])
        fit(learner, data, steps, lr=lr, progress=progress, should_stop=should_stop)
    return convert_int8(learner, example, engine)
