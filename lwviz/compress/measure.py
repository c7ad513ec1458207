"""What compressing a network changed, measured: file size, non-zero weights, latency, agreement with float.

Each measurement is a small function that takes any model, float or quantized, so the Compression
page, ``lwviz compress`` and the benchmarks show the same numbers. ``compare_quantized`` puts them
in one table for the float model and its int8 variants.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import partial

import torch
from torch import nn

from lwviz.builder import Net, build
from lwviz.compress.quantize import Int8Net, quantize_dynamic_int8, quantize_int8
from lwviz.compress.quantize_calibration import calibration_images
from lwviz.compress.quantize_engines import RUN_THREADS
from lwviz.compress.quantize_trace import traced
from lwviz.perf import num_threads
from lwviz.spec import Spec
from lwviz.timing import median_ms
from lwviz.train.batchnorm import BATCH_NORMS, recalibrate_batchnorm
from lwviz.weights.preprocess import Preprocess


def as_float(model: nn.Module, _photos: torch.Tensor) -> nn.Module:
    """The float model itself: the row every other variant is compared with."""
    return model


def as_dynamic_int8(model: nn.Module, _photos: torch.Tensor) -> nn.Module:
    """``quantize_dynamic_int8``, which needs no photos."""
    return quantize_dynamic_int8(model)


# variant name -> how it is made from (the float model, the calibration photos). The float model is never changed.
VARIANTS: dict[str, Callable[[nn.Module, torch.Tensor], nn.Module]] = {
    "float": as_float,
    "int8 dynamic": as_dynamic_int8,
    "int8 static": quantize_int8,
}


def file_size(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())``: what the weights take on disk (int8 modules included)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


def nonzero_params(model: nn.Module) -> int:
    """Weights and biases that are not zero, counted in float parameters and in int8 modules alike.

    Quantized modules keep their weights packed for the int8 kernels instead of as parameters;
    ``weight()`` and ``bias()`` unpack them. A weight that rounds to int8 zero counts as zero.
    """
    return sum(int(torch.count_nonzero(t.dequantize() if t.is_quantized else t)) for t in _weights(model))


def _weights(model: nn.Module) -> Iterator[torch.Tensor]:
    for module in model.modules():
        yield from module.parameters(recurse=False)
        for name in ("weight", "bias"):
            if callable(getattr(type(module), name, None)):  # an int8 module's accessor, not a parameter
                if (tensor := getattr(module, name)()) is not None:
                    yield tensor


def as_run(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """What the app runs for ``model``: an int8 network as its traced graph (``traced``), anything else as it is."""
    return traced(model, example) if isinstance(model, Int8Net) else model


def latency_ms(model: nn.Module, example: torch.Tensor, runs: int = 20, warmup: int = 3) -> float:
    """Median milliseconds of ``model(example)`` as the app runs it (``as_run``) on one thread, after ``warmup`` passes.

    One thread is a phone core, and what the camera page uses; torch's thread count is restored.
    """
    return _median_ms(as_run(model, example), example, runs, warmup)


def latencies_ms(models: list[nn.Module], example: torch.Tensor, runs: int = 20, round_runs: int = 5) -> list[float]:
    """``latency_ms`` of each model, timed in alternating rounds of ``round_runs`` passes: the median round.

    Anything else the machine does then slows every model alike, so their ratios hold on a busy
    laptop too, where timing one model after the other can be off by a third.
    """
    running = [as_run(m, example) for m in models]
    rounds = [
        [_median_ms(m, example, round_runs, warmup=1) for m in running] for _ in range(max(1, runs // round_runs))
    ]
    return [statistics.median(times) for times in zip(*rounds)]


@torch.inference_mode()
def _median_ms(model: nn.Module, example: torch.Tensor, runs: int, warmup: int) -> float:
    """``median_ms`` of ``model(example)`` on ``RUN_THREADS`` threads."""
    with num_threads(RUN_THREADS):
        return median_ms(partial(model, example), runs, warmup)


@torch.inference_mode()
def agreement(reference: nn.Module, variant: nn.Module, inputs: torch.Tensor) -> float:
    """The fraction (0..1) of ``inputs`` on which ``variant``'s top-1 class is ``reference``'s."""
    return (reference(inputs).argmax(1) == variant(inputs).argmax(1)).float().mean().item()


@dataclass(frozen=True)
class VariantReport:
    """One row of the comparison: a variant of the float model and what it costs."""

    variant: str  # a key of VARIANTS
    size_bytes: int  # file_size
    params_nonzero: int  # nonzero_params
    latency_ms: float  # latency_ms: median, batch 1, one thread
    agreement: float  # top-1 agreement with the float model on the calibration photos, 0..1
    float_layers: tuple[str, ...] = ()  # layers int8 could not run, left in float

    def to_dict(self) -> dict:
        return {**asdict(self), "float_layers": list(self.float_layers)}


def compare_quantized(model: nn.Module, preprocess: Preprocess, runs: int = 20) -> list[VariantReport]:
    """Float, int8 dynamic and int8 static ``model`` side by side (``model`` is left untouched).

    The photos are ``calibration_images(preprocess)``: int8 static sets its ranges on them, and
    agreement is measured on the same photos: how faithfully each variant reproduces float there,
    not a held-out accuracy. Latency is timed in alternating rounds (see ``latencies_ms``).
    """
    photos = calibration_images(preprocess)
    variants = {name: make(model, photos) for name, make in VARIANTS.items()}
    latencies = latencies_ms(list(variants.values()), photos[:1], runs)
    return [
        VariantReport(
            name,
            file_size(variant),
            nonzero_params(variant),
            ms,
            agreement(model, variant, photos),
            tuple(getattr(variant, "float_layers", ())),
        )
        for (name, variant), ms in zip(variants.items(), latencies)
    ]


def with_random_weights(spec: Spec, photos: torch.Tensor, seed: int = 0) -> Net:
    """``spec`` untrained: seeded random weights, batch-norm statistics measured on ``photos``, eval mode.

    A fresh model's batch norms expect mean 0 and variance 1, which its random convolutions do not
    produce, so activations grow or fade layer by layer and the int8 ranges observed on them teach
    nothing. Measuring the statistics on the photos (``recalibrate_batchnorm``) sets them as training
    would; the weights stay random, so its classes mean nothing and agreement with it says little.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = build(spec).eval()
    if not any(isinstance(m, BATCH_NORMS) for m in model.modules()):
        return model  # SqueezeNet: nothing to measure
    return recalibrate_batchnorm(model, photos, batch_size=len(photos))
